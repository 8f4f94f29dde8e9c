"""A return assessed in its stored context: the commissioner's benchmarks, the contract's terms, the framework
version of its contract year, and the cohorts it follows up (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction

import sqlalchemy as sa
from sqlmodel import Session

from bot.assessment.comparators import save_benchmarks
from bot.assessment.in_context import assess_in_context, framework_for, history_periods
from bot.storage.models import Contract
from kpi_core import loader
from kpi_core.calendar import parse_period
from kpi_core.comparators import Benchmark
from kpi_core.returns.csv_long import parse_csv
from kpi_core.terms import TermOverrides, contract_terms

OCT_20 = datetime(2025, 10, 20, 9, tzinfo=UTC)
Q2 = parse_period("2025-26-Q2", 4)


def test_the_stored_benchmark_judges_the_return_not_the_providers_copy(loaded: sa.Engine) -> None:
    data = (b"item,breakdown,value\ncompletions_12m,substance=opiate,41\nin_treatment_12m,substance=opiate,100\n"
            b"national_completion_pct,substance=opiate,10\n")
    with Session(loaded) as session:
        save_benchmarks(session, [Benchmark("ch-substance-misuse", "2025-26-Q1", "national_completion_pct",
                                            "substance=opiate", Fraction(42), "NDTMS", date(2025, 7, 10))],
                        OCT_20, "b.csv")
        contract = session.get(Contract, "ch-substance-misuse")
        assert contract is not None
        assessed = assess_in_context(session, contract, Q2, parse_csv(data, "q2.csv"), OCT_20, "Europe/London")
    result = assessed.assessment.scorecard.result("1.1")
    assert (result.status, result.judgement.target) == ("red", 42)  # Q1's figure stands until Q2's is loaded
    assert [b.source for b in assessed.assessment.benchmarks] == ["NDTMS"]


def test_the_lifestyle_data_submission_kpis_are_judged_and_removed_by_the_commissioners_terms(
        loaded: sa.Engine) -> None:
    """Lifestyle 2.5 "Timeliness ... Target: 95%": judged from the submission log when the contract's terms have
    data-submission KPIs; a contract whose config removes them does not have them: they are not applicable, never
    "no data (could not be judged)" (issue 20, item 8)."""
    lifestyle = loader.get("lifestyle")
    q1 = parse_period("2025-26-Q1", 11)
    contract = Contract(id="ch-stop-smoking", name="x", framework_id="lifestyle", framework_version="2025.1",
                        provider_id="breathe-easy", commissioner_id="example-council", value=1, start=date(2025, 11, 1),
                        year_start_month=11)
    data = b"item,breakdown,value\ncs_participants,,60\n"
    with Session(loaded) as session:
        kept = assess_in_context(session, contract, q1, parse_csv(data, "q.csv"), OCT_20, "Europe/London")
        removed = assess_in_context(session, contract, q1, parse_csv(data, "q.csv"), OCT_20, "Europe/London",
                                    terms=contract_terms(lifestyle, TermOverrides(data_submission=False,
                                                                                   service_failure_after_late=False)))
    assert kept.assessment.scorecard.result("DS.1").status != "no_data"
    assert "DS.1" not in {r.ref for r in removed.assessment.scorecard.indicators}
    assert removed.assessment.framework.not_applicable[:2] == (
        "DS.1 Timeliness of data and information submissions (rolling 12 months)",
        "DS.2 Accuracy of data and information submissions, right first time (rolling 12 months)")


def test_history_includes_the_cohorts_followed_up() -> None:
    """CH 1.10 and 1.11 follow up the quitters of 6 and 12 months earlier."""
    periods = [p.id for p in history_periods(loader.get("ch-stop-smoking"), "quarterly", parse_period("2025-26-Q3", 4))]
    assert periods == ["2025-26-Q1", "2025-26-Q2", "2024-25-Q3"]


def test_the_framework_version_follows_the_contract_year(loaded: sa.Engine) -> None:
    with Session(loaded) as session:
        contract = session.get(Contract, "solihull-stop-smoking")
        assert contract is not None
        assert framework_for(contract, parse_period("2025-26-Q4", 4)).version == "2025.1"
        assert framework_for(contract, parse_period("2026-27-Q1", 4)).version == "2026.1"
