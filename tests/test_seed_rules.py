"""Validation rules the seeds imply: parts within wholes, sums within totals, the same people counted twice, and
figures that can be true but seldom are (warnings quoting what the schedule expects).

Issue 20, item 18: the demo accepted, without a word, Treating Tobacco Dependency referrals (222) above all
referrals (193); 10 pregnant quitters and 10 lost to follow-up out of 10 who set a quit date; 53% of quit-date
setters under 18 (the seed expects "very few under 18s"); 123 specialty training sessions in a quarter.
"""

from __future__ import annotations

from fractions import Fraction

import pytest

from kpi_core import loader, samples
from kpi_core.assess import assess
from kpi_core.calendar import ReportingYear, parse_period
from kpi_core.findings import Finding
from kpi_core.returns.csv_long import parse_csv
from kpi_core.values import Key

F = Fraction


def findings(framework_id: str, changes: dict[Key, int], period_text: str = "2025-26-Q1") -> list[Finding]:
    """The findings of a plausible sample return with `changes` typed over it."""
    framework = loader.get(framework_id)
    period = parse_period(period_text, framework.calendar.year_start_month)
    return_id = "annual" if period.frequency == "annual" else "quarterly"
    values = samples.sample_values(framework, return_id, seed=3)
    values.update({key: F(v) for key, v in changes.items()})
    return assess(framework, period, parse_csv(samples.to_csv(values).encode(), "r.csv")).findings


def rule_findings(found: list[Finding], rule_id: str) -> list[Finding]:
    return [f for f in found if f.code == f"rule:{rule_id}"]


# ---------------------------------------------------------------- the four cases the demo let through

def test_tdt_referrals_above_all_referrals_are_refused() -> None:
    """seeds/000: "Reporting on referrals from the NHS Long Term Plan Treating Tobacco Dependency Teams at Homerton
    and ELFT": those referrals are part of all referrals received."""
    found = findings("ch-stop-smoking", {("referrals", ""): 193, ("tdt_referrals", ""): 222})
    [finding] = rule_findings(found, "tdt_referrals_within_referrals")
    assert finding.severity == "error"
    assert finding.message.startswith("Referrals from the Treating Tobacco Dependency teams are part of all "
                                      "referrals received, so they cannot exceed them")


def test_ten_pregnant_quitters_and_ten_lost_of_ten_who_set_a_quit_date_are_refused() -> None:
    """4-week quitters and those lost to follow-up are different people among those who set a quit date
    (Russell Standard): their sum cannot exceed them, for pregnant women as for everyone."""
    found = findings("ch-stop-smoking", {("quit_dates", "priority_group=pregnant"): 10,
                                         ("quits_4wk", "priority_group=pregnant"): 10,
                                         ("lost_4wk", "priority_group=pregnant"): 10})
    [finding] = rule_findings(found, "lost_and_quit_within_quit_dates_priority_group_pregnant")
    assert finding.severity == "error"
    assert finding.message.startswith("Pregnant woman (key priority group): 4-week quitters plus those lost to "
                                      "follow-up cannot exceed the people who set a quit date")


def test_the_same_sum_holds_at_12_weeks_and_in_every_age_band() -> None:
    sample = samples.sample_values(loader.get("ch-stop-smoking"), "quarterly", seed=3)
    band = ("quit_dates", "age_band=45_54")
    found = findings("ch-stop-smoking", {("quits_12wk", "age_band=45_54"): int(sample[band]),
                                         ("lost_12wk", "age_band=45_54"): 5})
    assert rule_findings(found, "lost_and_quit_12wk_within_quit_dates_age_band_45_54")


def test_more_than_a_few_under_18s_is_a_warning_quoting_the_seed() -> None:
    """seeds/000, footnote 2: "it is expected that very few under 18s will access the service but this will need
    to be monitored". 223 of 421 is possible, so a warning, never a refusal."""
    found = findings("ch-stop-smoking", {("quit_dates", "age_band=under_18"): 223,
                                         ("quit_dates", "priority_group=under_18"): 223})
    [finding] = rule_findings(found, "very_few_under_18s")
    assert finding.severity == "warning"
    assert "the schedule expects that 'very few under 18s will access the service'" in finding.message


def test_the_under_18s_among_the_priority_groups_are_the_age_bands_under_18s() -> None:
    sample = samples.sample_values(loader.get("ch-stop-smoking"), "quarterly", seed=3)
    found = findings("ch-stop-smoking", {("quit_dates", "priority_group=under_18"): 223})
    [finding] = rule_findings(found, "same_quit_dates_priority_group_under_18")
    assert finding.severity == "error"
    assert finding.message.startswith("People setting a quit date: Under 18 (key priority group) and Under 18 "
                                      "(age band) are the same people, so the two figures must be equal")
    assert sample[("quit_dates", "priority_group=under_18")] == sample[("quit_dates", "age_band=under_18")]


def test_123_specialty_training_sessions_in_a_quarter_is_a_warning_quoting_the_seed() -> None:
    """seeds/000 training: 6 VBA, 4 practitioner and 2 refresher sessions a year, "with a minimum of 6 attendees at
    each session". 123 specialty sessions in a quarter is most likely a count of attendees."""
    [finding] = rule_findings(findings("ch-stop-smoking", {("specialty_sessions", ""): 123}),
                              "specialty_sessions_in_a_quarter")
    assert finding.severity == "warning"
    assert "'with a minimum of 6 attendees at each session'" in finding.message
    assert "check that the figure counts sessions, not attendees" in finding.message
    # The annual return carries the year's figures: 40 sessions in a year is no surprise.
    assert not rule_findings(findings("ch-stop-smoking", {("specialty_sessions", ""): 40}, "2025-26"),
                             "specialty_sessions_in_a_quarter")


# ---------------------------------------------------------------- the same classes in every shipped framework

@pytest.mark.parametrize(("framework_id", "changes", "rule_id", "severity"), [
    pytest.param("ch-substance-misuse", {("new_presentations", ""): 900, ("in_treatment", ""): 800},
                 "new_presentations_within_in_treatment", "error", id="new presentations above those in treatment"),
    pytest.param("ch-substance-misuse", {("exits", ""): 900, ("in_treatment", ""): 800},
                 "exits_within_in_treatment", "error", id="exits above those in treatment"),
    pytest.param("lifestyle", {("pa_participants", "age_band=under_18"): 20},
                 "pa_participants_are_adults", "warning", id="physical activity is for adults"),
    pytest.param("lifestyle", {("fp_falls", "stage=during"): 3, ("fp_fall_admissions", "stage=during"): 9},
                 "fp_admissions_follow_falls_stage_during", "warning", id="admissions follow falls"),
    pytest.param("ch-stop-smoking", {("longer_term_quit", ""): 900}, "longer_term_quit_within_quits", "error",
                 id="longer-term quitters are quitters"),
    pytest.param("ch-stop-smoking", {("web_new_visitors", ""): 900, ("web_visitors", ""): 100},
                 "new_visitors_within_visitors", "error", id="new visitors within visitors"),
])
def test_every_shipped_framework_has_the_same_classes_of_rule(framework_id: str, changes: dict[Key, int],
                                                                rule_id: str, severity: str) -> None:
    assert [f.severity for f in rule_findings(findings(framework_id, changes), rule_id)] == [severity]


def test_falls_prevention_mostly_under_65_is_a_warning_quoting_its_criteria() -> None:
    """seeds/003, Falls Prevention criteria: "For those 65+ (exceptions can be made for those with relevant health
    conditions)"."""
    framework = loader.get("lifestyle")
    sample = samples.sample_values(framework, "quarterly", seed=3)
    total = sample[("fp_participants", "")]
    bands = list(framework.disaggregations["age_band"].categories)
    changes = {("fp_participants", f"age_band={b}"): 0 for b in bands}
    changes[("fp_participants", "age_band=45_54")] = int(total)  # everyone 45-54
    [finding] = rule_findings(findings("lifestyle", changes), "fp_participants_mostly_65_plus")
    assert finding.severity == "warning" and "'For those 65+ (exceptions can be made" in finding.message


@pytest.mark.parametrize("framework_id", sorted(loader.shipped()))
def test_a_warning_quotes_what_the_schedule_expects_and_an_error_says_why_it_cannot_be(framework_id: str) -> None:
    """A warning is for a figure that can be true: it says what the schedule expects (a quotation) so the
    provider can check it; an error is for one that cannot be."""
    for rule in loader.get(framework_id).rules:
        if rule.severity == "warning" and not rule.generated and "'" in rule.message:
            assert "check" in rule.message or "normally" in rule.message or "seldom" in rule.message, rule.id


# ---------------------------------------------------------------- the demo passes its own rules

CASES = [(f, r) for f in sorted(loader.shipped()) for r in loader.get(f).returns]


@pytest.mark.parametrize(("framework_id", "return_id"), CASES)
@pytest.mark.parametrize("level", [0.92, 0.7])
def test_sample_returns_pass_every_rule_of_their_framework_warnings_included(framework_id: str, return_id: str,
                                                                             level: float) -> None:
    """The demo's providers fill their returns with these figures: a commissioner reading the demo must see a
    careful provider's return, which no rule of the framework questions."""
    framework = loader.get(framework_id)
    year = ReportingYear.starting(2025, framework.calendar.year_start_month)
    for seed, period in enumerate(year.periods(framework.returns[return_id].frequency)):
        values = samples.sample_values(framework, return_id, seed=seed, level=level)
        found = assess(framework, period, parse_csv(samples.to_csv(values).encode(), "s.csv")).findings
        questioned = [f.text() for f in found if f.code.startswith("rule:") or f.severity == "error"]
        assert questioned == [], (seed, questioned[:3])
        if framework_id == "ch-stop-smoking" and return_id == "quarterly":
            quit_dates = values[("quit_dates", "")]
            assert values[("quit_dates", "age_band=under_18")] <= quit_dates / 10  # "very few under 18s"
            assert values[("specialty_sessions", "")] <= 12
            assert values[("tdt_referrals", "")] <= values[("referrals", "")]
