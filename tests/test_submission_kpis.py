"""Timeliness and accuracy from the submission log, scored against the 95% targets."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import sqlalchemy as sa
from intake_fixtures import received, sample_csv
from scheduler_fixtures import LIFESTYLE, SAM, app_on, return_file, scheduler_deployment
from scheduler_fixtures import at as sched_at
from scheduler_fixtures import received as sched_received
from sqlmodel import Session, col, select

from bot.app import App
from bot.assessment.submission_kpis import record_service_failures, submission_kpis
from bot.intake.service import Intake
from bot.reports.exception_report import data_kpi_row
from bot.reports.stored import contract_period_status, return_report
from bot.storage.models import Contract, IndicatorResultRow, ServiceFailureRow
from bot.storage.sync import ensure_obligations
from kpi_core import loader
from kpi_core.calendar import parse_period
from kpi_core.escalation import ServiceFailureRule
from kpi_core.scoring import score


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def test_timeliness_and_accuracy_over_a_sequence_of_returns(intake: Intake) -> None:
    """Q1 on time; Q2 late; Q3 rejected then corrected on time; Q4 on time then corrected; 2026-27 Q1 missing."""
    with Session(intake.engine) as session:
        contract = session.get(Contract, "ch-stop-smoking")
        ensure_obligations(session, contract, date(2026, 9, 30))  # type: ignore[arg-type]
        session.commit()
    good, bad = sample_csv(seed=1), b"item,breakdown,value\nquit_dates,,-1\n"
    steps = [
        ("q1", "2025-26-Q1", date(2025, 7, 10), good, "accepted"),
        ("q2", "2025-26-Q2", date(2025, 10, 20), good, "accepted"),  # due 15 October: late
        ("q3a", "2025-26-Q3", date(2026, 1, 12), bad, "rejected"),
        ("q3b", "2025-26-Q3", date(2026, 1, 14), good, "accepted"),  # corrected before the due date
        ("q4a", "2025-26-Q4", date(2026, 4, 15), good, "accepted"),
        ("q4b", "2025-26-Q4", date(2026, 4, 20), sample_csv(seed=5), "accepted"),  # corrected after acceptance
    ]  # the annual return 2025-26 (due 30 April 2026) and 2026-27 Q1 never arrive
    for message, period, day, data, expected in steps:
        result = intake.submit(received(data, message_id=message, caption=period, at=at(day)))
        assert result.outcome == expected, (message, result.reply)
    with Session(intake.engine) as session:
        kpis = submission_kpis(session, "ch-stop-smoking", date(2026, 7, 14))
        later = submission_kpis(session, "ch-stop-smoking", date(2026, 7, 16))
    by_period = {r.obligation.period_id: r for r in kpis.records}
    assert {p: r.timely for p, r in by_period.items()} == {
        "2025-26-Q1": True, "2025-26-Q2": False, "2025-26-Q3": True, "2025-26-Q4": True, "2025-26": False}
    assert {p: r.accurate for p, r in by_period.items()} == {
        "2025-26-Q1": True, "2025-26-Q2": True, "2025-26-Q3": False, "2025-26-Q4": False, "2025-26": None}
    assert (kpis.due, kpis.timely, kpis.submitted, kpis.accurate) == (5, 3, 4, 2)
    assert kpis.timeliness == Fraction(60) and kpis.accuracy == Fraction(50)
    # Twelve months on, 2025-26 Q1 (due 15 July 2025) leaves the window and 2026-27 Q1 (missing) enters it.
    assert [r.obligation.period_id for r in later.records] == [
        "2025-26-Q2", "2025-26-Q3", "2025-26-Q4", "2025-26", "2026-27-Q1"]
    assert (later.due, later.timely, later.submitted, later.accurate) == (5, 2, 3, 1)
    # The annual return is missing (a run of 1); later 2026-27 Q1 is missing too, after an on-time Q4 (also 1).
    assert (kpis.consecutive_late, later.consecutive_late) == (1, 1)


def test_a_return_due_today_is_not_yet_counted(intake: Intake) -> None:
    with Session(intake.engine) as session:
        kpis = submission_kpis(session, "ch-stop-smoking", date(2025, 10, 15))
    assert [r.obligation.period_id for r in kpis.records] == ["2025-26-Q1"]
    assert kpis.timeliness == 0


def test_on_time_is_judged_on_the_london_date(intake: Intake) -> None:
    # 23:30 UTC on 15 October is 00:30 on 16 October in London (BST): one day late.
    late = datetime(2025, 10, 15, 23, 30, tzinfo=UTC)
    result = intake.submit(received(sample_csv(), caption="2025-26-Q2", at=late))
    assert result.on_time is False
    in_time = datetime(2025, 10, 15, 22, 30, tzinfo=UTC) - timedelta(minutes=1)
    again = intake.submit(received(sample_csv(seed=2), message_id="m2", caption="2025-26-Q1", at=in_time))
    assert again.on_time is False  # Q1 was due on 15 July
    with Session(intake.engine) as session:
        kpis = submission_kpis(session, "ch-stop-smoking", date(2025, 11, 1))
    assert {r.obligation.period_id: r.timely for r in kpis.records} == {"2025-26-Q1": False, "2025-26-Q2": False}


def test_three_consecutive_late_quarters_are_counted(intake: Intake) -> None:
    with Session(intake.engine) as session:
        ensure_obligations(session, session.get(Contract, "ch-stop-smoking"), date(2026, 4, 30))  # type: ignore[arg-type]
        session.commit()
    for message, period, day in [("a", "2025-26-Q1", date(2025, 7, 1)), ("b", "2025-26-Q2", date(2025, 10, 16)),
                                 ("c", "2025-26-Q3", date(2026, 1, 20))]:
        intake.submit(received(sample_csv(), message_id=message, caption=period, at=at(day)))
    with Session(intake.engine) as session:
        assert submission_kpis(session, "ch-stop-smoking", date(2026, 2, 1)).consecutive_late == 2
        assert submission_kpis(session, "ch-stop-smoking", date(2026, 4, 16)).consecutive_late == 3  # Q4 missing
        values = submission_kpis(session, "ch-stop-smoking", date(2026, 4, 16)).system_values()
    assert values[("returns_late_consecutive", "")] == 3


def test_a_service_failure_is_recorded_once_and_stays_after_an_on_time_return(intake: Intake) -> None:
    """Lifestyle 2.5: "If data or information is not submitted ... for three consecutive periods, then this will
    result in service failure". Q1-Q3 never arrive, Q4 comes on time: the run resets, the failure stays."""
    rule = ServiceFailureRule(3)
    with Session(intake.engine) as session:
        contract = session.get(Contract, "ch-stop-smoking")
        ensure_obligations(session, contract, date(2026, 4, 10))  # type: ignore[arg-type]
        session.commit()
    result = intake.submit(received(sample_csv(seed=2), message_id="q4", caption="2025-26-Q4", at=at(date(2026, 4, 14))))
    assert result.outcome == "accepted"
    now = at(date(2026, 4, 20))
    with Session(intake.engine) as session:
        kpis = submission_kpis(session, "ch-stop-smoking", date(2026, 4, 20), rule=rule)
        assert kpis.consecutive_late == 0
        (failure,) = kpis.service_failures
        assert failure.periods == ("2025-26-Q1", "2025-26-Q2", "2025-26-Q3")
        assert kpis.system_values()[("service_failures_12m", "")] == 1
        (row,) = record_service_failures(session, "ch-stop-smoking", date(2026, 4, 20), rule, now)
        assert (row.periods, row.occurred) == ("2025-26-Q1,2025-26-Q2,2025-26-Q3", date(2026, 1, 15))
        session.commit()
        assert record_service_failures(session, "ch-stop-smoking", date(2026, 4, 21), rule, now) == []
        assert len(session.exec(select(ServiceFailureRow)).all()) == 1
        # Without the rule (the City and Hackney schedule has none) nothing is a service failure.
        assert submission_kpis(session, "ch-stop-smoking", date(2026, 4, 20)).service_failures == ()
        # A year after it happened (15 January 2026), it leaves the record.
        assert submission_kpis(session, "ch-stop-smoking", date(2027, 1, 15), rule=rule).service_failures == ()


# ----------------------------------------------------------------------------- counted the same in every report
# Issue 20, item 7: "Keep timeliness (was it on time) and accuracy (was it right at the first submission, or
# corrected later) apart. Count every return the same way in every report."


def lifestyle_app(tmp_path: Path, engine: sa.Engine) -> App:
    settings = scheduler_deployment(tmp_path, str(engine.url.render_as_string(hide_password=False)), LIFESTYLE)
    return app_on(settings, engine, date(2025, 12, 1))


def data_kpis(engine: sa.Engine, submission_id: int | None) -> dict[str, tuple[object, object]]:
    """DS.1, DS.2 and DS.3a of a stored return: (numerator, denominator), or the value for a count."""
    with Session(engine) as session:
        rows = session.exec(select(IndicatorResultRow).where(IndicatorResultRow.submission_id == submission_id,
                                                             col(IndicatorResultRow.ref).in_(["DS.1", "DS.2",
                                                                                              "DS.3a"]))).all()
    return {r.ref: (r.detail["numerator"], r.detail["denominator"]) if r.ref != "DS.3a" else (r.value, None)
            for r in rows}


def test_a_late_return_counts_as_late_and_as_accurate_in_its_own_report(engine: sa.Engine, tmp_path: Path) -> None:
    """Lifestyle 2.5 a) and b) are two KPIs: a return right first time but five days late is 0 of 1 on time and
    1 of 1 accurate (it was counted inaccurate while it was still being processed)."""
    app = lifestyle_app(tmp_path, engine)
    late = app.intake.submit(sched_received(SAM, return_file("lifestyle", "quarterly"), "2025-26-Q1",
                                            sched_at(date(2026, 2, 20)), "late"))
    assert (late.outcome, late.on_time) == ("accepted", False)
    assert data_kpis(engine, late.submission_id) == {"DS.1": (0, 1), "DS.2": (1, 1), "DS.3a": (1.0, None)}


def test_the_return_report_and_the_exception_report_of_the_same_day_count_the_same_returns(
        engine: sa.Engine, tmp_path: Path) -> None:
    """Q1 and Q2 both on time: Q2's own report counts itself (2 of 2), as the exception report drawn that day does;
    the report once said 1 of 1 and the exception report 2 of 2."""
    app = lifestyle_app(tmp_path, engine)
    for period, day, tag in (("2025-26-Q1", date(2026, 2, 12), "q1"), ("2025-26-Q2", date(2026, 5, 12), "q2")):
        result = app.intake.submit(sched_received(SAM, return_file("lifestyle", "quarterly"), period,
                                                  sched_at(day), tag))
        assert (result.outcome, result.on_time) == ("accepted", True)
    assert data_kpis(engine, result.submission_id)["DS.1"] == (2, 2)
    assert data_kpis(engine, result.submission_id)["DS.2"] == (2, 2)
    with Session(engine) as session:
        contract = session.get(Contract, "lifestyle")
        assert contract is not None
        status = contract_period_status(session, app.files, app.settings, contract,
                                        parse_period("2025-26-Q2", 11), date(2026, 5, 12))
    assert status.timeliness is not None and status.accuracy is not None
    assert (status.timeliness.achieved, status.timeliness.out_of) == (2, 2)
    assert (status.accuracy.achieved, status.accuracy.out_of) == (2, 2)
    row = data_kpi_row("One You", status.timeliness)
    assert (row.value, row.status.key if row.status else None) == ("100% (2 of 2)", "green")
    with Session(engine) as session:  # the return report drawn again from the stored return says the same
        again = return_report(session, app.files, app.settings, "lifestyle", "2025-26-Q2")
    fractions = {r.ref: r.fraction for section in again.sections for r in section.rows}
    assert (fractions["DS.1"], fractions["DS.2"]) == ("2 of 2", "2 of 2")


def test_an_on_time_return_ends_the_run_of_late_periods_in_its_own_report(engine: sa.Engine, tmp_path: Path) -> None:
    """Q1 and Q2 late, Q3 on time: Q3's report shows no run of late periods (it once showed 2)."""
    app = lifestyle_app(tmp_path, engine)
    for period, day, tag in (("2025-26-Q1", date(2026, 2, 20), "q1"), ("2025-26-Q2", date(2026, 5, 20), "q2"),
                             ("2025-26-Q3", date(2026, 8, 10), "q3")):
        result = app.intake.submit(sched_received(SAM, return_file("lifestyle", "quarterly"), period,
                                                  sched_at(day), tag))
        assert result.outcome == "accepted"
    assert data_kpis(engine, result.submission_id)["DS.3a"] == (0.0, None)
    assert data_kpis(engine, result.submission_id)["DS.1"] == (1, 3)


def test_counts_of_every_return_are_never_too_few_to_call() -> None:
    """Timeliness and accuracy count every return, not a sample: 1 of 1 on time is not "too few to call"."""
    framework = loader.get("lifestyle")
    values = {("returns_due", ""): Fraction(1), ("returns_on_time", ""): Fraction(1),
              ("returns_submitted", ""): Fraction(1), ("returns_accurate", ""): Fraction(1)}
    card = score(framework, "quarterly", parse_period("2025-26-Q1", 11), values)
    for ref in ("DS.1", "DS.2"):
        result = card.result(ref)
        assert (result.status, result.low_confidence, result.confidence_note, result.interval) == (
            "green", False, "", None)
