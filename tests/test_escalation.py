"""Escalation of late returns, and service failures as events (lifestyle schedule 2.5)."""

from __future__ import annotations

from datetime import date

import pytest

from kpi_core import loader
from kpi_core.escalation import (
    PeriodRecord,
    ServiceFailureRule,
    escalation_for,
    escalation_rule_for,
    on_record,
    service_failures,
)
from kpi_core.terms import TermOverrides, contract_terms

THREE = ServiceFailureRule(3)


@pytest.mark.parametrize(("run", "level", "failure", "commissioner_told"), [
    (0, 0, False, False),
    (1, 1, False, False),
    (2, 2, False, False),
    (3, 3, True, True),
    (7, 3, True, True),
])
def test_three_consecutive_late_periods_is_a_service_failure(run: int, level: int, failure: bool,
                                                             commissioner_told: bool) -> None:
    """'If data or information is not submitted ... as per the required timescales for three consecutive periods,
    then this will result in service failure' (lifestyle 2.5)."""
    escalation = escalation_for(run, THREE)
    assert (escalation.level, escalation.service_failure) == (level, failure)
    assert ("commissioner" in escalation.audience) is commissioner_told


@pytest.mark.parametrize("run", [3, 7])
def test_without_the_rule_late_returns_never_become_a_service_failure(run: int) -> None:
    escalation = escalation_for(run, None)
    assert escalation.level == 2 and not escalation.service_failure and "commissioner" not in escalation.audience


@pytest.mark.parametrize(("framework_id", "consecutive"), [
    ("lifestyle", 3), ("ch-stop-smoking", None), ("solihull-stop-smoking", None), ("ch-substance-misuse", None)])
def test_only_the_lifestyle_contract_has_the_service_failure_rule(framework_id: str, consecutive: int | None) -> None:
    rule = escalation_rule_for(contract_terms(loader.get(framework_id)))
    assert (rule.consecutive if rule else None) == consecutive


def test_the_commissioner_can_set_or_remove_the_rule_per_contract() -> None:
    ch = contract_terms(loader.get("ch-stop-smoking"), TermOverrides(service_failure_after_late=3))
    lifestyle = contract_terms(loader.get("lifestyle"), TermOverrides(service_failure_after_late=False))
    assert escalation_rule_for(ch) == THREE and escalation_rule_for(lifestyle) is None


def quarters(*timely: bool) -> list[PeriodRecord]:
    dues = [date(2025, 7, 15), date(2025, 10, 15), date(2026, 1, 15), date(2026, 4, 15), date(2026, 7, 15),
            date(2026, 10, 15), date(2027, 1, 15)]
    ids = ["2025-26-Q1", "2025-26-Q2", "2025-26-Q3", "2025-26-Q4", "2026-27-Q1", "2026-27-Q2", "2026-27-Q3"]
    return [PeriodRecord("quarterly", pid, due, ok) for pid, due, ok in zip(ids, dues, timely)]


def test_a_service_failure_stays_on_the_record_for_the_rolling_year_after_an_on_time_return() -> None:
    """The failure is an event with its periods; the next on-time return resets the run, not the record."""
    records = quarters(False, False, False, True)
    (failure,) = service_failures(records, THREE)
    assert failure.periods == ("2025-26-Q1", "2025-26-Q2", "2025-26-Q3") and failure.occurred == date(2026, 1, 15)
    assert on_record([failure], date(2026, 4, 20)) == [failure]  # after the on-time Q4
    assert on_record([failure], date(2027, 1, 14)) == [failure]  # the rolling 12 months' last day
    assert on_record([failure], date(2027, 1, 15)) == []


def test_six_late_quarters_in_a_row_are_two_service_failures() -> None:
    failures = service_failures(quarters(False, False, False, False, False, False), THREE)
    assert [f.periods[-1] for f in failures] == ["2025-26-Q3", "2026-27-Q2"]


def test_late_returns_of_different_types_do_not_make_a_run() -> None:
    records = [PeriodRecord("quarterly", "2025-26-Q1", date(2025, 7, 15), False),
               PeriodRecord("annual", "2024-25", date(2025, 4, 30), False),
               PeriodRecord("quarterly", "2025-26-Q2", date(2025, 10, 15), False)]
    assert service_failures(records, THREE) == []
