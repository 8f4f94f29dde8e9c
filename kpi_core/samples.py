"""Plausible sample figures for any framework: for the demo, examples, tests and benchmarks.

The figures obey the framework's own validation rules and breakdown totals, so a sample return is accepted; a
`level` moves performance up or down so samples show every colour. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from fractions import Fraction

from kpi_core import expressions
from kpi_core.framework import DataItem, Framework
from kpi_core.values import Key

MAX_PASSES = 30


def _base(item: DataItem, rng: random.Random, scale: int) -> Fraction:
    if item.type == "yes_no":
        return Fraction(1)
    if item.type == "average":
        low = item.minimum if item.minimum is not None else 0
        high = item.maximum if item.maximum is not None else max(low + 10, 10)
        if high <= 10:  # a score such as satisfaction out of 10: mostly good
            return Fraction(round(rng.uniform(max(low, high * 0.75), high), 1)).limit_denominator(10)
        return Fraction(round(rng.uniform(low, min(high, low + 100)), 1)).limit_denominator(10)
    value = Fraction(int(scale * rng.uniform(0.6, 1.4)))
    if item.type == "sum":
        value += Fraction(rng.randint(0, 9), 10)
    return value


def _shares(categories: list[str], rng: random.Random) -> dict[str, Fraction]:
    weights = [rng.randint(1, 10) for _ in categories]
    total = sum(weights)
    return {c: Fraction(w, total) for c, w in zip(categories, weights)}


def _split(total: Fraction, shares: dict[str, Fraction]) -> dict[str, Fraction]:
    """Split a whole total by shares into whole parts that add up exactly."""
    parts = {c: Fraction(int(total * s)) for c, s in shares.items()}
    remainder = total - sum(parts.values())
    for category in list(shares)[: int(remainder)]:
        parts[category] += 1
    return parts


def _fix_rules(framework: Framework, values: dict[Key, Fraction], level: float) -> None:
    """Shrink the smaller side of every `a <= b` rule until all hold (rules here form a hierarchy)."""
    lookup = expressions.lookup_from(values)
    for _ in range(MAX_PASSES):
        broken = False
        for rule in framework.rules:
            node = expressions.parse(rule.check, allow_comparison=True)
            assert isinstance(node, expressions.Compare)
            if expressions.evaluate(node, lookup) is not False:
                continue
            broken = True
            small, big = (node.left, node.right) if node.op in ("<=", "<", "==") else (node.right, node.left)
            big_value = expressions.evaluate(big, lookup)
            small_value = expressions.evaluate(small, lookup)
            if not isinstance(big_value, Fraction) or not isinstance(small_value, Fraction) or small_value <= 0:
                continue
            factor = big_value / small_value * Fraction(str(min(max(level, 0.05), 1.0)))
            for ref in expressions.refs(small):
                key = (ref.item, ref.breakdown_key)
                if key in values:
                    item = framework.item(ref.item)
                    scaled = values[key] * factor
                    values[key] = Fraction(int(scaled)) if item.type == "count" else scaled.limit_denominator(10)
        if not broken:
            return


def sample_values(framework: Framework, return_id: str, seed: int = 0, scale: int = 200,
                  level: float = 0.9) -> dict[Key, Fraction]:
    """Figures for every provider item of a return, obeying the framework's rules and breakdown totals.

    `level` (0..1) is how close subsets come to their totals: 0.9 gives strong performance, 0.4 weak.
    """
    rng = random.Random(f"{framework.id}:{return_id}:{seed}")
    items = [i for i in framework.items_for(return_id) if i.source == "provider"]
    values: dict[Key, Fraction] = {(i.id, ""): _base(i, rng, scale) for i in items}
    _fix_rules(framework, values, level * rng.uniform(0.85, 1.0))
    shares = {dim: _shares(list(d.categories), rng) for dim, d in framework.disaggregations.items()}
    for item in items:
        total = values[(item.id, "")]
        if item.type not in ("count", "sum"):
            continue
        for dim in item.breakdowns:
            disaggregation = framework.disaggregations[dim]
            if disaggregation.exhaustive and item.type == "count":
                parts = _split(total, shares[dim])
            elif disaggregation.exhaustive:  # sums: tenths, the last category takes the rounding
                parts = {c: (total * s).limit_denominator(10) for c, s in shares[dim].items()}
                last = list(parts)[-1]
                parts[last] = total - sum(v for c, v in parts.items() if c != last)
            else:
                parts = {c: Fraction(int(total * Fraction(rng.randint(2, 60), 100))) for c in disaggregation.categories}
            for category, value in parts.items():
                values[(item.id, f"{dim}={category}")] = value
    _fix_rules(framework, values, level)
    return values


def to_csv(values: dict[Key, Fraction], period: str | None = None) -> str:
    """Long-form CSV text (`item,breakdown,value[,period]`) for sample figures."""
    header = "item,breakdown,value" + (",period" if period else "")
    lines = [header]
    for (item, breakdown), value in sorted(values.items()):
        number = str(value.numerator) if value.denominator == 1 else str(float(value))
        lines.append(f"{item},{breakdown},{number}" + (f",{period}" if period else ""))
    return "\n".join(lines) + "\n"
