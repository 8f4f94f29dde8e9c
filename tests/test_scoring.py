"""Red/Amber/Green scoring: boundaries, the year to date, forecasts and confidence."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi_core import loader
from kpi_core.calendar import parse_period
from kpi_core.confidence import nearest_fraction
from kpi_core.framework.model import Framework
from kpi_core.results import IndicatorResult, Scorecard
from kpi_core.scoring import score
from kpi_core.stats import wilson_interval
from kpi_core.values import Key

F = Fraction

# A small framework exercising each scoring rule; refs say what they stand for.
MECHANICS = """
schema = 1
id = "mechanics"
name = "Scoring mechanics"

[scoring]
amber = { relative = 0.1 }
min_denominator = 30

[returns.quarterly]
label = "Quarterly return"
frequency = "quarterly"
due = { rule = "day_of_next_month", day = 15 }

[returns.annual]
label = "Annual return"
frequency = "annual"
due = { rule = "date_after", month = 4, day = 30 }

[disaggregations.area]
label = "Area"
categories = { hackney = "Hackney", city = "City of London" }

[[items]]
id = "starters"
label = "People starting"
breakdowns = ["area"]

[[items]]
id = "quitters"
label = "4-week quitters"
breakdowns = ["area"]

[[items]]
id = "lost"
label = "Lost to follow-up"

[[items]]
id = "leavers"
label = "Leaving early"

[[items]]
id = "satisfaction"
label = "Average satisfaction (1-10)"
type = "average"
unit = "score"
weight = "responses"

[[items]]
id = "responses"
label = "Satisfaction responses"
required = false

[[items]]
id = "sessions"
label = "Sessions"
unit = "sessions"

[[items]]
id = "national_rate"
label = "National quit rate"
unit = "%"
type = "average"
required = false

[[indicators]]
ref = "QUIT"
name = "4-week quit rate"
kind = "percentage"
numerator = "quitters"
denominator = "starters"
target = ">= 50"

[[indicators]]
ref = "LOST"
name = "Lost to follow-up"
kind = "percentage"
numerator = "lost"
denominator = "starters"
target = "< 15"

[[indicators]]
ref = "ATTRITION"
name = "Attrition"
kind = "percentage"
numerator = "leavers"
denominator = "starters"
target = "< 40"
critical = "> 55"
amber = { between_critical = true }

[[indicators]]
ref = "SATISFACTION"
name = "Satisfaction"
kind = "average"
expression = "satisfaction"
target = ">= 8.5"
critical = "< 7.0"
amber = { between_critical = true }

[[indicators]]
ref = "PARTICIPATION"
name = "Participation"
kind = "count"
expression = "starters"
target = ">= 250"
critical = "< 180"
amber = { between_critical = true }
stretch = ">= 400"
cumulative = true

[[indicators]]
ref = "ACTION_PLAN"
name = "Smoking quitters (4 weeks)"
kind = "count"
expression = "quitters"
target = ">= 3500"

[[indicators]]
ref = "EXACT"
name = "A boundary floats would miss"
kind = "percentage"
numerator = "quitters"
denominator = "starters"
target = ">= 57"

[[indicators]]
ref = "TRAJECTORY"
name = "Sessions on a custom trajectory"
kind = "count"
expression = "sessions"
target = ">= 400"
cumulative = true
trajectory = [0.1, 0.2, 0.3, 0.4]
returns = ["quarterly"]

[[indicators]]
ref = "BACKLOADED"
name = "Sessions expected only from Q2"
kind = "count"
expression = "sessions"
target = ">= 400"
cumulative = true
trajectory = [0, 0.25, 0.25, 0.5]
returns = ["quarterly"]

[[indicators]]
ref = "QUIT_YTD"
name = "4-week quit rate, year to date"
kind = "percentage"
numerator = "quitters"
denominator = "starters"
target = ">= 50"
cumulative = true

[[indicators]]
ref = "SATISFACTION_YTD"
name = "Satisfaction, year to date"
kind = "average"
expression = "satisfaction"
target = ">= 8.5"
cumulative = true

[[indicators]]
ref = "REDUCTION"
name = "Lost to follow-up, quarter on quarter reduction"
kind = "count"
expression = "lost"
target = "< previous"

[[indicators]]
ref = "BENCHMARK"
name = "Quit rate against the national rate"
kind = "percentage"
numerator = "quitters"
denominator = "starters"
target = ">= national_rate"

[[indicators]]
ref = "CITY"
name = "City share of starters"
kind = "percentage"
numerator = "starters[area=city]"
denominator = "starters"
information_only = true
"""


@pytest.fixture(scope="module")
def mechanics() -> Framework:
    return loader.load_text(MECHANICS, "mechanics.toml")


def figures(**values: int | str | Fraction) -> dict[Key, Fraction]:
    """`starters=1000, quitters_city=3` -> {('starters', ''): 1000, ...}; breakdowns as item__dim__cat."""
    out = {}
    for name, value in values.items():
        item, _, rest = name.partition("__")
        breakdown = "=".join(rest.split("__")) if rest else ""
        out[(item, breakdown)] = F(value) if not isinstance(value, Fraction) else value
    return out


def one(framework: Framework, ref: str, period: str, values: dict[Key, Fraction],
        history: dict[str, dict[Key, Fraction]] | None = None) -> IndicatorResult:
    parsed = parse_period(period, framework.calendar.year_start_month)
    return_id = "annual" if parsed.frequency == "annual" else "quarterly"
    return score(framework, return_id, parsed, values, history=history).result(ref)


# ----------------------------------------------------------------------------- boundaries


@pytest.mark.parametrize(
    ("ref", "values", "status", "critical_failure"),
    [
        # Lost to follow-up "< 15%": missed at exactly 15; amber within 10% of target (up to 16.5%).
        ("LOST", figures(starters=1000, lost=149), "green", False),
        ("LOST", figures(starters=1000, lost=150), "amber", False),
        ("LOST", figures(starters=1000, lost=165), "amber", False),
        ("LOST", figures(starters=1000, lost=166), "red", False),
        # Attrition "< 40%" with a critical failure "higher than 55%": amber from 40 to 55 inclusive.
        ("ATTRITION", figures(starters=1000, leavers=399), "green", False),
        ("ATTRITION", figures(starters=1000, leavers=400), "amber", False),
        ("ATTRITION", figures(starters=1000, leavers=550), "amber", False),
        ("ATTRITION", figures(starters=1000, leavers=551), "red", True),
        # Satisfaction "minimum average 8.5", critical "below 7.0".
        ("SATISFACTION", figures(satisfaction="8.5"), "green", False),
        ("SATISFACTION", figures(satisfaction="9.75"), "green", False),
        ("SATISFACTION", figures(satisfaction="8.49"), "amber", False),
        ("SATISFACTION", figures(satisfaction="7.0"), "amber", False),
        ("SATISFACTION", figures(satisfaction="6.99"), "red", True),
        # Quit rate ">= 50%" with no critical level: amber down to 45%, red below.
        ("QUIT", figures(starters=1000, quitters=500), "green", False),
        ("QUIT", figures(starters=1000, quitters=499), "amber", False),
        ("QUIT", figures(starters=1000, quitters=450), "amber", False),
        ("QUIT", figures(starters=1000, quitters=449), "red", False),
        # Participation over a whole year: critical below 180, baseline 250.
        ("PARTICIPATION", figures(starters=179), "red", True),
        ("PARTICIPATION", figures(starters=180), "amber", False),
        ("PARTICIPATION", figures(starters=249), "amber", False),
        ("PARTICIPATION", figures(starters=250), "green", False),
        # Exactly 57 of 100 is 57%; as floats 57 / 100 * 100 is 56.99999999999999.
        ("EXACT", figures(starters=100, quitters=57), "green", False),
        ("EXACT", figures(starters=300, quitters=171), "green", False),
    ],
)
def test_indicators_colour_correctly_on_both_sides_of_each_threshold(
        mechanics: Framework, ref: str, values: dict[Key, Fraction], status: str, critical_failure: bool) -> None:
    result = one(mechanics, ref, "2025-26", values)
    assert result.status == status
    assert result.judgement.critical_failure is critical_failure


def test_the_seed_action_plan_quitters_are_red_and_1807_off_target(mechanics: Framework) -> None:
    result = one(mechanics, "ACTION_PLAN", "2025-26", figures(quitters=1693))
    assert result.status == "red"
    assert result.judgement.target == 3500
    assert result.judgement.gap == 1807
    assert result.gap_text == "1,807 off target"
    assert result.as_dict()["gap"] == 1807


@pytest.mark.parametrize(
    ("ref", "values", "gap", "text"),
    [
        ("LOST", figures(starters=1000, lost=150), 0, "on the limit: target is < 15%"),
        ("ATTRITION", figures(starters=100, leavers=45), 5, "5 percentage points off target"),
        ("ATTRITION", figures(starters=100, leavers=41), 1, "1 percentage point off target"),
        ("QUIT", figures(starters=1000, quitters=475), F(5, 2), "2.5 percentage points off target"),
        ("SATISFACTION", figures(satisfaction="6.5"), 2, "2 off target"),
        ("QUIT", figures(starters=1000, quitters=600), 0, "on target"),
    ],
)
def test_the_gap_is_in_the_indicators_own_unit(mechanics: Framework, ref: str, values: dict[Key, Fraction],
                                               gap: Fraction, text: str) -> None:
    result = one(mechanics, ref, "2025-26", values)
    assert result.judgement.gap == gap
    assert result.gap_text == text


def test_reaching_the_stretch_level_is_flagged(mechanics: Framework) -> None:
    assert one(mechanics, "PARTICIPATION", "2025-26", figures(starters=400)).judgement.stretch_met
    assert not one(mechanics, "PARTICIPATION", "2025-26", figures(starters=399)).judgement.stretch_met


# ----------------------------------------------------------------------------- no data


@pytest.mark.parametrize(
    ("ref", "values"),
    [
        ("QUIT", figures(starters=0, quitters=0)),  # division by zero
        ("QUIT", figures(quitters=10)),  # denominator not given
        ("SATISFACTION", figures()),
        ("PARTICIPATION", figures()),
    ],
)
def test_a_value_that_cannot_be_computed_is_no_data_not_red(mechanics: Framework, ref: str,
                                                             values: dict[Key, Fraction]) -> None:
    result = one(mechanics, ref, "2025-26", values)
    assert result.status == "no_data"
    assert result.value is None
    assert result.gap_text == ""


def test_information_only_indicators_are_reported_never_coloured(mechanics: Framework) -> None:
    result = one(mechanics, "CITY", "2025-26", figures(starters=100, starters__area__city=7))
    assert result.status == "info"
    assert result.value == 7


def test_a_benchmark_target_uses_the_figure_given(mechanics: Framework) -> None:
    given = one(mechanics, "BENCHMARK", "2025-26", figures(starters=100, quitters=50, national_rate=52))
    assert given.status == "amber" and given.judgement.target == 52
    missing = one(mechanics, "BENCHMARK", "2025-26", figures(starters=100, quitters=50))
    assert missing.status == "no_data"
    assert "benchmark" in missing.judgement.note


def test_a_previous_target_compares_with_the_previous_period(mechanics: Framework) -> None:
    history = {"2025-26-Q1": figures(lost=20)}
    assert one(mechanics, "REDUCTION", "2025-26-Q2", figures(lost=15), history).status == "green"
    assert one(mechanics, "REDUCTION", "2025-26-Q2", figures(lost=20), history).status == "amber"
    assert one(mechanics, "REDUCTION", "2025-26-Q2", figures(lost=23), history).status == "red"
    first = one(mechanics, "REDUCTION", "2025-26-Q2", figures(lost=15))
    assert first.status == "no_data"
    assert "no previous period" in first.judgement.note


def test_the_previous_period_of_a_first_quarter_is_last_years_fourth(mechanics: Framework) -> None:
    history = {"2024-25-Q4": figures(lost=20)}
    assert one(mechanics, "REDUCTION", "2025-26-Q1", figures(lost=10), history).status == "green"


# ----------------------------------------------------------------------------- year to date and forecast


def test_a_cumulative_count_is_judged_on_the_year_to_date_against_the_share_expected(mechanics: Framework) -> None:
    result = one(mechanics, "PARTICIPATION", "2025-26-Q2", figures(starters=70),
                 {"2025-26-Q1": figures(starters=60)})
    assert result.value == 70  # this quarter
    assert result.ytd is not None and result.ytd.value == 130
    assert result.ytd_periods == ("2025-26-Q1", "2025-26-Q2")
    assert result.missing_periods == ()
    assert result.expected_share == F(1, 2)
    assert result.judgement.target == 125  # half of the annual 250
    assert result.judgement.critical == 90  # half of 180
    assert result.status == "green"
    assert result.forecast == 260
    assert result.forecast_judgement is not None and result.forecast_judgement.status == "green"


def test_the_year_to_date_notes_a_missing_earlier_return(mechanics: Framework) -> None:
    result = one(mechanics, "PARTICIPATION", "2025-26-Q3", figures(starters=70),
                 {"2025-26-Q1": figures(starters=60)})
    assert result.missing_periods == ("2025-26-Q2",)
    assert result.ytd_periods == ("2025-26-Q1", "2025-26-Q3")
    assert result.ytd is not None and result.ytd.value == 130
    assert any("2025-26-Q2" in note for note in result.notes)
    assert "2025-26-Q2" in " ".join(result.as_dict()["notes"])  # type: ignore[arg-type]


def test_an_earlier_return_without_the_indicators_figures_counts_as_missing(mechanics: Framework) -> None:
    # Q1 was returned but without `starters`: the year to date must not claim to include it.
    result = one(mechanics, "PARTICIPATION", "2025-26-Q2", figures(starters=70),
                 {"2025-26-Q1": figures(sessions=5)})
    assert result.missing_periods == ("2025-26-Q1",)
    assert result.ytd_periods == ("2025-26-Q2",)
    assert result.notes


def test_a_custom_trajectory_sets_the_share_expected_by_each_period(mechanics: Framework) -> None:
    history = {"2025-26-Q1": figures(sessions=30)}
    result = one(mechanics, "TRAJECTORY", "2025-26-Q2", figures(sessions=80), history)
    assert result.expected_share == F(3, 10)
    assert result.judgement.target == 120
    assert result.ytd is not None and result.ytd.value == 110
    assert result.status == "amber"  # within 10% of 120
    assert result.forecast == F(1100, 3)
    q4 = one(mechanics, "TRAJECTORY", "2025-26-Q4", figures(sessions=80))
    assert q4.expected_share == 1


def test_a_trajectory_that_expects_nothing_yet_gives_no_forecast(mechanics: Framework) -> None:
    result = one(mechanics, "BACKLOADED", "2025-26-Q1", figures(sessions=10))
    assert result.expected_share == 0
    assert result.status == "green"
    assert result.forecast is None


def test_an_even_trajectory_shares_the_target_by_quarter(mechanics: Framework) -> None:
    shares = [one(mechanics, "PARTICIPATION", f"2025-26-Q{n}", figures(starters=1)).expected_share
              for n in range(1, 5)]
    assert shares == [F(1, 4), F(1, 2), F(3, 4), F(1)]


def test_a_cumulative_percentage_pools_numerators_and_denominators(mechanics: Framework) -> None:
    # 60/120 (50%) then 150/280 (53.6%): pooled 210/400 = 52.5%, not the mean of the two rates (51.8%).
    result = one(mechanics, "QUIT_YTD", "2025-26-Q2", figures(starters=280, quitters=150),
                 {"2025-26-Q1": figures(starters=120, quitters=60)})
    assert result.ytd is not None
    assert (result.ytd.numerator, result.ytd.denominator, result.ytd.value) == (210, 400, F(105, 2))
    assert result.expected_share == 1  # a rate is not shared out over the year
    assert result.forecast == F(105, 2)
    assert result.status == "green"


def test_a_cumulative_average_is_weighted_by_its_weight_item(mechanics: Framework) -> None:
    result = one(mechanics, "SATISFACTION_YTD", "2025-26-Q2", figures(satisfaction=9, responses=30),
                 {"2025-26-Q1": figures(satisfaction=8, responses=10)})
    assert result.ytd is not None and result.ytd.value == F(35, 4)  # (8 x 10 + 9 x 30) / 40


def test_without_weights_a_cumulative_average_is_the_plain_mean(mechanics: Framework) -> None:
    result = one(mechanics, "SATISFACTION_YTD", "2025-26-Q2", figures(satisfaction=9),
                 {"2025-26-Q1": figures(satisfaction=8)})
    assert result.ytd is not None and result.ytd.value == F(17, 2)


def test_an_annual_return_judges_the_year_as_given(mechanics: Framework) -> None:
    result = one(mechanics, "PARTICIPATION", "2025-26", figures(starters=260))
    assert result.expected_share == 1 and result.ytd is None and result.forecast is None
    assert result.status == "green"


# ----------------------------------------------------------------------------- confidence


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        (52, 100, 0.4231, 0.6153),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (5, 10, 0.2366, 0.7634),
        (1, 1, 0.2065, 1.0),
    ],
)
def test_the_wilson_interval_matches_published_values(successes: int, trials: int, low: float, high: float) -> None:
    interval = wilson_interval(successes, trials)
    assert interval is not None
    assert interval[0] == pytest.approx(low, abs=1e-4)
    assert interval[1] == pytest.approx(high, abs=1e-4)


@pytest.mark.parametrize(("successes", "trials"), [(0, 0), (11, 10), (-1, 10), (1, -5)])
def test_the_wilson_interval_is_undefined_outside_a_proportion(successes: int, trials: int) -> None:
    assert wilson_interval(successes, trials) is None


def test_too_few_in_the_denominator_to_call_the_colour(mechanics: Framework) -> None:
    result = one(mechanics, "QUIT", "2025-26", figures(starters=20, quitters=10))
    assert result.status == "green"  # still coloured, but flagged
    assert result.low_confidence
    assert result.confidence_note.startswith("Too few to call: 20 in the denominator (fewer than 30)")


def test_an_interval_spanning_the_threshold_is_too_close_to_call(mechanics: Framework) -> None:
    result = one(mechanics, "QUIT", "2025-26", figures(starters=200, quitters=105))
    assert result.interval is not None
    assert result.interval[0] < 50 < result.interval[1]
    assert result.low_confidence
    assert result.confidence_note.startswith("Too close to call")


def test_a_clear_result_is_not_flagged(mechanics: Framework) -> None:
    result = one(mechanics, "QUIT", "2025-26", figures(starters=1000, quitters=900))
    assert not result.low_confidence and result.confidence_note == ""
    low, high = result.interval  # type: ignore[misc]
    assert result.as_dict()["interval_95"] == [round(low, 2), round(high, 2)]


# ----------------------------------------------------------------------------- the scorecard


def test_the_scorecard_reports_each_indicator_for_json(mechanics: Framework) -> None:
    card: Scorecard = score(mechanics, "annual", parse_period("2025-26", 4),
                            figures(starters=1000, quitters=525, lost=100, leavers=300, satisfaction="8.7"))
    quit_rate = card.result("QUIT").as_dict()
    assert {k: quit_rate[k] for k in ("ref", "name", "kind", "direction", "value", "numerator", "denominator",
                                      "target", "status", "gap", "display_value")} == {
        "ref": "QUIT", "name": "4-week quit rate", "kind": "percentage", "direction": "higher", "value": 52.5,
        "numerator": 525, "denominator": 1000, "target": ">= 50%", "status": "green", "gap": 0,
        "display_value": "52.5%"}
    assert card.result("LOST").as_dict()["direction"] == "lower"
    assert card.result("ATTRITION").as_dict()["critical"] == "> 55%"
    counts = card.counts()
    assert sum(counts.values()) == len(card.indicators)
    assert counts["info"] == 1


def test_only_the_returns_indicators_are_scored(mechanics: Framework) -> None:
    annual = score(mechanics, "annual", parse_period("2025-26", 4), figures())
    assert "TRAJECTORY" not in {r.ref for r in annual.indicators}
    quarterly = score(mechanics, "quarterly", parse_period("2025-26-Q1", 4), figures())
    assert "TRAJECTORY" in {r.ref for r in quarterly.indicators}


def test_a_quarter_on_quarter_target_compares_this_period_with_the_last_even_when_cumulative() -> None:
    fw = loader.load_text("""
schema = 1
id = "trend"
name = "Trend"
[returns.quarterly]
label = "Quarterly return"
frequency = "quarterly"
due = { rule = "day_of_next_month", day = 15 }
[[items]]
id = "exits"
label = "Unplanned exits"
[[indicators]]
ref = "T1"
name = "Unplanned exits, falling quarter on quarter"
kind = "count"
expression = "exits"
target = "< previous"
cumulative = true
""")
    q1, q2 = {("exits", ""): Fraction(30)}, {("exits", ""): Fraction(20)}
    result = score(fw, "quarterly", parse_period("2025-26-Q2", 4), q2, history={"2025-26-Q1": q1}).result("T1")
    assert result.ytd is not None and result.ytd.value == 50  # the year to date is still shown
    assert result.status == "green" and result.judgement.target == 30  # 20 this quarter against 30 last quarter


# ---------------------------------------------------------------- amber only where the contract has one (issue 12.4)


def test_a_near_miss_is_red_with_its_small_gap_when_the_contract_has_no_amber_band() -> None:
    """Seed 002: the action plan "is to be completed for ALL measures showing RED status of non-compliance
    against the specified target"; no seed defines amber, so 49.9% against "1.4 ... 50%" is red, 0.1 points off."""
    ch = loader.get("ch-stop-smoking")
    assert ch.scoring.amber is None
    card = score(ch, "quarterly", parse_period("2025-26-Q1", 4),
                 {("quits_4wk", ""): F(499), ("quit_dates", ""): F(1000)})
    result = card.result("1.4")
    assert result.status == "red" and not result.judgement.critical_failure
    assert result.gap_text == "0.1 percentage points off target"
    # 1.5 earns nothing at or below its 50% minimum ("50% or below, no PbR element will be paid"): red as well.
    assert card.result("1.5").status == "red"


@pytest.mark.parametrize(("quits", "status"), [
    (525, "part"),   # the worked example: "above the minimum target but only a quarter of the way"
    (599, "part"),
    (600, "green"),  # "If the stretch target of 60% is achieved, the full PbR element will be paid"
    (500, "red"),    # "If the % ... is 50% or below, no PbR element will be paid"
    (430, "red"),
])
def test_a_stretch_target_missed_while_the_minimum_is_met_is_the_part_payment_tier(quits: int, status: str) -> None:
    """seeds/000 Note 1: "If performance is between the minimum and stretch target, the service will receive part
    payment proportional to the performance achieved." That is a payment tier, not a failure needing an action
    plan: 1.5 between 50% and 60% is `part`, never red."""
    ch = loader.get("ch-stop-smoking")
    card = score(ch, "annual", parse_period("2025-26", 4), {("quits_4wk", ""): F(quits), ("quit_dates", ""): F(1000)},
                 contract_value=720000)
    result = card.result("1.5")
    assert result.status == status
    assert (result.gap_text.startswith("earns part payment: ")) is (status == "part")
    [payment] = card.payments
    assert (0 < payment.earned_share < F(1, 20)) is (status == "part")


@pytest.mark.parametrize(("quits", "quit_dates", "note"), [
    (202, 400, "Too close to call: the 95% interval 45.6% to 55.4% spans the minimum for payment (50%)."),
    (540, 1000, ""),  # 50.9% to 57.1%: part payment at either end
])
def test_an_interval_spanning_the_payment_minimum_is_too_close_to_call(quits: int, quit_dates: int,
                                                                      note: str) -> None:
    """50.5% earns part of 1.5's payment, but its interval reaches below the 50% minimum, where nothing is paid:
    each end of the interval is judged with its payment tier, not only against the target."""
    ch = loader.get("ch-stop-smoking")
    card = score(ch, "annual", parse_period("2025-26", 4),
                 {("quits_4wk", ""): F(quits), ("quit_dates", ""): F(quit_dates)}, contract_value=720000)
    result = card.result("1.5")
    assert (result.status, result.confidence_note, result.low_confidence) == ("part", note, bool(note))


def test_the_part_payment_tier_is_judged_on_the_year_to_date_in_year() -> None:
    ch = loader.get("ch-stop-smoking")
    q1 = {("quits_4wk", ""): F(200), ("quit_dates", ""): F(400)}   # 50%: nothing earned
    q2 = {("quits_4wk", ""): F(230), ("quit_dates", ""): F(400)}   # 57.5%: 53.75% so far this year
    card = score(ch, "quarterly", parse_period("2025-26-Q2", 4), q2, history={"2025-26-Q1": q1})
    assert (card.result("1.5").status, card.result("1.5").judged_value.value) == ("part", F(10750, 200))


BANDS = MECHANICS.replace("[scoring]\namber = { relative = 0.1 }\n", "[scoring]\n").replace(
    'ref = "QUIT"\nname = "4-week quit rate"', 'ref = "QUIT"\nname = "4-week quit rate"\namber = { absolute = 5 }')


def test_an_amber_band_is_a_per_framework_and_per_indicator_choice() -> None:
    framework = loader.load_text(BANDS)
    assert framework.scoring.amber is None
    near = figures(starters=1000, quitters=460, lost=160)
    assert one(framework, "QUIT", "2025-26", near).status == "amber"  # its own band: 45% to 50%
    assert one(framework, "LOST", "2025-26", near).status == "red"  # no band for the framework
    banded = loader.load_text(MECHANICS.replace('ref = "LOST"\nname = "Lost to follow-up"',
                                                'ref = "LOST"\nname = "Lost to follow-up"\namber = false'))
    assert one(banded, "LOST", "2025-26", near).status == "red"  # `amber = false` opts one indicator out
    assert one(banded, "QUIT", "2025-26", figures(starters=1000, quitters=460)).status == "amber"


# ---------------------------------------------------------------- annual critical levels are annual (issue 12.1)


def test_an_annual_critical_level_is_not_failed_in_year_but_puts_the_indicator_at_risk() -> None:
    """Lifestyle 2.2.2: "Incentivised key performance indicators are detailed below (annual targets)"; the critical
    failure KPI of 180 community stop-smoking starts is a level for the year, not a quarter."""
    lifestyle = loader.get("lifestyle")
    q1 = score(lifestyle, "quarterly", parse_period("2025-26-Q1", 11), {("cs_participants", ""): F(30)})
    result = q1.result("CS.1")
    assert result.status == "red" and not result.judgement.critical_failure and result.judgement.at_risk
    assert any(note.startswith("Off trajectory, at risk of critical failure") for note in result.notes)
    assert result.forecast == 120  # 30 a quarter: 120 in the year, below 180


def test_the_annual_critical_level_is_failed_on_the_full_year() -> None:
    lifestyle = loader.get("lifestyle")
    history = {f"2025-26-Q{n}": {("cs_participants", ""): F(40)} for n in (1, 2, 3)}
    q4 = score(lifestyle, "quarterly", parse_period("2025-26-Q4", 11), {("cs_participants", ""): F(40)},
               history=history)
    assert q4.result("CS.1").judgement.critical_failure  # 160 in the year < 180
    missing = score(lifestyle, "quarterly", parse_period("2025-26-Q4", 11), {("cs_participants", ""): F(40)},
                    history={"2025-26-Q3": history["2025-26-Q3"]})
    # Q1 and Q2 missing: the year is not complete, so it is not (yet) a critical failure.
    assert not missing.result("CS.1").judgement.critical_failure and missing.result("CS.1").judgement.at_risk


@given(st.one_of(st.floats(min_value=0, max_value=100), st.floats(min_value=-1e9, max_value=1e9),
                 st.sampled_from([0.0, 50.0, 49.99999999999999, 50.00000000000001, 0.5000005, 1 / 3, 2 / 3])),
       st.sampled_from([1, 7, 1000, 10**6]))
def test_the_interval_s_ends_are_rounded_to_the_fraction_the_library_would_give(x: float, limit: int) -> None:
    """Scoring judges each end of a 95% interval as the closest fraction with a denominator up to a million, worked
    out in integers rather than by Fraction.limit_denominator: the two never differ."""
    assert nearest_fraction(x, limit) == Fraction(x).limit_denominator(limit)


@pytest.mark.parametrize(("referred", "need", "flagged"), [(154, 154, False), (3, 3, False), (2, 3, True)])
def test_a_perfect_result_of_a_whole_population_is_never_too_uncertain_to_call(referred: int, need: int,
                                                                              flagged: bool) -> None:
    """Substance misuse 11.1 (100% referred): "100% (154 of 154) ... ?" read as if every user housed could be a
    fluke (issue 20, item 7). Nothing could be better than 100%, so there is nothing to call; 2 of 3 still is too
    few to call."""
    framework = loader.get("ch-substance-misuse")
    card = score(framework, "quarterly", parse_period("2025-26-Q1", 4),
                 {("housing_referred", ""): Fraction(referred), ("housing_need", ""): Fraction(need)})
    result = card.result("11.1")
    assert (result.low_confidence, bool(result.confidence_note)) == (flagged, flagged)
