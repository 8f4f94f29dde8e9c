"""Sample figures (the demo's, the docs' and many tests') look like a real service's, for every shipped framework."""

from __future__ import annotations

from fractions import Fraction

import pytest

from kpi_core import expressions, loader, sample_comparators, samples
from kpi_core.assess import assess
from kpi_core.calendar import ReportingYear
from kpi_core.returns.csv_long import parse_csv

CASES = [(f, r) for f in sorted(loader.shipped()) for r in loader.get(f).returns]


def periods(framework_id: str, return_id: str):  # type: ignore[no-untyped-def]
    framework = loader.get(framework_id)
    year = ReportingYear.starting(2025, framework.calendar.year_start_month)
    return year.periods(framework.returns[return_id].frequency)


@pytest.mark.parametrize(("framework_id", "return_id"), CASES)
@pytest.mark.parametrize("level", [0.92, 0.7])
def test_samples_are_accepted_and_every_rate_is_a_part_of_its_whole(framework_id: str, return_id: str,
                                                                    level: float) -> None:
    framework = loader.get(framework_id)
    for seed, period in enumerate(periods(framework_id, return_id)):
        values = samples.sample_values(framework, return_id, seed=seed, level=level)
        result = assess(framework, period, parse_csv(samples.to_csv(values).encode(), "sample.csv"))
        assert result.accepted, [f.text() for f in result.errors][:3]
        lookup = expressions.lookup_from(values)
        for ind in framework.indicators_for(return_id):
            if ind.kind != "percentage" or not ind.numerator or not ind.denominator:
                continue
            part = expressions.evaluate(expressions.parse(ind.numerator), lookup)
            whole = expressions.evaluate(expressions.parse(ind.denominator), lookup)
            if isinstance(part, Fraction) and isinstance(whole, Fraction):
                assert 0 <= part <= whole, (ind.ref, part, whole)
            num, den = expressions.parse(ind.numerator), expressions.parse(ind.denominator)
            if isinstance(num, expressions.Ref) and isinstance(den, expressions.Ref) and not num.breakdown:
                for dim in set(framework.item(num.item).breakdowns) & set(framework.item(den.item).breakdowns):
                    for cat in framework.disaggregations[dim].categories:
                        key = f"{dim}={cat}"
                        assert values[(num.item, key)] <= values[(den.item, key)], (ind.ref, key)


@pytest.mark.parametrize("framework_id", sorted(loader.shipped()))
def test_a_strong_provider_misses_only_a_few_targets(framework_id: str) -> None:
    framework = loader.get(framework_id)
    period = periods(framework_id, "quarterly")[0]
    judged = missed = 0
    for seed in range(4):
        values = samples.sample_values(framework, "quarterly", seed=seed, level=0.92)
        card = assess(framework, period, parse_csv(samples.to_csv(values).encode(), "s.csv")).scorecard
        coloured = [r for r in card.indicators if r.status in ("green", "amber", "red")]
        judged += len(coloured)
        missed += sum(r.status != "green" for r in coloured)
    assert 0 < missed <= judged * 0.25


def test_a_score_out_of_ten_is_about_what_services_get() -> None:
    """Not 1.08 out of 10: a satisfaction sum is the responses times a score near the 8.5 target."""
    framework = loader.get("lifestyle")
    scores = []
    for seed in range(4):
        values = samples.sample_values(framework, "quarterly", seed=seed, level=0.92)
        scores.append(values[("pa_satisfaction_total", "")] / values[("pa_satisfaction_responses", "")])
    assert all(Fraction(68, 10) <= s <= 10 for s in scores), [float(s) for s in scores]


def test_benchmarks_move_slowly_and_the_top_quartile_is_better_than_the_average() -> None:
    framework = loader.get("ch-substance-misuse")
    by_period = [sample_comparators.benchmarks(framework, "quarterly", seed) for seed in range(4)]
    for key in by_period[0]:
        series = [b[key] for b in by_period]
        assert max(series) <= min(series) * Fraction(107, 100), (key, [float(v) for v in series])
        assert all(0 < v < 100 for v in series)
    first = by_period[0]
    for cat in framework.disaggregations["substance"].categories:
        national = first[("national_completion_pct", f"substance={cat}")]
        assert first[("top_quartile_completion_pct", f"substance={cat}")] > national
        assert first[("top_quartile_representation_pct", f"substance={cat}")] < \
            first[("national_representation_pct", f"substance={cat}")]  # fewer people returning is better
