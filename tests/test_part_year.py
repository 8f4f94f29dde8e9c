"""A contract that starts mid-year owes, is judged and is paid on the part of the year it runs (issue 20, item 6).

"A contract that starts mid-year is provisional for ever. The payment waits for quarters the contract never owed.
Pro-rate to the periods the contract owes, and say so."
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

import sqlalchemy as sa
from sqlmodel import Session
from test_references import ch_csv

from bot.assessment.in_context import assess_in_context
from bot.reports.context import ReturnMeta, build_return_report
from bot.storage.models import Contract
from kpi_core import loader
from kpi_core.calendar import parse_period
from kpi_core.part_year import ContractSpan
from kpi_core.returns.csv_long import parse_csv
from kpi_core.scoring import score

F = Fraction
FROM_JULY = ContractSpan(date(2025, 7, 1))


def quits(quit_dates: int, quits_4wk: int) -> dict[tuple[str, str], Fraction]:
    return {("quit_dates", ""): F(quit_dates), ("quits_4wk", ""): F(quits_4wk)}


def test_a_contract_from_july_is_calculated_on_its_last_quarter_with_the_pot_pro_rated() -> None:
    """City and Hackney's PbR (seed 000 Note 1: 5% of the annual budget, 52.5% pays a quarter of the pot) for a
    contract that starts on 1 July: it owes Q2 to Q4, so Q4 with Q2 and Q3 accepted is its full year, and the
    pot is 5% of three quarters of £720,000: £27,000, of which 52.5% earns a quarter, £6,750."""
    framework = loader.get("ch-stop-smoking")
    history = {"2025-26-Q2": quits(400, 210), "2025-26-Q3": quits(400, 210)}
    card = score(framework, "quarterly", parse_period("2025-26-Q4", 4), quits(400, 210), history=history,
                 contract_value=Decimal(720000), span=FROM_JULY)
    (payment,) = card.payments
    assert (payment.state, payment.missing_periods, payment.amount, payment.maximum) == (
        "calculated", (), Decimal("6750.00"), Decimal("27000.00"))
    assert payment.arithmetic[:3] == (
        "Part year: The contract runs from 1 July 2025: it owes Q2 to Q4 of 2025-26 (3 of 4 quarters).",
        "Contract value for the part year: £720,000.00 x 75% = £540,000.00",
        "Pot: £540,000.00 x 5% = £27,000.00")
    assert card.notes[0].startswith("The contract runs from 1 July 2025: it owes Q2 to Q4 of 2025-26")
    assert card.result("1.5").missing_periods == ()  # Q1 was never owed: not "missing"


def test_the_annual_target_of_a_count_is_pro_rated_and_the_report_says_so() -> None:
    """1.1: 1,600 quit dates a year. A contract from July owes three quarters: 1,200, judged on the year so far
    (Q2 to Q4)."""
    framework = loader.get("ch-stop-smoking")
    history = {"2025-26-Q2": quits(400, 210), "2025-26-Q3": quits(400, 210)}
    card = score(framework, "quarterly", parse_period("2025-26-Q4", 4), quits(410, 210), history=history,
                 span=FROM_JULY)
    result = card.result("1.1")
    assert (result.judgement.target, result.year_share, result.status) == (1200, F(3, 4), "green")
    q3 = score(framework, "quarterly", parse_period("2025-26-Q3", 4), quits(400, 210),
               history={"2025-26-Q2": quits(400, 210)}, span=FROM_JULY).result("1.1")
    assert (q3.judgement.target, q3.expected_share, q3.forecast) == (800, F(1, 2), 1200)


def test_lifestyle_tiers_and_critical_level_are_pro_rated_for_a_part_year() -> None:
    """Lifestyle 2.2.2 Community Stop Smoking: tiers at 325 and 400 a year, critical failure below 180. A
    contract from 1 May 2026 (November-start year) owes Q3 and Q4 only: the tiers are 162.5 and 200, the critical
    level 90, and the incentive 2% + 2% of half the year's value."""
    framework = loader.get("lifestyle")
    span = ContractSpan(date(2026, 5, 1))
    card = score(framework, "quarterly", parse_period("2025-26-Q4", 11), {("cs_participants", ""): F(110)},
                 history={"2025-26-Q3": {("cs_participants", ""): F(100)}}, contract_value=Decimal(1000000),
                 span=span)
    payment = next(p for p in card.payments if p.rule.id == "cs_incentive")
    assert (payment.state, payment.amount) == ("calculated", Decimal("20000.00"))
    assert "10% target (162.5, pro-rated from 325): reached, +2% = £10,000.00" in payment.arithmetic
    result = card.result("CS.1")
    assert (result.judgement.critical, result.judgement.critical_failure) == (90, False)
    short = score(framework, "quarterly", parse_period("2025-26-Q4", 11), {("cs_participants", ""): F(40)},
                  history={"2025-26-Q3": {("cs_participants", ""): F(40)}}, span=span).result("CS.1")
    assert short.judgement.critical_failure  # 80 of a pro-rated 90: a critical failure on the part year


def test_the_contracts_start_in_the_database_is_the_span_it_is_judged_on(loaded: sa.Engine) -> None:
    """Judged in context, a contract from July owes no Q1: the Q4 year to date leaves out Q2 and Q3 (not sent)
    but never Q1, and the report's target says it is pro-rated."""
    contract = Contract(id="ch-stop-smoking", name="City and Hackney", framework_id="ch-stop-smoking",
                        framework_version="2025.1", provider_id="breathe-easy", commissioner_id="example-council",
                        value=720000, start=date(2025, 7, 1), year_start_month=4)
    with Session(loaded) as session:
        assessed = assess_in_context(session, contract, parse_period("2025-26-Q4", 4),
                                     parse_csv(ch_csv({"": (400, 210)}), "q4.csv"),
                                     datetime(2026, 4, 10, 10, tzinfo=UTC), "Europe/London")
    result = assessed.assessment.scorecard.result("1.5")
    assert result.missing_periods == ("2025-26-Q2", "2025-26-Q3")
    report = build_return_report(assessed.assessment, ReturnMeta("ch-stop-smoking", "City and Hackney", "Breathe"),
                                 charts=False)
    row = next(r for s in report.sections for r in s.rows if r.ref == "1.1")
    assert row.target == "≥ 1,200 (≥ 1,600 for a whole year, pro-rated to the periods the contract owes)"
    assert any(n.startswith("The contract runs from 1 July 2025") for n in report.notes)
