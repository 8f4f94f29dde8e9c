"""Follow-up cohorts (City and Hackney 1.10 and 1.11): the denominator is an earlier quarter's 4-week quitters.

Seed 000: "1.10. % of 4 week quitters followed up at 6 months with quit status established" (60%) and "1.11. % of
4 week quitters followed up at 12 months with quit status established" (40%). The people followed up at 6 months
quit six months earlier, so this quarter's 4-week quitters are the wrong denominator.
"""

from __future__ import annotations

from fractions import Fraction

from kpi_core import loader
from kpi_core.assess import assess
from kpi_core.calendar import parse_period
from kpi_core.cohorts import cohort_period
from kpi_core.returns.csv_long import parse_csv
from kpi_core.scoring import score
from kpi_core.validation import check_rules

F = Fraction
CH = loader.get("ch-stop-smoking")
Q3 = parse_period("2025-26-Q3", 4)


def test_the_cohort_is_the_quarter_six_or_twelve_months_earlier() -> None:
    assert cohort_period(Q3, 6).id == "2025-26-Q1"
    assert cohort_period(Q3, 12).id == "2024-25-Q3"
    assert cohort_period(parse_period("2025-26", 4), 6) is None  # not a whole number of years back


def test_followed_up_at_6_months_is_a_share_of_the_quitters_two_quarters_back_not_this_quarters() -> None:
    """80 followed up of Q1's 120 quitters is 66.7%, green; against Q3's 60 quitters it would read 133%."""
    history = {"2025-26-Q1": {("quits_4wk", ""): F(120)}}
    card = score(CH, "quarterly", Q3, {("quits_4wk", ""): F(60), ("followed_6m", ""): F(80)}, history=history)
    result = card.result("1.10")
    assert result.value == F(200, 3) and result.period_value.denominator == 120
    assert result.status == "green"
    assert any("4-week quitters of Q1 2025-26" in note and "its accepted return" in note for note in result.notes)


def test_followed_up_at_12_months_uses_the_same_quarter_last_year() -> None:
    history = {"2024-25-Q3": {("quits_4wk", ""): F(100)}}
    card = score(CH, "quarterly", Q3, {("quits_4wk", ""): F(60), ("followed_12m", ""): F(39)}, history=history)
    assert card.result("1.11").value == 39 and card.result("1.11").status == "red"  # 39% < 40%


def test_without_stored_history_the_cohort_size_given_in_the_return_is_used() -> None:
    card = score(CH, "quarterly", Q3, {("followed_6m", ""): F(30), ("cohort_6m", ""): F(50)})
    result = card.result("1.10")
    assert result.value == 60 and result.status == "green"
    assert any("as given in this return" in note for note in result.notes)


def test_a_cohort_nobody_gave_is_asked_for_and_not_coloured() -> None:
    data = b"item,breakdown,value\nfollowed_6m,,30\n"
    result = assess(CH, Q3, parse_csv(data, "q3.csv"))
    assert result.scorecard.result("1.10").status == "no_data"
    (asked,) = [f for f in result.findings if f.code == "cohort_unknown" and f.item == "1.10"]
    assert asked.severity == "warning" and "cohort_6m" in asked.fix


def test_more_followed_up_than_the_stored_cohort_is_an_error() -> None:
    data = b"item,breakdown,value\nfollowed_6m,,130\n"
    result = assess(CH, Q3, parse_csv(data, "q3.csv"), history={"2025-26-Q1": {("quits_4wk", ""): F(120)}})
    (error,) = [f for f in result.errors if f.code == "cohort_exceeded"]
    assert "130 followed up is more than the cohort" in error.message and "Q1 2025-26" in error.message


def test_more_followed_up_than_the_cohort_size_in_the_return_breaks_a_generated_rule() -> None:
    codes = {f.code for f in check_rules(CH, {("followed_6m", ""): F(60), ("cohort_6m", ""): F(50)})}
    assert "rule:within_1_10" in codes


def test_this_quarters_quitters_no_longer_cap_the_follow_ups() -> None:
    """The old rule "followed up <= this quarter's quitters" rejected correct returns."""
    assert not check_rules(CH, {("followed_6m", ""): F(80), ("quits_4wk", ""): F(60), ("cohort_6m", ""): F(120)})
