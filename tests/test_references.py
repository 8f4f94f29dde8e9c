"""Only the accepted return of a period counts for that period (issue 20, item 4).

"A provider can raise its own payment by results. A figure typed in a return for another period (the CSV `period`
column, or a workbook's earlier-periods area) counted as that period's data. With one quarter never submitted, a
later return that typed 100% for it turned a provisional £15,000 into a confirmed £36,000." Figures a return
carries for other periods are references: compared with the accepted figures and flagged when they differ.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction

from intake_fixtures import received
from sqlmodel import Session, select
from test_cli import ch_quarter_rows

from bot.intake.service import Intake
from bot.storage.models import PaymentRow, Submission
from kpi_core import loader
from kpi_core.assess import assess
from kpi_core.calendar import parse_period
from kpi_core.returns.csv_long import parse_csv


def ch_csv(quarters: dict[str, tuple[int, int]]) -> bytes:
    """A complete City and Hackney return: '' is the return's own period, other keys periods it also types."""
    rows = [("item", "breakdown", "value", "period")]
    for period, (quit_dates, quits_4wk) in quarters.items():
        rows += ch_quarter_rows(quit_dates, quits_4wk, period)
    return ("\n".join(",".join(row) for row in rows) + "\n").encode()


def values(quit_dates: int, quits_4wk: int) -> dict[tuple[str, str], Fraction]:
    return {(item, ""): Fraction(value) for item, _, value, _ in ch_quarter_rows(quit_dates, quits_4wk)}


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 10, tzinfo=UTC)


def test_a_later_return_typing_100_percent_for_a_quarter_never_sent_leaves_the_payment_provisional(
        intake: Intake) -> None:
    """The issue's case, through the intake: Q1, Q2 and Q4 accepted (650 quits of 1,200 quit dates, 54.2%), Q3
    never sent. The Q4 file types Q3 as 400 quits of 400 quit dates. Before, that made the year 65.6% and the
    payment a confirmed £36,000; the payment stays a provisional £15,000 that names Q3, and the reply says the
    Q3 figures were not counted."""
    for message, period, day, data in (
            ("q1", "2025-26-Q1", at(2025, 7, 10), ch_csv({"": (400, 216)})),
            ("q2", "2025-26-Q2", at(2025, 10, 10), ch_csv({"": (400, 217)})),
            ("q4", "2025-26-Q4", at(2026, 4, 10), ch_csv({"2025-26-Q3": (400, 400), "": (400, 217)}))):
        result = intake.submit(received(data, message_id=message, caption=period, at=day))
        assert result.outcome == "accepted", result.reply
    with Session(intake.engine) as session:
        q4 = session.exec(select(Submission).where(Submission.period_id == "2025-26-Q4")).one()
        (payment,) = session.exec(select(PaymentRow).where(PaymentRow.submission_id == q4.id)).all()
    assert payment.amount == Decimal("15000.00")
    assert payment.detail["state"] == "provisional"
    assert payment.detail["missing_periods"] == ["2025-26-Q3"]
    assert payment.detail["basis"] == float(Fraction(650 * 100, 1200))
    assert "£15,000.00, provisional" in result.reply
    assert "£36,000" not in result.reply
    assert ("the figures given for Q3 2025-26 (October 2025 to December 2025) are not counted: only the accepted "
            "return for Q3 2025-26 (October 2025 to December 2025) counts for that period") in result.reply


def test_a_figure_that_differs_from_the_accepted_return_is_flagged_and_the_accepted_one_counts() -> None:
    framework = loader.get("ch-stop-smoking")
    q1 = values(400, 200)
    parsed = parse_csv(ch_csv({"2025-26-Q1": (400, 300), "": (400, 220)}), "q2.csv")
    result = assess(framework, parse_period("2025-26-Q2", 4), parsed, history={"2025-26-Q1": q1},
                    contract_value=Decimal(720000))
    assert result.accepted
    pbr = result.scorecard.result("1.5")
    assert pbr.ytd is not None and pbr.ytd.value == Fraction(420 * 100, 800)  # the accepted 200, not the typed 300
    differs = [f for f in result.findings if f.code == "reference_differs"]
    assert [f.item for f in differs] == sorted(["quits_4wk", "quits_4wk_co", "quits_12wk", "lost_4wk", "lost_12wk",
                                                "followed_6m", "followed_12m", "quitters_satisfied", "cohort_6m",
                                                "cohort_12m"])
    quits = next(f for f in differs if f.item == "quits_4wk")
    assert quits.message == ("4-week quitters, Q1 2025-26 (April 2025 to June 2025): 300 here, but 200 in the "
                             "accepted return for that period; the accepted figure counts")
    assert quits.where.startswith("line ") and not quits.is_error


def test_a_file_judged_alone_counts_only_its_own_period() -> None:
    """`kpibot score --no-history`: a file's earlier quarters are never that period's data, with or without a
    database; the year so far is this quarter alone, and the payment a forecast on it."""
    framework = loader.get("ch-stop-smoking")
    parsed = parse_csv(ch_csv({"2025-26-Q1": (400, 400), "2025-26-Q2": (400, 400), "": (400, 200)}), "q3.csv")
    result = assess(framework, parse_period("2025-26-Q3", 4), parsed, contract_value=Decimal(720000))
    (payment,) = result.scorecard.payments
    assert payment.amount == Decimal("0.00") and payment.basis == 50
    assert result.scorecard.result("1.5").missing_periods == ("2025-26-Q1", "2025-26-Q2")
    assert [f.code for f in result.findings if f.code.startswith("reference")] == ["reference_not_counted"] * 2
