"""What follows from the review, on a real database of each kind: queries chased by the scheduler like returns,
the digest and `kpibot status` saying what waits on whom, the accuracy of returns counting corrections after a
query and inaccurate spot checks (saying why), reports showing the review history and the payments a person
confirmed, and a database from before reviews began getting a review for every version in force."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from click.testing import CliRunner
from intake_fixtures import ALICE, DAVE
from pypdf import PdfReader
from review_fixtures import CAROL, CONTRACT, Q2, QUARTERS, Desk
from sqlmodel import Session, col, select

from bot.assessment.submission_kpis import submission_kpis
from bot.cli import main
from bot.reports.exception_report import build_exception_report
from bot.reports.render import render_return_report
from bot.reports.stored import contract_period_status, return_report
from bot.review.payments import confirm_payments
from bot.storage import db
from bot.storage.models import Contract, OutboxMessage
from bot.storage.review_models import Review, ReviewEvent
from jobs.sweep import sweep
from kpi_core.calendar import parse_period
from kpi_core.terms import TermOverrides

LONDON = ZoneInfo("Europe/London")


def morning(day: date) -> datetime:
    return datetime.combine(day, time(9, 30), LONDON).astimezone(UTC)


def sent(desk: Desk, kind: str) -> list[OutboxMessage]:
    with Session(desk.engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                 .order_by(col(OutboxMessage.id))))


def test_an_unanswered_query_is_reminded_then_chased_until_it_is_answered(desk: Desk) -> None:
    desk.submit()
    desk.query()  # Wednesday 1 October 2025: to be answered in 5 working days, by Wednesday 8 October
    sweep(desk.engine, desk.settings, desk.files, morning(date(2025, 10, 3)))
    assert sent(desk, "query_reminder") == []  # not yet
    for _ in range(2):  # a second sweep the same day queues nothing more
        sweep(desk.engine, desk.settings, desk.files, morning(date(2025, 10, 6)))
    reminders = sent(desk, "query_reminder")
    assert sorted(m.address for m in reminders) == [ALICE, DAVE]
    assert reminders[0].subject.startswith("Reminder: the council's query on City and Hackney")
    assert "answer is due in 2 days: by Wednesday 8 October 2025" in reminders[0].body_text
    sweep(desk.engine, desk.settings, desk.files, morning(date(2025, 10, 9)))
    overdue = sent(desk, "query_overdue")
    assert len(overdue) == 2 and "the answer is 1 day overdue" in overdue[0].body_text
    desk.answer(at=morning(date(2025, 10, 10)))
    sweep(desk.engine, desk.settings, desk.files, morning(date(2025, 10, 16)))
    assert len(sent(desk, "query_overdue")) == 2  # answered: chasing stopped
    for message in reminders + overdue:
        assert not re.search(r"quits_4wk|ch-stop-smoking|kpibot \\w", message.body_text)


def test_the_digest_says_what_waits_for_review_and_which_queries_are_overdue(desk: Desk) -> None:
    desk.submit("2025-26-Q1")  # waits for the council
    desk.submit()
    desk.query()  # waits for the provider, due Wednesday 8 October
    sweep(desk.engine, desk.settings, desk.files, morning(date(2025, 10, 13)))  # Monday: the digest
    [digest] = [m for m in sent(desk, "digest") if m.address == CAROL]
    assert "1 return to review, 1 query overdue" in digest.subject
    text = digest.body_text
    assert text.index("QUERIES OVERDUE") < text.index("WAITING FOR YOUR REVIEW")  # what is overdue first
    assert "Q2 2025-26 (July 2025 to September 2025), version 1: queried on 1 October 2025" in text
    assert "(OVERDUE)" in text and "Q1 2025-26 (April 2025 to June 2025), version 1: waiting for the council's" \
                                   " review since" in text


def test_status_counts_what_waits_on_whom(desk: Desk) -> None:
    desk.submit("2025-26-Q1")
    desk.submit()
    desk.query()
    result = CliRunner().invoke(main, ["--config", desk.settings.source, "status", "--contract", CONTRACT],
                                catch_exceptions=False, env={"KPIBOT_TELEGRAM_TOKEN": "", "DATABASE_URL": ""})
    assert result.exit_code == 0, result.output
    assert "Review: 1 return waiting for the council; 1 query waiting for providers" in result.output
    rows = {line.split()[1]: line for line in result.output.splitlines() if line.startswith("quarterly")}
    assert "to review" in rows["2025-26-Q1"] and "queried" in rows["2025-26-Q2"]


def test_a_correction_after_a_query_and_an_inaccurate_spot_check_count_against_accuracy_and_say_why(
        desk: Desk) -> None:
    desk.submit("2025-26-Q1")
    desk.spot_check(accurate=False, period="2025-26-Q1")
    desk.submit()
    desk.query()
    desk.submit(quits=100, at=datetime(2025, 10, 2, 9, tzinfo=UTC))  # the correction
    with Session(desk.engine) as session:
        kpis = submission_kpis(session, CONTRACT, date(2026, 1, 31))
    why = {r.obligation.period_id: r.why_inaccurate for r in kpis.records if r.accurate is False}
    assert why == {"2025-26-Q1": ("a spot check on 1 October 2025 found the figures inaccurate",),
                   Q2: ("corrected after the council's query of 1 October 2025",)}
    assert (kpis.accurate, kpis.submitted) == (0, 2)


def test_a_spot_check_tells_the_provider_how_it_counts_when_the_contract_has_accuracy_terms(desk: Desk) -> None:
    contracts = tuple(c.model_copy(update={"terms": TermOverrides.model_validate(
        {"data_submission": {"timeliness_target": 95, "accuracy_target": 90}})}) if c.id == CONTRACT else c
        for c in desk.settings.contracts)
    desk.settings = desk.settings.model_copy(update={"contracts": contracts})
    desk.submit()
    outcome = desk.spot_check(accurate=False)
    assert "counts against the accuracy of returns (target 90%)" in outcome.text
    [told] = [m for m in desk.messages() if m.address == ALICE]
    assert "found them inaccurate" in told.body_text and "counts against the accuracy of returns (target 90%)" \
        in told.body_text and "Please send a corrected return" in told.body_text


def test_the_return_report_shows_the_review_history_and_the_payment_a_person_confirmed(desk: Desk) -> None:
    for quarter in QUARTERS:
        desk.submit(quarter)
    desk.query(period=QUARTERS[3], reason="1.5: the quit rate is above every earlier quarter's",
               at=morning(date(2026, 4, 13)))
    desk.answer(text="Checked against the clinic records: the figures stand.", at=morning(date(2026, 4, 14)))
    for quarter in QUARTERS:
        desk.sign_off(period=quarter, at=morning(date(2026, 4, 15)))
    confirm_payments(desk.engine, desk.settings, desk.files, desk.act(CAROL, at=morning(date(2026, 5, 20))),
                     CONTRACT, "2025-26")
    with Session(desk.engine) as session:
        report = return_report(session, desk.files, desk.settings, CONTRACT, QUARTERS[3])
        contract = session.get(Contract, CONTRACT)
        assert contract is not None
        status = contract_period_status(session, desk.files, desk.settings, contract,
                                        parse_period(QUARTERS[3], 4), date(2026, 5, 20))
    assert report.review is not None and report.review.state.startswith("Signed off by Carol on")
    assert [line.what.split(" (")[0] for line in report.review.lines] == [
        "Version 1 received from Alice", "Version 1 queried by Carol", "Answered by Alice",
        "Version 1 signed off by Carol"]
    [payment] = report.payments
    assert payment.state == "Confirmed" and payment.amount == "£9,000.00"
    assert payment.summary.startswith("£9,000.00, confirmed by Carol on 20 May 2026 at 09:30")
    assert report.review.lines[1].note == "1.5: the quit rate is above every earlier quarter's"
    exceptions = build_exception_report([status], "Q4 2025-26")
    assert [row.state for row in exceptions.payments] == ["Confirmed"] and exceptions.waiting == ()
    pdf = render_return_report(report)
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "Review by the council" in text and "Checked against the clinic records: the figures stand." in text
    assert "£9,000.00, confirmed by Carol" in text


def test_payments_say_calculated_and_never_confirmed_before_a_person_confirms_them(desk: Desk) -> None:
    for quarter in QUARTERS:
        assert desk.submit(quarter).outcome == "accepted"
    with Session(desk.engine) as session:
        report = return_report(session, desk.files, desk.settings, CONTRACT, QUARTERS[3])
        texts = [m.body_text + m.subject for m in session.exec(select(OutboxMessage))]
    [payment] = report.payments
    assert payment.state == "Calculated" and "the council confirms it once" in payment.summary
    assert payment.summary.startswith("£9,000.00, calculated on the full year")
    assert not any("confirmed" in text.lower() for text in texts)


def test_the_exception_report_lists_what_waits_for_review_overdue_queries_first(desk: Desk) -> None:
    desk.submit("2025-26-Q1")
    desk.submit()
    desk.query()
    with Session(desk.engine) as session:
        contract = session.get(Contract, CONTRACT)
        assert contract is not None
        status = contract_period_status(session, desk.files, desk.settings, contract, parse_period(Q2, 4),
                                        date(2025, 10, 20))
    report = build_exception_report([status], "Q2 2025-26")
    assert [(row.return_name.split(",")[1].strip(), row.overdue) for row in report.waiting] == [
        ("Q2 2025-26 (July 2025 to September 2025)", True), ("Q1 2025-26 (April 2025 to June 2025)", False)]
    assert report.waiting[0].on == "The provider, to answer the council's query by 8 October 2025 (overdue)"
    assert "1 return waiting for review · 1 query overdue" in report.summary


def test_returns_accepted_before_reviews_began_wait_for_review_after_the_upgrade(empty_database_url: str) -> None:
    engine = db.make_engine(empty_database_url)
    db.upgrade(engine, "0008")
    now = datetime(2025, 10, 1, 9, tzinfo=UTC)
    with engine.begin() as c:
        for statement, values in (
                ("INSERT INTO organisation (id, name, kind) VALUES (:a, :b, :c)", [
                    dict(a="council", b="Council", c="council"), dict(a="provider", b="Provider", c="provider")]),
                ("INSERT INTO contract (id, name, framework_id, framework_version, provider_id, commissioner_id, "
                 "value, start, year_start_month) VALUES ('c1', 'C', 'ch-stop-smoking', '1', 'provider', 'council', "
                 "1, '2025-04-01', 4)", [{}]),
                ("INSERT INTO obligation (id, contract_id, return_type, period_id, period_start, period_end, due_date, "
                 "escalation_level) VALUES (1, 'c1', 'quarterly', '2025-26-Q1', '2025-04-01', '2025-06-30', "
                 "'2025-07-15', 0)", [{}]),
                ("INSERT INTO submission (id, idempotency_key, channel, channel_message_id, sender_address, "
                 "received_at, filename, size, contract_id, obligation_id, period_id, version, status, error_count, "
                 "warning_count, reason, caption, on_behalf) VALUES (1, 'k', 'cli', 'm', 'a@b.example', :at, 'f.csv', "
                 "1, 'c1', 1, '2025-26-Q1', 1, 'accepted', 0, 0, '', '', false)", [dict(at=now)])):
            c.execute(sa.text(statement), values)
    db.upgrade(engine)
    with Session(engine) as session:
        [review] = session.exec(select(Review)).all()
        [event] = session.exec(select(ReviewEvent)).all()
    assert (review.state, review.submission_id, review.version, review.period_id) == ("waiting", 1, 1, "2025-26-Q1")
    assert (event.action, event.channel, event.to_state) == ("open", "upgrade", "waiting")
    engine.dispose()
