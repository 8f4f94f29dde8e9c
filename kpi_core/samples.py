"""Plausible sample figures for any framework: for the demo, examples, tests and benchmarks.

The figures obey the framework's own validation rules and breakdown totals, so a sample return is accepted; a
`level` moves performance up or down so samples show every colour. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from fractions import Fraction

from kpi_core import expressions
from kpi_core.calendar import PERIODS_PER_YEAR
from kpi_core.framework import DataItem, Framework
from kpi_core.values import Key

MAX_PASSES = 30


def _tenths(value: Fraction | float) -> Fraction:
    """A figure to one decimal place, as people type them."""
    return Fraction(round(Fraction(value) * 10), 10)


def _base(item: DataItem, rng: random.Random, scale: int) -> Fraction:
    if item.type == "yes_no":
        return Fraction(1)
    if item.type == "average":
        low = item.minimum if item.minimum is not None else 0
        high = item.maximum if item.maximum is not None else max(low + 10, 10)
        if high <= 10:  # a score such as satisfaction out of 10: mostly good
            return _tenths(rng.uniform(max(low, high * 0.75), high))
        return _tenths(rng.uniform(low, min(high, low + 100)))
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
                    values[key] = Fraction(int(scaled)) if item.type == "count" else _tenths(scaled)
        if not broken:
            return


def _single_ref(text: str | None) -> expressions.Ref | None:
    node = expressions.parse(text) if text else None
    return node if isinstance(node, expressions.Ref) else None


def _aim(framework: Framework, return_id: str, values: dict[Key, Fraction], level: float, rng: random.Random,
         breakdowns: bool) -> None:
    """Move figures that feed a single-item indicator towards its target, so a strong sample is mostly green
    and a weak one mostly not (`breakdowns` picks the pass: totals first, free breakdown categories after)."""
    periods = PERIODS_PER_YEAR[framework.returns[return_id].frequency]
    for ind in framework.indicators_for(return_id):
        target = ind.target
        if ind.information_only or target is None or target.bound is None:
            continue
        good = rng.random() < level  # even a strong provider misses the odd target
        factor = Fraction(str(round(rng.uniform(1.0, 1.15) if good else rng.uniform(0.55, 0.97), 3)))
        if not target.higher_is_better:
            factor = 1 / factor
        aim = target.bound * factor
        ref = _single_ref(ind.numerator) if ind.kind == "percentage" else _single_ref(ind.expression)
        if ref is None or bool(ref.breakdown) != breakdowns:
            continue
        key = (ref.item, ref.breakdown_key)
        if key not in values or (ref.breakdown and framework.disaggregations[ref.breakdown[0][0]].exhaustive):
            continue
        item = framework.item(ref.item)
        if ind.kind == "percentage":
            den = expressions.evaluate(expressions.parse(ind.denominator or ""), expressions.lookup_from(values))
            if not isinstance(den, Fraction) or den <= 0:
                continue
            value = den * min(aim, Fraction(100)) / 100
        elif ind.kind == "count":
            value = aim / periods if ind.cumulative else aim
        elif ind.kind == "average":
            value = aim
        else:
            continue
        if item.maximum is not None:
            value = min(value, Fraction(str(item.maximum)))
        if ref.breakdown:  # a group is never larger than the whole
            value = min(value, values.get((ref.item, ""), value))
        values[key] = Fraction(round(value)) if item.type == "count" else _tenths(value)


def sample_values(framework: Framework, return_id: str, seed: int = 0, scale: int = 200,
                  level: float = 0.9) -> dict[Key, Fraction]:
    """Figures for every provider item of a return, obeying the framework's rules and breakdown totals.

    `level` (0..1) is how strong the performance is: 0.9 meets most targets, 0.4 misses most.
    """
    rng = random.Random(f"{framework.id}:{return_id}:{seed}")
    items = [i for i in framework.items_for(return_id) if i.source == "provider"]
    values: dict[Key, Fraction] = {(i.id, ""): _base(i, rng, scale) for i in items}
    _fix_rules(framework, values, level * rng.uniform(0.85, 1.0))
    _aim(framework, return_id, values, level, rng, breakdowns=False)
    _fix_rules(framework, values, 1.0)
    shares = {dim: _shares(list(d.categories), rng) for dim, d in framework.disaggregations.items()}
    for item in items:
        total = values[(item.id, "")]
        if item.type == "yes_no":
            continue
        for dim in item.breakdowns:
            disaggregation = framework.disaggregations[dim]
            if item.type == "average":  # an average of each group, near the overall one
                high = Fraction(str(item.maximum)) if item.maximum is not None else None
                parts = {c: _tenths(total * Fraction(rng.randint(80, 120), 100))
                         for c in disaggregation.categories}
                parts = {c: min(v, high) if high is not None else v for c, v in parts.items()}
            elif disaggregation.exhaustive and item.type == "count":
                parts = _split(total, shares[dim])
            elif disaggregation.exhaustive:  # sums: tenths, the last category takes the rounding
                parts = {c: _tenths(total * s) for c, s in shares[dim].items()}
                last = list(parts)[-1]
                parts[last] = total - sum(v for c, v in parts.items() if c != last)
            else:
                parts = {c: Fraction(int(total * Fraction(rng.randint(2, 60), 100))) for c in disaggregation.categories}
            for category, value in parts.items():
                values[(item.id, f"{dim}={category}")] = value
    _aim(framework, return_id, values, level, rng, breakdowns=True)
    _fix_rules(framework, values, 1.0)
    for (item_id, breakdown), value in list(values.items()):  # a rule may have shrunk a total below a group
        total = values.get((item_id, ""))
        if breakdown and total is not None and value > total and framework.item(item_id).type != "average":
            values[(item_id, breakdown)] = total
    return values


def to_csv(values: dict[Key, Fraction], period: str | None = None) -> str:
    """Long-form CSV text (`item,breakdown,value[,period]`) for sample figures."""
    header = "item,breakdown,value" + (",period" if period else "")
    lines = [header]
    for (item, breakdown), value in sorted(values.items()):
        number = str(value.numerator) if value.denominator == 1 else str(float(value))
        lines.append(f"{item},{breakdown},{number}" + (f",{period}" if period else ""))
    return "\n".join(lines) + "\n"
