"""Sample figures for the commissioner's benchmarks (national and regional averages, a top quartile): stable for
a framework from period to period, moving only a little, the stretch benchmark better than the average it
stretches. `kpi_core/samples.py` aims a sample return's figures at them; the demo loads them as the commissioner."""

from __future__ import annotations

import random
from fractions import Fraction

from kpi_core import expressions
from kpi_core.framework.model import Framework
from kpi_core.values import Key

BENCHMARK_DRIFT = 0.03  # a published average moves by at most 3% of itself from one period to the next
# Where a stretch or critical benchmark sits relative to the target's, on the good (stretch) or bad side.
STRETCH, CRITICAL = 1.25, 0.8


def tenths(value: Fraction | float) -> Fraction:
    """A figure to one decimal place, as people type them."""
    return Fraction(round(Fraction(value) * 10), 10)


def benchmarks(framework: Framework, return_id: str, seed: int) -> dict[Key, Fraction]:
    """Figures for the benchmarks thresholds refer to (`>= national_completion_pct[substance=opiate]`).

    Each rate's benchmarks (national, regional) are centred on a rate that is stable for the framework (lower for
    a rate where lower is better, such as representations), the stretch benchmark better and a critical one worse;
    from one
    period (`seed`) to the next each moves by at most BENCHMARK_DRIFT of itself."""
    found: dict[Key, Fraction] = {}
    for ind in framework.indicators_for(return_id):
        if ind.kind != "percentage":
            continue
        higher = ind.higher_is_better
        family = random.Random(f"{framework.id}:{ind.numerator}/{ind.denominator}")  # national and London alike
        fixed = [i.target.bound for i in framework.indicators_for(return_id) if i.target is not None
                 and i.target.bound is not None and (i.numerator, i.denominator) == (ind.numerator, ind.denominator)]
        if fixed:  # the contract sets its own bar for the same rate: the averages are near it
            centre = float(fixed[0]) * family.uniform(0.9, 1.1)
        else:
            centre = family.uniform(30, 80) if higher else family.uniform(5, 25)
        for which, shift in (("target", 1.0), ("stretch", STRETCH), ("critical", CRITICAL)):
            threshold = getattr(ind, which)
            node = threshold.expression if threshold is not None else None
            if not isinstance(node, expressions.Ref):
                continue
            key = (node.item, node.breakdown_key)
            drift = random.Random(f"{framework.id}:{key}:{seed}").uniform(1 - BENCHMARK_DRIFT, 1 + BENCHMARK_DRIFT)
            moved = shift if higher else 1 / shift
            found.setdefault(key, tenths(min(centre * moved * drift, 99.0)))
    return found


def sample_benchmarks(framework: Framework, return_id: str, seed: int = 0) -> dict[Key, Fraction]:
    """The commissioner's benchmarks for the period `seed` stands for (those `sample_values` aimed at)."""
    commissioner = {i.id for i in framework.items if i.source == "commissioner"}
    return {key: value for key, value in benchmarks(framework, return_id, seed).items() if key[0] in commissioner}
