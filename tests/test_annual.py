"""An annual return and the quarters it adds up: one year, one payment figure (issue 20, item 5).

"The annual return and the quarters disagree, and both are 'confirmed'. When an annual return's full-year figures
differ from the sum of the accepted quarters, say so: a finding in the annual return; a line in the exception
report; one payment figure, with the discrepancy named. Never two confirmed figures."
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import sqlalchemy as sa
from intake_fixtures import received
from sqlmodel import Session
from test_references import at, ch_csv, values
from test_reports import read_pdf

from bot import config
from bot.intake.service import Intake
from bot.reports.exception_report import build_exception_report
from bot.reports.render import render_exception_report
from bot.reports.stored import exception_statuses
from bot.storage.files import FileStore
from kpi_core import loader, samples
from kpi_core.assess import assess
from kpi_core.calendar import parse_period
from kpi_core.returns.csv_long import parse_csv
from kpi_core.scoring import score

QUARTERS = {f"2025-26-Q{n}": values(400, 210) for n in (1, 2, 3, 4)}  # 840 of 1,600: 52.5% for the year


def annual_csv(**changes: int) -> bytes:
    """The annual return: the sum of the quarters, with `changes` (item: full-year figure)."""
    year = {key: sum((q[key] for q in QUARTERS.values()), Fraction(0)) for key in QUARTERS["2025-26-Q1"]}
    year.update({(item, ""): Fraction(value) for item, value in changes.items()})
    return samples.to_csv(year).encode()


def test_an_annual_return_that_disagrees_with_its_quarters_gets_a_finding_and_the_quarters_payment() -> None:
    """The annual return says 900 quits of 1,650 quit dates (54.5%); the accepted quarters add up to 840 of 1,600
    (52.5%, the seed's worked example: £9,000). One figure: £9,000, calculated on the quarters as Q4's is, with the
    annual return's 54.5% named beside it."""
    framework = loader.get("ch-stop-smoking")
    year = parse_period("2025-26", 4)
    result = assess(framework, year, parse_csv(annual_csv(quit_dates=1650, quits_4wk=900), "annual.csv"),
                    contract_value=Decimal(720000), period_returns=QUARTERS)
    assert result.accepted
    differs = [f for f in result.findings if f.code == "annual_differs"]
    assert [f.item for f in differs] == ["quit_dates", "quits_4wk"]
    assert differs[0].message == ("People setting a quit date: 1,650 for the year here, but the accepted "
                                  "quarterly returns add up to 1,600 (400 + 400 + 400 + 400)")
    assert differs[0].where.startswith("line ") and not differs[0].is_error
    (payment,) = result.scorecard.payments
    q4 = score(framework, "quarterly", parse_period("2025-26-Q4", 4), QUARTERS["2025-26-Q4"],
               history=QUARTERS, contract_value=Decimal(720000)).payments[0]
    assert (payment.amount, payment.state) == (q4.amount, q4.state) == (Decimal("9000.00"), "calculated")
    assert payment.arithmetic[0].startswith("Worked out on the accepted quarterly returns of 2025-26")
    assert payment.arithmetic[1] == ("This annual return gives 54.5% for the year, not 52.5%: the figures that differ "
                                     "are listed in its findings.")


def test_an_annual_return_that_agrees_with_its_quarters_says_nothing_more() -> None:
    framework = loader.get("ch-stop-smoking")
    result = assess(framework, parse_period("2025-26", 4), parse_csv(annual_csv(), "annual.csv"),
                    contract_value=Decimal(720000), period_returns=QUARTERS)
    assert [f for f in result.findings if f.code.startswith("annual")] == []
    (payment,) = result.scorecard.payments
    assert (payment.amount, payment.state, len(payment.arithmetic)) == (Decimal("9000.00"), "calculated", 5)


def test_an_annual_return_with_a_quarter_missing_is_provisional_and_says_which() -> None:
    framework = loader.get("ch-stop-smoking")
    three = {k: v for k, v in QUARTERS.items() if k != "2025-26-Q3"}
    result = assess(framework, parse_period("2025-26", 4), parse_csv(annual_csv(), "annual.csv"),
                    contract_value=Decimal(720000), period_returns=three)
    (unchecked,) = [f for f in result.findings if f.code == "annual_unchecked"]
    assert "none has been accepted for Q3 2025-26 (October 2025 to December 2025)" in unchecked.message
    (payment,) = result.scorecard.payments
    assert payment.state == "provisional" and payment.missing_periods == ("2025-26-Q3",)


def test_the_exception_report_carries_a_line_for_an_annual_return_that_disagrees(
        intake: Intake, settings: config.Settings, files: FileStore, loaded: sa.Engine) -> None:
    for n, day in ((1, at(2025, 7, 10)), (2, at(2025, 10, 10)), (3, at(2026, 1, 10)), (4, at(2026, 4, 10))):
        result = intake.submit(received(ch_csv({"": (400, 210)}), message_id=f"q{n}", caption=f"2025-26-Q{n}",
                                        at=day))
        assert result.outcome == "accepted", result.reply
    annual = intake.submit(received(annual_csv(quit_dates=1650, quits_4wk=900), message_id="y", caption="2025-26",
                                    at=at(2026, 4, 20)))
    assert annual.outcome == "accepted", annual.reply
    assert "People setting a quit date: 1,650 for the year here, but the accepted quarterly returns add up to " \
           "1,600" in annual.reply
    assert "£9,000.00, calculated on the full year" in annual.reply
    with Session(loaded) as session:
        statuses, _ = exception_statuses(session, files, settings, "2025-26-Q4", date(2026, 4, 22),
                                         only={"ch-stop-smoking"})
    (status,) = statuses
    assert status.disagreements[0] == ("Annual return, Year 2025-26 (April 2025 to March 2026): People setting a "
                                       "quit date: 1,650 for the year here, but the accepted quarterly returns add "
                                       "up to 1,600 (400 + 400 + 400 + 400)")
    text = read_pdf(render_exception_report(build_exception_report(statuses, "2025-26-Q4")))[0]
    assert "Annual returns that disagree with their quarters" in text
    assert "1,650 for the year here, but the accepted quarterly returns add up to 1,600" in text
