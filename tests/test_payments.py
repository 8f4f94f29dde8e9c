"""Payment by results and incentive tiers, to the penny, with forecasts while the year is incomplete."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from kpi_core import formatting, loader
from kpi_core.calendar import parse_period
from kpi_core.framework.model import Framework
from kpi_core.payments import pounds
from kpi_core.results import PaymentResult
from kpi_core.scoring import score
from kpi_core.values import Key

F = Fraction
CH_CONTRACT_VALUE = Decimal("720000")  # the seed's worked example


def quits(quit_dates: int, quits_4wk: int) -> dict[Key, Fraction]:
    return {("quit_dates", ""): F(quit_dates), ("quits_4wk", ""): F(quits_4wk)}


def ch_payment(framework: Framework, period: str, values: dict[Key, Fraction],
               history: dict[str, dict[Key, Fraction]] | None = None,
               contract_value: object = CH_CONTRACT_VALUE) -> PaymentResult:
    parsed = parse_period(period, 4)
    return_id = "annual" if parsed.frequency == "annual" else "quarterly"
    card = score(framework, return_id, parsed, values, history=history, contract_value=contract_value)
    (payment,) = card.payments
    return payment


# ----------------------------------------------------------------------------- the seed's PbR worked example


@pytest.mark.parametrize(
    ("quit_dates", "quits_4wk", "amount"),
    [
        (400, 210, Decimal("9000.00")),  # 52.5%: a quarter of the way from 50% to 60% pays a quarter of £36,000
        (400, 200, Decimal("0.00")),  # 50%: "50% or below, no PbR element will be paid"
        (400, 180, Decimal("0.00")),  # 45%
        (400, 201, Decimal("900.00")),  # 50.25%
        (400, 220, Decimal("18000.00")),  # 55%
        (400, 240, Decimal("36000.00")),  # 60%: the full pot
        (400, 300, Decimal("36000.00")),  # 75%: capped at the pot
        (3, 1, Decimal("0.00")),
        (301, 160, Decimal("11362.13")),  # 53.156...%: exact until the last step (3,420,000 / 301)
    ],
)
def test_the_seed_pbr_example_pays_on_the_full_years_quit_rate(ch_stop_smoking: Framework, quit_dates: int,
                                                                quits_4wk: int, amount: Decimal) -> None:
    payment = ch_payment(ch_stop_smoking, "2025-26", quits(quit_dates, quits_4wk))
    assert payment.amount == amount
    assert payment.maximum == Decimal("36000.00")
    assert payment.forecast is False
    assert payment.basis_label == "year"


def test_the_worked_example_shows_its_arithmetic(ch_stop_smoking: Framework) -> None:
    payment = ch_payment(ch_stop_smoking, "2025-26", quits(400, 210))
    assert payment.indicator == "1.5"
    assert payment.basis == F(105, 2)
    assert payment.earned_share == F(1, 80)  # 1.25% of contract value
    assert payment.max_share == F(1, 20)
    assert payment.arithmetic[0] == "Pot: £720,000.00 x 5% = £36,000.00"
    assert "(52.5 - 50) / (60 - 50) = 25%" in payment.arithmetic[2]
    assert payment.arithmetic[3] == "Payment: £36,000.00 x 25% = £9,000.00 (1.25% of contract value)"
    as_dict = payment.as_dict()
    assert (as_dict["rule"], as_dict["amount"], as_dict["maximum"], as_dict["forecast"]) == (
        "pbr_4wk_quits", 9000.0, 36000.0, False)


def test_the_fourth_quarter_pays_on_the_year_to_date_not_a_forecast(ch_stop_smoking: Framework) -> None:
    history = {"2025-26-Q1": quits(100, 50), "2025-26-Q2": quits(100, 52), "2025-26-Q3": quits(100, 53)}
    payment = ch_payment(ch_stop_smoking, "2025-26-Q4", quits(100, 55), history)  # 210 / 400 = 52.5%
    assert payment.amount == Decimal("9000.00")
    assert payment.forecast is False
    assert payment.basis_label == "year"


def test_an_earlier_quarter_gives_a_forecast_on_the_year_to_date(ch_stop_smoking: Framework) -> None:
    payment = ch_payment(ch_stop_smoking, "2025-26-Q2", quits(280, 150), {"2025-26-Q1": quits(120, 60)})
    assert payment.basis == F(105, 2)
    assert payment.amount == Decimal("9000.00")
    assert payment.forecast is True
    assert payment.arithmetic[-1].startswith("Forecast: the year is not complete")


def test_no_figures_yet_earn_nothing(ch_stop_smoking: Framework) -> None:
    payment = ch_payment(ch_stop_smoking, "2025-26-Q1", {})
    assert payment.basis is None
    assert payment.amount == Decimal("0.00")
    assert "No figure yet, so nothing is earned." in payment.arithmetic


def test_without_a_contract_value_the_share_is_still_worked_out(ch_stop_smoking: Framework) -> None:
    payment = ch_payment(ch_stop_smoking, "2025-26", quits(400, 210), contract_value=None)
    assert payment.amount is None and payment.maximum is None
    assert payment.earned_share == F(1, 80)
    assert payment.arithmetic[-1] == "Payment: 1.25% of contract value (no contract value given)"


@pytest.mark.parametrize(
    ("value", "expected"),
    [(F(5005, 1000), Decimal("5.01")), (F(5004999, 1000000), Decimal("5.00")), (F(-5005, 1000), Decimal("-5.01")),
     (F(1, 3), Decimal("0.33")), (F(9000), Decimal("9000.00"))],
)
def test_amounts_round_half_up_to_the_penny(value: Fraction, expected: Decimal) -> None:
    assert pounds(value) == expected


@pytest.mark.parametrize(
    ("value", "shown"),
    [(Decimal("9000"), "£9,000.00"), (Decimal("0.125"), "£0.13"), (0.125, "£0.13"), (F(1, 8), "£0.13"),
     (Decimal("-5.005"), "-£5.01"), (Decimal("1234567.891"), "£1,234,567.89"), (None, "–")],
)
def test_money_is_shown_to_the_penny_rounding_half_up_whatever_the_number_type(value: object, shown: str) -> None:
    assert formatting.money(value) == shown  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- incentive tiers

# The lifestyle schedule's shape, on a small framework: critical failure below 180, baseline 250, +2% of contract
# value at the 10% target (325) and another +2% at the 20% target (400).
TIERS = """
schema = 1
id = "tiers"
name = "Incentive tiers"

[returns.quarterly]
label = "Quarterly return"
frequency = "quarterly"
due = { rule = "day_of_next_month", day = 15 }

[returns.annual]
label = "Annual return"
frequency = "annual"
due = { rule = "date_after", month = 4, day = 30 }

[[items]]
id = "participants"
label = "Participants"

[[items]]
id = "attrition_pct"
label = "Attrition"
unit = "%"
type = "average"

[[indicators]]
ref = "PART"
name = "Community stop smoking participation"
kind = "count"
expression = "participants"
target = ">= 250"
critical = "< 180"
cumulative = true
incentivised = true

[[indicators]]
ref = "ATTR"
name = "Attrition"
kind = "average"
expression = "attrition_pct"
target = "< 40"
critical = "> 55"

[[payments]]
id = "participation_incentive"
name = "Participation incentive"
kind = "tiers"
indicator = "PART"
tiers = [{ at = 325, share = "2%", label = "10% target" }, { at = 400, share = "2%", label = "20% target" }]

[[payments]]
id = "attrition_incentive"
name = "Attrition incentive"
kind = "tiers"
indicator = "ATTR"
tiers = [{ at = 30, share = "1%" }, { at = 20, share = "1%" }]
"""
TIER_CONTRACT_VALUE = Decimal("1000000")


@pytest.fixture(scope="module")
def tiers() -> Framework:
    return loader.load_text(TIERS, "tiers.toml")


def tier_payment(framework: Framework, rule: str, period: str, values: dict[Key, Fraction],
                 history: dict[str, dict[Key, Fraction]] | None = None) -> PaymentResult:
    parsed = parse_period(period, 4)
    return_id = "annual" if parsed.frequency == "annual" else "quarterly"
    card = score(framework, return_id, parsed, values, history=history, contract_value=TIER_CONTRACT_VALUE)
    return next(p for p in card.payments if p.rule.id == rule)


@pytest.mark.parametrize(
    ("participants", "amount", "status", "critical"),
    [
        (179, Decimal("0.00"), "red", True),  # below 180: a critical performance failure
        (180, Decimal("0.00"), "red", False),  # short of the baseline: red, not a critical failure (no amber band)
        (249, Decimal("0.00"), "red", False),
        (250, Decimal("0.00"), "green", False),  # meets the baseline: no incentive yet
        (324, Decimal("0.00"), "green", False),
        (325, Decimal("20000.00"), "green", False),  # +2%
        (399, Decimal("20000.00"), "green", False),
        (400, Decimal("40000.00"), "green", False),  # +4%
        (1000, Decimal("40000.00"), "green", False),  # no more than the tiers add up to
    ],
)
def test_each_tier_reached_adds_its_share(tiers: Framework, participants: int, amount: Decimal, status: str,
                                         critical: bool) -> None:
    values = {("participants", ""): F(participants), ("attrition_pct", ""): F(35)}
    card = score(tiers, "annual", parse_period("2025-26", 4), values, contract_value=TIER_CONTRACT_VALUE)
    payment = next(p for p in card.payments if p.rule.id == "participation_incentive")
    assert payment.amount == amount
    assert payment.maximum == Decimal("40000.00")
    assert payment.critical_failure is critical
    assert card.result("PART").status == status
    assert any(line.startswith("Below the critical failure level") for line in payment.arithmetic) is critical


def test_tiers_show_which_were_reached(tiers: Framework) -> None:
    payment = tier_payment(tiers, "participation_incentive", "2025-26", {("participants", ""): F(330)})
    assert "10% target (325): reached, +2% = £20,000.00" in payment.arithmetic
    assert "20% target (400): not reached, +2%" in payment.arithmetic
    assert payment.arithmetic[-1] == "Incentive: £1,000,000.00 x 2% = £20,000.00"


@pytest.mark.parametrize(
    ("attrition", "amount"),
    [(F(35), Decimal("0.00")), (F(30), Decimal("10000.00")), (F(25), Decimal("10000.00")),
     (F(20), Decimal("20000.00")), (F(10), Decimal("20000.00"))],
)
def test_tiers_of_a_lower_is_better_indicator_are_reached_at_or_below(tiers: Framework, attrition: Fraction,
                                                                     amount: Decimal) -> None:
    payment = tier_payment(tiers, "attrition_incentive", "2025-26", {("attrition_pct", ""): attrition})
    assert payment.amount == amount


def test_tiers_mid_year_are_a_forecast_on_the_year_to_date(tiers: Framework) -> None:
    # 90 + 80 by the end of Q2 is on course for 340 in the year: the first tier, forecast.
    payment = tier_payment(tiers, "participation_incentive", "2025-26-Q2", {("participants", ""): F(80)},
                           {"2025-26-Q1": {("participants", ""): F(90)}})
    assert payment.basis == 340
    assert payment.basis_label == "forecast for the year"
    assert payment.forecast is True
    assert payment.amount == Decimal("20000.00")


def test_an_annual_critical_level_is_only_at_risk_mid_year(tiers: Framework) -> None:
    """Lifestyle 2.2.2: the critical failure KPI of the incentive table is an annual level; mid-year a forecast
    below it is "at risk of critical failure", not the failure itself."""
    payment = tier_payment(tiers, "participation_incentive", "2025-26-Q2", {("participants", ""): F(40)},
                           {"2025-26-Q1": {("participants", ""): F(40)}})
    assert payment.basis == 160
    assert payment.critical_failure is False and payment.at_risk is True
    assert payment.state == "forecast"
    assert any(line.startswith("At risk of critical failure") for line in payment.arithmetic)
    assert payment.amount == Decimal("0.00")


# ---------------------------------------------------------------- payments on incomplete years (issue 12.2)


def test_a_last_quarter_with_earlier_quarters_missing_is_provisional_and_names_them() -> None:
    """Seed 000 Note 1: "the full PbR element will be paid (based on a full year of activity)": a Q4 return alone
    is not a full year, so £36,000 on one quarter is provisional, never confirmed."""
    framework = loader.get("ch-stop-smoking")
    card = score(framework, "quarterly", parse_period("2025-26-Q4", 4),
                 {("quit_dates", ""): F(400), ("quits_4wk", ""): F(260)}, contract_value=Decimal(720000))
    (payment,) = card.payments
    assert payment.amount == Decimal("36000.00")  # 65% on the one quarter received
    assert payment.state == "provisional" and payment.forecast
    assert payment.missing_periods == ("2025-26-Q1", "2025-26-Q2", "2025-26-Q3")
    assert payment.basis_label == "year so far"
    assert any("Provisional: no figures for 2025-26-Q1, 2025-26-Q2, 2025-26-Q3" in line for line in payment.arithmetic)


def test_a_complete_year_in_the_last_quarter_is_calculated_never_confirmed_by_kpibot() -> None:
    framework = loader.get("ch-stop-smoking")
    history = {f"2025-26-Q{n}": {("quit_dates", ""): F(400), ("quits_4wk", ""): F(210)} for n in (1, 2, 3)}
    card = score(framework, "quarterly", parse_period("2025-26-Q4", 4),
                 {("quit_dates", ""): F(400), ("quits_4wk", ""): F(210)}, history=history,
                 contract_value=Decimal(720000))
    (payment,) = card.payments
    assert (payment.state, payment.amount, payment.missing_periods) == ("calculated", Decimal("9000.00"), ())
    assert not any("confirmed" in line for line in payment.arithmetic)  # a person confirms it (bot/review)


def test_lifestyle_tiers_on_an_incomplete_year_are_provisional_too() -> None:
    """Lifestyle 2.2.2: "20% of the contract value per year is incentivised ... and paid annually"."""
    framework = loader.get("lifestyle")
    card = score(framework, "quarterly", parse_period("2025-26-Q4", 11), {("cs_participants", ""): F(400)},
                 history={"2025-26-Q3": {("cs_participants", ""): F(10)}}, contract_value=TIER_CONTRACT_VALUE)
    payment = next(p for p in card.payments if p.rule.id == "cs_incentive")
    assert payment.state == "provisional" and payment.missing_periods == ("2025-26-Q1", "2025-26-Q2")
    assert not payment.critical_failure
