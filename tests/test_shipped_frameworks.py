"""The shipped frameworks encode their source schedules: calendars, due dates, targets, critical failures, payments.

Each case is a fact from a seed document (seeds/001 Solihull, 003 lifestyle, 004 substance misuse) that a wrong
threshold, comparison, return or calendar in the TOML would break.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from kpi_core import loader
from kpi_core.calendar import parse_period
from kpi_core.duedates import due_date
from kpi_core.framework.model import Framework
from kpi_core.results import Scorecard
from kpi_core.scoring import score
from kpi_core.validation import check_rules

CONTRACT_VALUE = 1_000_000


def fw(framework_id: str) -> Framework:
    return loader.get(framework_id)


def values(**figures: int) -> dict[tuple[str, str], Fraction]:
    """Totals of a return: `values(cs_participants=250)` is `{("cs_participants", ""): Fraction(250)}`."""
    return {(item, ""): Fraction(figure) for item, figure in figures.items()}


def scored(framework_id: str, period_text: str, figures: dict[tuple[str, str], Fraction],
           history: dict[str, dict[tuple[str, str], Fraction]] | None = None) -> Scorecard:
    framework = fw(framework_id)
    period = parse_period(period_text, framework.calendar.year_start_month)
    return_id = "annual" if period.frequency == "annual" else "quarterly"
    return score(framework, return_id, period, figures, history=history, contract_value=CONTRACT_VALUE)


def test_every_shipped_framework_loads() -> None:
    assert {"ch-stop-smoking", "solihull-stop-smoking", "lifestyle", "ch-substance-misuse"} <= set(loader.shipped())


# ---------------------------------------------------------------- calendars and due dates


@pytest.mark.parametrize(
    ("framework_id", "period_text", "start", "end", "due"),
    [
        ("lifestyle", "2025-26-Q1", date(2025, 11, 1), date(2026, 1, 31), date(2026, 2, 15)),
        ("lifestyle", "2025-26-Q2", date(2026, 2, 1), date(2026, 4, 30), date(2026, 5, 15)),
        ("lifestyle", "2025-26-Q4", date(2026, 8, 1), date(2026, 10, 31), date(2026, 11, 15)),
        ("lifestyle", "2025-26", date(2025, 11, 1), date(2026, 10, 31), date(2027, 4, 30)),
        ("solihull-stop-smoking", "2025-26-Q1", date(2025, 4, 1), date(2025, 6, 30), date(2025, 7, 15)),
        ("solihull-stop-smoking", "2025-26", date(2025, 4, 1), date(2026, 3, 31), date(2026, 4, 30)),
        ("ch-substance-misuse", "2025-26-Q4", date(2026, 1, 1), date(2026, 3, 31), date(2026, 4, 15)),
        ("ch-substance-misuse", "2025-26", date(2025, 4, 1), date(2026, 3, 31), date(2026, 4, 30)),
    ],
)
def test_periods_and_due_dates_follow_the_schedule(framework_id: str, period_text: str, start: date, end: date,
                                                   due: date) -> None:
    framework = fw(framework_id)
    period = parse_period(period_text, framework.calendar.year_start_month)
    return_id = "annual" if period.frequency == "annual" else "quarterly"
    assert (period.start, period.end) == (start, end)
    assert due_date(period, framework.returns[return_id].due) == due


# ---------------------------------------------------------------- lifestyle: incentivised participation


@pytest.mark.parametrize(
    ("participants", "status", "critical_failure", "amount"),
    [
        (179, "red", True, 0),
        # Short of the baseline target but not past the critical level: red ("fail to reach the relevant KPI
        # targets ... subject to performance improvement measures", 2.2.1), not a critical failure.
        (180, "red", False, 0),
        (249, "red", False, 0),
        (250, "green", False, 0),
        (324, "green", False, 0),
        (325, "green", False, 20_000),
        (399, "green", False, 20_000),
        (400, "green", False, 40_000),
        (450, "green", False, 40_000),
    ],
)
def test_it_scores_smoking_community_participation_and_incentive_at_year_end(
        participants: int, status: str, critical_failure: bool, amount: int) -> None:
    card = scored("lifestyle", "2025-26", values(cs_participants=participants))
    result = card.result("CS.1")
    assert result.status == status
    assert result.judgement.critical_failure is critical_failure
    payment = next(p for p in card.payments if p.rule.id == "cs_incentive")
    assert payment.amount == Decimal(amount)
    assert payment.critical_failure is critical_failure
    assert payment.maximum == Decimal(40_000)


@pytest.mark.parametrize(
    ("ref", "item", "critical", "baseline", "ten", "twenty"),
    [
        ("PA.1", "pa_participants", 1200, 1800, 2000, 2200),
        ("WM.1", "wm_participants", 450, 600, 750, 900),
        ("FP.1", "fp_participants", 340, 570, 685, 800),
        ("SS.1", "ss_participants", 120, 160, 180, 200),
        ("CS.1", "cs_participants", 180, 250, 325, 400),
    ],
)
def test_each_incentive_table_row_is_encoded(ref: str, item: str, critical: int, baseline: int, ten: int,
                                              twenty: int) -> None:
    framework = fw("lifestyle")
    indicator = framework.indicator(ref)
    assert indicator.incentivised and indicator.cumulative
    payment = next(p for p in framework.payments if p.indicator == ref)
    assert [(t.at, t.share) for t in payment.tiers] == [(ten, Fraction(2, 100)), (twenty, Fraction(2, 100))]

    def year(n: int) -> Scorecard:
        return scored("lifestyle", "2025-26", {(item, ""): Fraction(n)})

    below = year(critical - 1)
    assert below.result(ref).status == "red" and below.result(ref).judgement.critical_failure
    at_critical = year(critical).result(ref)
    assert at_critical.status == "red" and not at_critical.judgement.critical_failure
    at_baseline = year(baseline)
    assert at_baseline.result(ref).status == "green"
    paid = {n: next(p for p in year(n).payments if p.indicator == ref).amount for n in (baseline, ten, twenty)}
    assert paid == {baseline: Decimal(0), ten: Decimal(20_000), twenty: Decimal(40_000)}


def test_the_incentives_add_up_to_the_twenty_percent_incentivised() -> None:
    framework = fw("lifestyle")
    total = sum((t.share for p in framework.payments for t in p.tiers), Fraction(0))  # type: ignore[union-attr]
    assert total == Fraction(20, 100)


def test_participation_is_shared_over_the_year_in_quarterly_returns() -> None:
    # Q2 of a Nov-Oct year: half of the 250 baseline (125) and of the 180 critical level (90) are expected.
    q1 = values(cs_participants=60)
    card = scored("lifestyle", "2025-26-Q2", values(cs_participants=65), history={"2025-26-Q1": q1})
    result = card.result("CS.1")
    assert result.ytd is not None and result.ytd.value == 125
    assert result.status == "green"
    # "Critical Failure KPI ... (annual targets)": 89 by Q2 is off trajectory, at risk of critical failure, but the
    # annual level of 180 is failed on the full year only.
    card = scored("lifestyle", "2025-26-Q2", values(cs_participants=29), history={"2025-26-Q1": q1})
    result = card.result("CS.1")
    assert result.status == "red" and not result.judgement.critical_failure and result.judgement.at_risk


# ---------------------------------------------------------------- lifestyle: programme KPIs


@pytest.mark.parametrize(
    ("ref", "prefix", "left_early", "status", "critical"),
    [
        ("PA.7", "pa", 39, "green", False),
        ("PA.7", "pa", 40, "red", False),   # "Less than 40 %": missed at 40
        ("PA.7", "pa", 55, "red", False),   # "Higher than 55% leaving early" is the critical failure
        ("PA.7", "pa", 56, "red", True),
        ("FP.7", "fp", 29, "green", False),
        ("FP.7", "fp", 30, "red", False),
        ("FP.7", "fp", 40, "red", False),
        ("FP.7", "fp", 41, "red", True),
        ("WM.7", "wm", 39, "green", False),
        ("WM.7", "wm", 50, "red", False),
        ("WM.7", "wm", 51, "red", True),
        ("MH.7", "mat", 19, "green", False),
        ("MH.7", "mat", 20, "red", False),
        ("MH.7", "mat", 30, "red", False),
        ("MH.7", "mat", 31, "red", True),
    ],
)
def test_attrition_is_lower_is_better_with_its_own_critical_level(ref: str, prefix: str, left_early: int,
                                                                  status: str, critical: bool) -> None:
    figures = {(f"{prefix}_left_early", ""): Fraction(left_early), (f"{prefix}_participants", ""): Fraction(100)}
    result = scored("lifestyle", "2025-26-Q1", figures).result(ref)
    assert result.status == status
    assert result.judgement.critical_failure is critical


@pytest.mark.parametrize(
    ("ref", "prefix"), [("PA.6", "pa"), ("FP.6", "fp"), ("WM.6", "wm"), ("MH.6", "mat"), ("SS.7", "ss"), ("CS.7", "cs")]
)
@pytest.mark.parametrize(
    ("total_score", "status", "critical"),
    [(850, "green", False), (1000, "green", False), (840, "red", False), (700, "red", False), (690, "red", True)]
)
def test_satisfaction_is_a_minimum_average_of_8_5_with_failure_below_7(ref: str, prefix: str, total_score: int,
                                                                        status: str, critical: bool) -> None:
    """'Minimum average 8.5'; critical failure 'Minimum average Below 7.0'."""
    figures = {(f"{prefix}_satisfaction_total", ""): Fraction(total_score),
               (f"{prefix}_satisfaction_responses", ""): Fraction(100)}
    result = scored("lifestyle", "2025-26-Q3", figures).result(ref)
    assert result.indicator.kind == "average"
    assert result.value == Fraction(total_score, 100)
    assert result.status == status and result.judgement.critical_failure is critical


@pytest.mark.parametrize(
    ("participants", "status", "stretch_met"), [(49, "red", False), (50, "green", False), (75, "green", True)]
)
def test_conversion_rate_targets_50_with_75_as_stretch(participants: int, status: str, stretch_met: bool) -> None:
    figures = values(pa_participants=participants, pa_referrals=100)
    result = scored("lifestyle", "2025-26-Q1", figures).result("PA.2")
    assert (result.status, result.judgement.stretch_met) == (status, stretch_met)


@pytest.mark.parametrize(
    ("ref", "numerator", "denominator", "at_target", "below"),
    [
        ("CS.8", "cs_quits", "cs_participants", 35, 34),
        ("CS.O1", "cs_quits_pharmoutcomes", "cs_participants", 35, 34),
        ("WM.O1a", "wm_lost_5pct", "wm_exit_reviews", 30, 29),
        ("WM.O1b", "wm_lost_3pct", "wm_exit_reviews", 50, 49),
        ("WM.O2", "wm_measurements_improved", "wm_exit_reviews", 60, 59),
        ("FP.O1", "fp_strength_balance_improved", "fp_exit_reviews", 60, 59),
        ("PA.O1", "pa_became_active", "pa_exit_reviews", 50, 49),
    ],
)
def test_outcome_targets_are_met_at_their_lower_bound(ref: str, numerator: str, denominator: str, at_target: int,
                                                      below: int) -> None:
    for n, met in ((at_target, True), (below, False)):
        figures = {(numerator, ""): Fraction(n), (denominator, ""): Fraction(100)}
        status = scored("lifestyle", "2025-26-Q1", figures).result(ref).status
        assert (status == "green") is met, (ref, n, status)


@pytest.mark.parametrize(
    "ref", ["PA.3", "PA.10", "FP.O5a", "WM.O3", "MH.1", "MH.O1", "SS.3", "SS.8", "CS.5", "CS.O2", "SV.1", "IN.1"]
)
def test_baseline_and_information_lines_are_information_only(ref: str) -> None:
    assert fw("lifestyle").indicator(ref).information_only


@pytest.mark.parametrize(
    ("ref", "annual_only"), [("PA.9", True), ("PA.11", True), ("FP.10", True), ("AR.1", True), ("PA.1", False),
                             ("PA.7", False), ("DS.1", False)]
)
def test_annually_reported_lines_are_in_the_annual_return_only(ref: str, annual_only: bool) -> None:
    indicator = fw("lifestyle").indicator(ref)
    assert (indicator.returns == ("annual",)) is annual_only


@pytest.mark.parametrize(
    ("item_id", "item_type"),
    [("insurance_certificate", "yes_no"), ("workforce_plan", "yes_no"), ("staff_leavers", "count"),
     ("vacancies", "count"), ("safeguarding_referrals", "count"), ("complaints", "count")],
)
def test_annual_return_areas_are_annual_items(item_id: str, item_type: str) -> None:
    framework = fw("lifestyle")
    item = framework.item(item_id)
    assert item.returns == ("annual",) and item.type == item_type
    assert item_id not in {i.id for i in framework.items_for("quarterly")}


@pytest.mark.parametrize(("provided", "status"), [(1, "green"), (0, "red")])
def test_survey_results_due_by_30_april_are_judged_and_the_service_failure_clause_is_the_commissioners_call(
        provided: int, status: str) -> None:
    """seeds/003 2.3.4: "The results must be available to the Council by 30th April every year. Failure to comply
    will result in Service failure" - unlike 2.5's "three consecutive periods". The annual return (due 30 April)
    carries the results: not provided is red on AR.7; whether one late or missing result is a service failure is
    listed as a discrepancy for the commissioner, not decided by kpibot."""
    card = scored("lifestyle", "2025-26", values(survey_results=provided))
    assert card.result("AR.7").status == status
    framework = fw("lifestyle")
    assert framework.returns["annual"].due.model_dump() == {"rule": "date_after", "month": 4, "day": 30,
                                                           "roll_to_working_day": False}
    [clause] = [d for d in framework.discrepancies if d.about.startswith("2.3.4")]
    assert "Failure to comply will result in Service failure" in clause.text
    assert "three consecutive periods" in clause.text and "The commissioner decides" in clause.text
    assert framework.terms.service_failure_after_late == 3  # the schedule's 2.5 rule stands for every return


@pytest.mark.parametrize(("on_time", "status"), [(19, "green"), (20, "green"), (18, "red"), (15, "red")])
def test_timeliness_is_worked_out_from_system_figures_against_95_percent(on_time: int, status: str) -> None:
    framework = fw("lifestyle")
    for item_id in ("returns_due", "returns_on_time", "returns_submitted", "returns_accurate"):
        assert framework.item(item_id).source == "system" and not framework.item(item_id).required
    result = scored("lifestyle", "2025-26-Q1", values(returns_due=20, returns_on_time=on_time)).result("DS.1")
    assert result.status == status


@pytest.mark.parametrize(("accurate", "status"), [(19, "green"), (18, "red")])
def test_accuracy_judges_the_submissions_received_against_95_percent(accurate: int, status: str) -> None:
    # 25 due, 20 received: accuracy is 19/20 = 95%, not 19/25 (never-received returns count against timeliness).
    figures = values(returns_due=25, returns_on_time=20, returns_submitted=20, returns_accurate=accurate)
    assert scored("lifestyle", "2025-26-Q1", figures).result("DS.2").status == status


@pytest.mark.parametrize(("failures", "status"), [(0, "green"), (1, "red"), (2, "red")])
def test_a_service_failure_in_the_rolling_year_is_red_on_ds3(failures: int, status: str) -> None:
    """'... not submitted ... for three consecutive periods, then this will result in service failure' (2.5): DS.3
    counts the failures on the record for the rolling year; the current run is DS.3a, for information."""
    card = scored("lifestyle", "2025-26-Q3", values(service_failures_12m=failures, returns_late_consecutive=0))
    assert card.result("DS.3").status == status
    assert not card.result("DS.3").judgement.critical_failure  # a service failure, not a critical performance one
    assert card.result("DS.3a").status == "info"


@pytest.mark.parametrize(
    ("figures", "rule_id"),
    [
        (values(pa_satisfaction_total=1001, pa_satisfaction_responses=100), "pa_satisfaction_at_most_10"),
        (values(cs_satisfaction_total=99, cs_satisfaction_responses=100), "cs_satisfaction_at_least_1"),
        (values(wm_lost_5pct=31, wm_lost_3pct=30), "wm_lost_5pct_within_3pct"),
        (values(returns_on_time=5, returns_due=4), "on_time_within_due"),
        (values(returns_accurate=5, returns_submitted=4), "accurate_within_submitted"),
    ],
)
def test_lifestyle_rules_catch_impossible_figures(figures: dict[tuple[str, str], Fraction], rule_id: str) -> None:
    codes = {f.code for f in check_rules(fw("lifestyle"), figures)}
    assert f"rule:{rule_id}" in codes


# ---------------------------------------------------------------- Solihull


@pytest.mark.parametrize(
    ("ref", "period_text"),
    [("T1.1", "2025-26-Q1"), ("T1.2", "2025-26-Q1"), ("T1.3", "2025-26"), ("T1.4a", "2025-26-Q1"),
     ("T1.4b", "2025-26-Q1"), ("T2.1", "2025-26-Q1"), ("T2.8", "2025-26-Q1"), ("T2.9a", "2025-26-Q1"),
     ("T2.9b", "2025-26-Q1"), ("T3.4", "2025-26-Q1")],
)
def test_solihull_kpis_developed_in_year_2_are_reported_for_information(ref: str, period_text: str) -> None:
    framework = fw("solihull-stop-smoking")
    indicator = framework.indicator(ref)
    assert indicator.information_only and "developed in year 2" in indicator.target_text
    figures = {(item, ""): Fraction(10) for item in ("vba_organisations", "vba_staff_trained", "promotion_summary",
                                                     "service_outputs", "service_outputs_digital",
                                                     "initial_conversations", "shisha_smokeless_quit_dates",
                                                     "ctq_clients", "ctq_quits_4wk", "smokeless_clients")}
    assert scored("solihull-stop-smoking", period_text, figures).result(ref).status == "info"


@pytest.mark.parametrize(
    ("quits", "quit_dates", "status"), [(800, 1600, "green"), (400, 800, "green"), (399, 800, "red"),
                                         (300, 800, "red")]
)
def test_solihull_4_week_conversion_is_50_percent_and_needs_an_exception_report(quits: int, quit_dates: int,
                                                                                 status: str) -> None:
    result = scored("solihull-stop-smoking", "2025-26-Q2", values(quits_4wk=quits, quit_dates=quit_dates)).result("T2.4b")
    assert result.status == status
    assert result.indicator.exception_report


@pytest.mark.parametrize(
    ("ref", "target"), [("T2.2", 1600), ("T2.4a", 800), ("T2.5a", 400)]
)
def test_solihull_annual_counts_are_cumulative(ref: str, target: int) -> None:
    indicator = fw("solihull-stop-smoking").indicator(ref)
    assert indicator.cumulative and indicator.target is not None and indicator.target.bound == target
    assert indicator.target.op == ">="


def test_solihull_quit_dates_year_to_date_is_judged_against_the_share_expected() -> None:
    history = {"2025-26-Q1": values(quit_dates=380)}
    result = scored("solihull-stop-smoking", "2025-26-Q2", values(quit_dates=420), history=history).result("T2.2")
    assert result.ytd is not None and result.ytd.value == 800 and result.judgement.target == 800
    assert result.status == "green"


@pytest.mark.parametrize(
    ("group", "quits", "status"), [("care_leavers", 10, "green"), ("care_leavers", 8, "red"),
                                   ("under_25", 10, "green"), ("pregnant_partners", 9, "red")]
)
def test_solihull_priority_group_4_week_quits_are_judged_per_group(group: str, quits: int, status: str) -> None:
    figures = {("quits_4wk", f"priority_group={group}"): Fraction(quits),
               ("quit_dates", f"priority_group={group}"): Fraction(20)}
    card = scored("solihull-stop-smoking", "2025-26-Q1", figures)
    result = next(r for r in card.indicators
                  if r.indicator.numerator == f"quits_4wk[priority_group={group}]")
    assert result.status == status and result.indicator.exception_report


def test_solihull_priority_groups_are_the_seven_listed_and_overlap() -> None:
    groups = fw("solihull-stop-smoking").disaggregations["priority_group"]
    assert not groups.exhaustive and len(groups.categories) == 7


@pytest.mark.parametrize(
    ("item_id", "in_quarterly"), [("equity_audit", False), ("annual_audit", False), ("staff_trained", False),
                                  ("promotion_summary", False), ("quit_dates", True), ("case_studies", True)]
)
def test_solihull_annual_lines_are_not_asked_for_quarterly(item_id: str, in_quarterly: bool) -> None:
    quarterly = {i.id for i in fw("solihull-stop-smoking").items_for("quarterly")}
    assert (item_id in quarterly) is in_quarterly


@pytest.mark.parametrize(
    ("ref", "numerator", "met_at", "missed_at"),
    [("T4.1", "contacts_responded_2wd", 80, 79), ("T4.2", "appointments_offered_2wd", 70, 69),
     ("T2.7", "quits_4wk_co", 85, 84)],
)
def test_solihull_quality_targets(ref: str, numerator: str, met_at: int, missed_at: int) -> None:
    framework = fw("solihull-stop-smoking")
    denominator = framework.indicator(ref).denominator
    assert denominator is not None
    for n, met in ((met_at, True), (missed_at, False)):
        figures = {(numerator, ""): Fraction(n), (denominator, ""): Fraction(100)}
        assert (scored("solihull-stop-smoking", "2025-26-Q1", figures).result(ref).status == "green") is met


# ---------------------------------------------------------------- substance misuse


@pytest.mark.parametrize(
    ("completions", "benchmark", "status"),
    [(30, 25, "green"), (25, 25, "green"), (23, 25, "red"), (20, 25, "red"), (30, None, "no_data")],
)
def test_completions_are_judged_against_the_national_benchmark(completions: int, benchmark: int | None,
                                                               status: str) -> None:
    figures = {("completions_12m", "substance=opiate"): Fraction(completions),
               ("in_treatment_12m", "substance=opiate"): Fraction(100)}
    if benchmark is not None:
        figures[("national_completion_pct", "substance=opiate")] = Fraction(benchmark)
    result = scored("ch-substance-misuse", "2025-26-Q2", figures).result("1.1")
    assert result.status == status


def test_top_quartile_is_the_stretch_for_completions() -> None:
    figures = {("completions_12m", "substance=alcohol_only"): Fraction(45),
               ("in_treatment_12m", "substance=alcohol_only"): Fraction(100),
               ("national_completion_pct", "substance=alcohol_only"): Fraction(35),
               ("top_quartile_completion_pct", "substance=alcohol_only"): Fraction(44)}
    result = scored("ch-substance-misuse", "2025-26-Q2", figures).result("1.3")
    assert result.status == "green" and result.judgement.stretch_met


@pytest.mark.parametrize(("representations", "status"), [(9, "green"), (10, "green"), (11, "red"), (12, "red")])
def test_representations_are_lower_is_better_against_the_london_benchmark(representations: int, status: str) -> None:
    figures = {("representations", "substance=non_opiate"): Fraction(representations),
               ("rep_cohort_completions", "substance=non_opiate"): Fraction(100),
               ("london_representation_pct", "substance=non_opiate"): Fraction(10)}
    assert scored("ch-substance-misuse", "2025-26-Q1", figures).result("2.2R").status == status


@pytest.mark.parametrize(
    ("ref", "numerator", "denominator", "at_bound_met", "just_better"),
    [
        ("10.2", "mh_received", "mh_referred", False, 51),         # ">50%"
        ("11.2", "housing_achieved", "housing_referred", False, 51),  # ">50% achieving stable accommodation"
        ("12.2", "hepb_completed", "hepb_accepted", False, 41),     # ">40%"
        ("12.4", "hepc_tested", "hepc_accepted", False, 51),        # ">50%"
        ("12.5b", "hcv_started_treatment", "hcv_positive", False, 61),  # ">60% start"
        ("12.5c", "hcv_completed_treatment", "hcv_started_treatment", False, 81),  # ">80% completing"
        ("13.1", "ost_continued_use", "ost_prescribed", False, 49),  # "<50%"
        ("14.3", "new_presentations_cj", "new_presentations", True, 18),  # "≥ 17%"
        ("12.1", "hepb_accepted", "hepb_eligible", True, 61),       # "60%"
        ("4.1", "prison_referrals_engaged_12m", "prison_referrals_12m", True, 31),  # national average 30%
    ],
)
def test_strict_and_inclusive_bounds_follow_the_schedule(ref: str, numerator: str, denominator: str,
                                                         at_bound_met: bool, just_better: int) -> None:
    indicator = fw("ch-substance-misuse").indicator(ref)
    assert indicator.target is not None and indicator.target.bound is not None
    bound = int(indicator.target.bound)

    def status(n: int) -> str:
        figures = {(numerator, ""): Fraction(n), (denominator, ""): Fraction(100)}
        return scored("ch-substance-misuse", "2025-26-Q1", figures).result(ref).status

    assert (status(bound) == "green") is at_bound_met
    assert status(just_better) == "green"


@pytest.mark.parametrize(
    ("deaths_last_year", "deaths", "status"), [(25, 20, "green"), (20, 20, "red"), (20, 30, "red"),
                                               (None, 20, "no_data")]
)
def test_drug_related_deaths_rate_must_fall_year_on_year(deaths_last_year: int | None, deaths: int,
                                                         status: str) -> None:
    history = {}
    if deaths_last_year is not None:
        history["2024-25"] = values(drug_related_deaths=deaths_last_year, population=280_000)
    card = scored("ch-substance-misuse", "2025-26", values(drug_related_deaths=deaths, population=280_000),
                  history=history)
    result = card.result("3.1")
    assert result.indicator.kind == "rate" and result.indicator.per == 100_000
    assert result.value == Fraction(deaths * 100_000, 280_000)
    assert result.status == status


def test_drug_related_deaths_are_in_the_annual_return_only() -> None:
    framework = fw("ch-substance-misuse")
    assert framework.indicator("3.1").returns == ("annual",)
    assert "3.1" not in {i.ref for i in framework.indicators_for("quarterly")}


@pytest.mark.parametrize(
    ("ocu_in_treatment", "fixed_status", "trend_status"),
    [(550, "green", "green"), (500, "red", "green"), (380, "red", "red"), (400, "red", "red")],
)
def test_ocu_unmet_need_has_a_fixed_bound_and_a_quarter_on_quarter_reduction(
        ocu_in_treatment: int, fixed_status: str, trend_status: str) -> None:
    # Q1: 1000 estimated, 420 in treatment = 58% unmet need.
    history = {"2025-26-Q1": values(ocu_estimated=1000, ocu_in_treatment=420)}
    card = scored("ch-substance-misuse", "2025-26-Q2", values(ocu_estimated=1000, ocu_in_treatment=ocu_in_treatment),
                  history=history)
    assert card.result("6.1").status == fixed_status
    assert card.result("6.2").status == trend_status


def test_quarter_on_quarter_reduction_needs_the_previous_quarter() -> None:
    card = scored("ch-substance-misuse", "2025-26-Q2", values(alcohol_estimated=1000, alcohol_in_treatment=400))
    assert card.result("6.3").status == "green"
    assert card.result("6.4").status == "no_data"


@pytest.mark.parametrize(
    ("non_opiate", "alcohol_non_opiate", "alcohol_only", "combined_status", "alcohol_status"),
    [(200, 150, 280, "green", "green"), (200, 149, 279, "red", "red"), (100, 100, 200, "red", "red")],
)
def test_new_presentations_are_annual_targets(non_opiate: int, alcohol_non_opiate: int, alcohol_only: int,
                                              combined_status: str, alcohol_status: str) -> None:
    figures = {("new_presentations", "substance=non_opiate"): Fraction(non_opiate),
               ("new_presentations", "substance=alcohol_non_opiate"): Fraction(alcohol_non_opiate),
               ("new_presentations", "substance=alcohol_only"): Fraction(alcohol_only)}
    card = scored("ch-substance-misuse", "2025-26", figures)
    assert card.result("5.1").status == combined_status
    assert card.result("5.2").status == alcohol_status
    assert card.result("5.1").indicator.cumulative and card.result("5.2").indicator.cumulative


def test_underrepresented_groups_are_monitored_not_coloured_until_the_24_month_review() -> None:
    """'Monitor over time, year on year increase expected in first 24 months of service delivery. Review target at
    24 months': a trend, not a colour, until the review sets a target."""
    history = {"2024-25": {("new_presentations", "underrepresented=women"): Fraction(120)}}
    same = {("new_presentations", "underrepresented=women"): Fraction(120)}
    result = scored("ch-substance-misuse", "2025-26", same, history=history).result("7.1c")
    assert result.status == "info" and result.value == 120


@pytest.mark.parametrize("ref", ["11.3a", "11.3b", "16.1", "16.2", "1.5", "7.2a"])
def test_monitor_only_lines_are_information_only(ref: str) -> None:
    assert fw("ch-substance-misuse").indicator(ref).information_only


@pytest.mark.parametrize(
    ("figures", "rule_id"),
    [
        ({("completions_12m", "substance=opiate"): Fraction(60), ("in_treatment_12m", "substance=opiate"): Fraction(50)},
         "completions_within_treatment_opiate"),
        (values(mh_received=11, mh_referred=10), "mh_received_within_referred"),
        (values(drr_atr_completed=6, drr_atr_ended=5), "orders_completed_within_ended"),
        (values(new_presentations_cj=30, new_presentations=20), "cj_presentations_within_presentations"),
    ],
)
def test_substance_misuse_rules_catch_impossible_figures(figures: dict[tuple[str, str], Fraction],
                                                         rule_id: str) -> None:
    findings = check_rules(fw("ch-substance-misuse"), figures)
    assert any(f.code == f"rule:{rule_id}" and f.is_error for f in findings)


# ---------------------------------------------------------------- mixes and monitoring (issue 12.9, 12.10)


def mix(face: int, phone: int, online: int, app: int) -> dict[tuple[str, str], Fraction]:
    figures = {("interventions", f"delivery_mode={mode}"): Fraction(n) for mode, n in
               (("face_to_face", face), ("telephone", phone), ("online", online), ("digital_app", app))}
    return {**figures, ("interventions", ""): Fraction(face + phone + online + app)}


@pytest.mark.parametrize(("figures", "status", "distance"), [
    (mix(50, 10, 20, 20), "green", 0),
    (mix(60, 5, 15, 20), "green", 10),  # every mode within 10 points of its share
    (mix(45, 15, 25, 15), "green", 5),  # more telephone than 10% was two reds as four floors; it is a mix
    (mix(70, 10, 10, 10), "red", 20),
])
def test_solihull_delivery_mix_is_one_indicator_not_four_floors(figures: dict[tuple[str, str], Fraction],
                                                                status: str, distance: int) -> None:
    """Seed 001, theme 4: "Percentage of face2face interventions 50%", "via telephone 10%", "online 20%", "via
    digital application 20%": shares of one mix adding to 100%."""
    card = scored("solihull-stop-smoking", "2025-26-Q1", figures)
    assert (card.result("T4.3").status, card.result("T4.3").value) == (status, distance)
    assert {card.result(ref).status for ref in ("T4.3a", "T4.3b", "T4.3c", "T4.3d")} == {"info"}


def test_training_sessions_below_six_attendees_are_reported_apart() -> None:
    """Seed 000 3.1-3.3: "with a minimum of 6 attendees at each session"."""
    ch = fw("ch-stop-smoking")
    for item in ("vba_sessions", "practitioner_sessions", "refresher_sessions"):
        assert "at least 6 attendees" in ch.item(item).guidance
    assert not ch.item("sessions_below_six").required


def test_referrals_are_reported_by_ethnic_group() -> None:
    """Seed 000, priority groups: "Reporting on the following by age group (incl under 18s), sex, ethnic group ...:
    number of referrals"."""
    assert "ethnic_group" in fw("ch-stop-smoking").item("referrals").breakdowns
