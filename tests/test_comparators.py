"""Benchmarks come from the commissioner (issue 12.8).

Seed 004: "Per substance, to perform in line with or exceeding national and regional average performance.
Performance within the top quartile range must be an aspiration of the service." A provider must not set its own
bar: the figures are loaded by the commissioner with their source and date, and a return's copy is ignored.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from kpi_core import loader
from kpi_core.assess import assess
from kpi_core.calendar import parse_period
from kpi_core.comparators import Benchmark, BenchmarkFileError, in_force, read_benchmarks
from kpi_core.returns.csv_long import parse_csv

MISUSE = loader.get("ch-substance-misuse")
Q2 = parse_period("2025-26-Q2", 4)
HEADER = "framework,period,item,breakdown,value,source,published\n"


def national(period: str, value: str, published: date | None = date(2025, 10, 1)) -> Benchmark:
    return Benchmark("ch-substance-misuse", period, "national_completion_pct", "substance=opiate", Fraction(value),
                     "NDTMS", published)


def test_a_benchmark_file_is_read_with_its_source_and_date() -> None:
    text = HEADER + "ch-substance-misuse,2025-26-Q2,national_completion_pct,Substance=Opiate,5.1,NDTMS,2025-10-01\n"
    (b,) = read_benchmarks(text, loader.shipped())
    assert (b.period_id, b.item, b.breakdown, b.value, b.source, b.published) == (
        "2025-26-Q2", "national_completion_pct", "substance=opiate", Fraction(51, 10), "NDTMS", date(2025, 10, 1))


@pytest.mark.parametrize(("line", "problem"), [
    ("ch-substance-misuse,2025-26-Q2,completions_12m,substance=opiate,5,NDTMS,", "is not a benchmark of"),
    ("ch-substance-misuse,2025-26-Q2,national_completion_pct,substance=opiate,101,NDTMS,", "is outside 0 to 100"),
    ("ch-substance-misuse,2025-26-Q2,national_completion_pct,substance=opiate,5,,", "source is empty"),
    ("ch-substance-misuse,2025-26-Q2,national_completion_pct,substance=opiate,5,NDTMS,1 Oct", "is not a date"),
    ("ch-substance-misuse,2025-Q2,national_completion_pct,substance=opiate,5,NDTMS,", "2025-Q2"),
])
def test_a_bad_line_is_named_and_nothing_loads(line: str, problem: str) -> None:
    good = "ch-substance-misuse,2025-26-Q2,national_completion_pct,substance=opiate,5.1,NDTMS,2025-10-01\n"
    with pytest.raises(BenchmarkFileError) as excinfo:
        read_benchmarks(HEADER + good + line + "\n", loader.shipped(), where="b.csv ")
    (found,) = excinfo.value.problems
    assert found.startswith("b.csv line 3: ") and problem in found


def test_the_latest_benchmark_loaded_for_a_period_up_to_this_one_is_in_force() -> None:
    loaded = [national("2025-26-Q1", "40"), national("2025-26-Q2", "42"), national("2025-26-Q3", "44")]
    assert [b.value for b in in_force(loaded, Q2, 4)] == [42]
    assert [b.value for b in in_force(loaded[:1], Q2, 4)] == [40]  # none for Q2 yet: Q1's still stands
    assert in_force(loaded[2:], Q2, 4) == []  # a later period's figure never judges an earlier return


def test_a_returns_own_benchmark_is_ignored_and_the_commissioners_is_used() -> None:
    data = (b"item,breakdown,value\ncompletions_12m,substance=opiate,41\nin_treatment_12m,substance=opiate,100\n"
            b"national_completion_pct,substance=opiate,10\n")
    parsed = parse_csv(data, "q2.csv")
    own = assess(MISUSE, Q2, parsed)
    assert own.scorecard.result("1.1").status == "no_data"  # the provider's 10% bar is not used
    assert any(f.code == "benchmark_item" for f in own.warnings)
    judged = assess(MISUSE, Q2, parsed, benchmarks=[national("2025-26-Q2", "42")])
    result = judged.scorecard.result("1.1")
    assert result.status == "red" and result.judgement.target == 42
    # Named in the framework's words, never `national_completion_pct[substance=opiate]` (issue 20, item 12).
    assert any(n.startswith("Benchmark: National average rate of successful completions (%) (Substance group: "
                            "Opiate): 42% (NDTMS, published 1 October 2025; for Q2 2025-26 (July 2025 to "
                            "September 2025))") for n in result.notes), result.notes
