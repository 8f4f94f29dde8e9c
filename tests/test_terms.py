"""Contract terms: what the schedule states, what kpibot assumed, and what the commissioner changed per contract.

Issue 12.5: the City and Hackney annual return and three seeds' due dates are kpibot's assumptions; the lifestyle
schedule's data-submission KPIs and "three consecutive late periods" rule are its own terms, not every contract's.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot import config
from kpi_core import loader, terms
from kpi_core.calendar import parse_period
from kpi_core.duedates import due_date, meeting_date
from kpi_core.terms import TermOverrides, contract_terms

FRAMEWORKS = sorted(loader.shipped())


@pytest.mark.parametrize(("framework_id", "assumed_returns"), [
    ("ch-stop-smoking", {"quarterly", "annual"}),  # "Reporting Frequency: Quarterly", no due date, no annual return
    ("solihull-stop-smoking", {"quarterly", "annual"}),  # frequencies only
    ("ch-substance-misuse", {"quarterly", "annual"}),  # frequencies only
    ("lifestyle", set()),  # "15th of the month directly after the reporting period"; "by no later than 30 April"
])
def test_returns_and_due_dates_the_schedule_does_not_state_are_marked_assumed(framework_id: str,
                                                                              assumed_returns: set[str]) -> None:
    framework = loader.get(framework_id)
    assert {rid for rid, r in framework.returns.items() if r.assumed} == assumed_returns


@pytest.mark.parametrize(("framework_id", "data_submission", "failure_after"), [
    ("lifestyle", True, 3), ("ch-stop-smoking", False, None), ("solihull-stop-smoking", False, None),
    ("ch-substance-misuse", False, None)])
def test_only_the_lifestyle_schedule_has_data_submission_kpis_and_the_service_failure_rule(
        framework_id: str, data_submission: bool, failure_after: int | None) -> None:
    """Lifestyle 2.5: "Timeliness ... Target: 95%", "Accuracy ... Target: 95%", "three consecutive periods"."""
    found = contract_terms(loader.get(framework_id))
    assert (found.data_submission is not None, found.service_failure_after_late) == (data_submission, failure_after)
    if data_submission:
        assert (found.data_submission.timeliness_target, found.data_submission.accuracy_target) == (95, 95)


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_frameworks_show_lists_every_assumption_so_a_commissioner_can_confirm_it(framework_id: str) -> None:
    framework = loader.get(framework_id)
    listed = terms.assumptions(framework)
    texts = {a.text for a in listed}
    assert {r.assumed for r in framework.returns.values() if r.assumed} <= texts
    assert {i.assumed for i in framework.indicators if i.assumed} <= texts
    assert {d.assumed for d in framework.disaggregations.values() if d.assumed} <= texts
    assert any(a.about == "scoring" for a in listed)  # the (absent) amber band is a choice too
    assert all(a.state in ("assumed", "discrepancy", "not encoded") for a in listed)


def test_the_lifestyle_total_row_that_does_not_add_up_is_kept_and_flagged() -> None:
    """Seed 003: TOTAL 2290 / 3340 / 4500 / 3920, but the rows add up to 3380 and 3940."""
    lifestyle = loader.get("lifestyle")
    (flag,) = [d for d in lifestyle.discrepancies if d.about == "INC.T"]
    assert "3380" in flag.text and "3940" in flag.text
    assert "3340" in lifestyle.indicator("INC.T").target_text and "3920" in lifestyle.indicator("INC.T").target_text
    assert any(a.state == "discrepancy" and a.about == "INC.T" for a in terms.assumptions(lifestyle))


def test_the_quarterly_performance_meeting_is_at_the_end_of_the_month_after_the_quarter() -> None:
    """Seed 003 2.4.1: "To be arrange for the end of the month of the monitoring return ie end of February for Q1"."""
    lifestyle = loader.get("lifestyle")
    q1 = parse_period("2025-26-Q1", 11)
    assert due_date(q1, lifestyle.returns["quarterly"].due) == date(2026, 2, 15)
    assert meeting_date(q1, lifestyle.returns["quarterly"]) == date(2026, 2, 28)


def test_the_commissioner_sets_or_removes_each_term_per_contract() -> None:
    ch = loader.get("ch-stop-smoking")
    changed = TermOverrides.model_validate({
        "returns": {"annual": False, "quarterly": {"due": {"rule": "day_of_next_month", "day": 20}}},
        "data_submission": {"timeliness_target": 90}, "service_failure_after_late": 3})
    found = contract_terms(ch, changed)
    assert list(found.returns) == ["quarterly"] and found.returns["quarterly"].due.day == 20  # type: ignore[union-attr]
    assert found.data_submission is not None and found.data_submission.timeliness_target == 90
    assert found.service_failure_after_late == 3
    states = {a.about: a.state for a in terms.assumptions(ch, changed)}
    assert states["returns.annual"] == "removed in config.toml"
    assert states["returns.quarterly"] == "set in config.toml"
    assert states["terms.service_failure_after_late"] == "set in config.toml"
    removed = contract_terms(loader.get("lifestyle"), TermOverrides.model_validate(
        {"data_submission": False, "service_failure_after_late": False}))
    assert removed.data_submission is None and removed.service_failure_after_late is None


def test_config_toml_carries_the_terms_and_refuses_ones_that_cannot_apply(tmp_path: Path,
                                                                         ch_stop_smoking_config: Path) -> None:
    text = ch_stop_smoking_config.read_text(encoding="utf-8")
    good = tmp_path / "good.toml"
    good.write_text(text + "\n[contracts.terms]\nservice_failure_after_late = 3\n"
                           "[contracts.terms.returns]\nannual = false\n", encoding="utf-8")
    contract = config.load(good, environ={}).contracts[0]
    assert contract.contract_terms().service_failure_after_late == 3
    assert list(contract.contract_terms().returns) == ["quarterly"]
    bad = tmp_path / "bad.toml"
    bad.write_text(text + "\n[contracts.terms.returns]\nmonthly = { label = \"Monthly\" }\n", encoding="utf-8")
    with pytest.raises(config.ConfigError, match="returns.monthly: a new return needs label, frequency and due"):
        config.load(bad, environ={})


def test_a_timeliness_target_set_for_a_contract_is_the_target_ds1_is_judged_against() -> None:
    """Lifestyle 2.5 "Target: 95%"; a commissioner who agrees 90% for a contract sets it in config.toml."""
    lifestyle = loader.get("lifestyle")
    same = terms.apply_terms(lifestyle, contract_terms(lifestyle))
    assert same is lifestyle
    ninety = terms.apply_terms(lifestyle, contract_terms(lifestyle, TermOverrides.model_validate(
        {"data_submission": {"timeliness_target": 90}})))
    assert ninety.indicator("DS.1").target.bound == 90 and ninety.indicator("DS.2").target.bound == 95  # type: ignore[union-attr]
    assert lifestyle.indicator("DS.1").target.bound == 95  # type: ignore[union-attr]  # the shipped file is untouched


@pytest.mark.parametrize(("terms_text", "message"), [
    ("service_failure_after_late = true", "service_failure_after_late: give the number of consecutive late periods"),
    ("service_failure_after_late = 13", "service_failure_after_late: give the number of consecutive late periods"),
    ("data_submission = true", "data_submission: give the targets"),
    ("returns = { annual = true }", "returns: annual: give a change"),
    ("returns = { annual = false, quarterly = false }", "returns: a contract must owe at least one return"),
])
def test_a_term_written_the_wrong_way_is_refused_naming_the_key(tmp_path: Path, ch_stop_smoking_config: Path,
                                                                terms_text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(ch_stop_smoking_config.read_text(encoding="utf-8") + f"\n[contracts.terms]\n{terms_text}\n",
                    encoding="utf-8")
    with pytest.raises(config.ConfigError) as excinfo:
        config.load(path, environ={})
    assert message in str(excinfo.value) and "contracts #1 (id 'ch-stop-smoking'): terms" in str(excinfo.value)
