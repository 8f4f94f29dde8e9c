"""Plausible sample figures for any framework: for the demo, examples, tests and benchmarks.

A commissioner reading the demo must believe it, so the figures behave like a real service's:
- they obey the framework's own validation rules and breakdown totals, so a sample return is accepted;
- every rate stays between 0% and 100% (a part is never larger than its whole, in every breakdown category), and an
  average worked out from a sum and a count lands near its target (a satisfaction score out of 10 is about 8 or 9);
- the benchmarks a target refers to (national and regional averages) are the same for a framework from period to
  period, moving only a little, and a stretch benchmark (the top quartile) is better than the average it stretches;
- `level` (0..1) is how strong the provider is: each judged indicator meets its target with that probability, so a
  strong sample shows a few deliberate misses and a weak one many.
Deterministic for a given framework, return, seed and level.
"""

from __future__ import annotations

import random
from fractions import Fraction

from kpi_core import expressions
from kpi_core.calendar import PERIODS_PER_YEAR
from kpi_core.framework.indicators import DataItem, Indicator
from kpi_core.framework.model import Framework
from kpi_core.sample_breakdowns import drift as _drift
from kpi_core.sample_breakdowns import resplit as _resplit
from kpi_core.sample_breakdowns import settle as _settle
from kpi_core.sample_breakdowns import shares as _shares
from kpi_core.sample_breakdowns import split as _split
from kpi_core.sample_breakdowns import wobble as _wobble
from kpi_core.sample_comparators import benchmarks
from kpi_core.sample_comparators import tenths as _tenths
from kpi_core.sample_rules import keep_rules
from kpi_core.values import Key

# Things that come in ones and tens a quarter, not hundreds, by the unit their item counts in: a sample never shows
# 223 training sessions or 174 clinic locations. Other counts are around `scale` (people, referrals, calls...).
SMALL_COUNTS = {"sessions": 4, "events": 2, "places/events": 10, "locations": 12, "projects": 3, "case studies": 1,
                "posts": 4, "settings": 8, "organisations": 12, "issues": 4, "complaints": 4, "compliments": 12,
                "advisors": 15, "staff": 25, "orders": 30, "trainees": 30}


def _base(item: DataItem, rng: random.Random, scale: int, size: random.Random) -> Fraction:
    """A figure for `item` in one period: the service's own size for it (`size`, the same every period), moving a
    little from period to period (`rng`), as a real service's figures do."""
    if item.type == "yes_no":
        return Fraction(1)
    if item.type == "average":
        low = item.minimum if item.minimum is not None else 0
        high = item.maximum if item.maximum is not None else max(low + 10, 10)
        if high <= 10:  # a score such as satisfaction out of 10: mostly good
            level = size.uniform(max(low, high * 0.75), high)
        else:
            level = size.uniform(low, min(high, low + 100))
        return _tenths(min(high, max(low, level * rng.uniform(0.95, 1.05))))
    value = Fraction(int(SMALL_COUNTS.get(item.unit, scale) * size.uniform(0.6, 1.4) * rng.uniform(0.85, 1.15)))
    if item.type == "sum":
        value += Fraction(rng.randint(0, 9), 10)
    return value


def target_shares(framework: Framework, return_id: str, item_id: str, dim: str,
                  shares: dict[str, Fraction]) -> dict[str, Fraction]:
    """`shares` of an exhaustive breakdown, with each category that has its own count target taking the share
    of the item's target it is set (Hackney 1,500 of City and Hackney's 1,600 quit dates); the other categories
    share what is left in their random proportions."""
    bounds: dict[str, Fraction] = {}
    for ind in framework.indicators_for(return_id):
        target = ind.target
        ref = _single_ref(ind.expression)
        if ind.kind != "count" or target is None or target.bound is None or target.expression is not None:
            continue
        if ref is None or ref.item != item_id:
            continue
        if not ref.breakdown:
            bounds[""] = target.bound
        elif ref.breakdown[0][0] == dim and len(ref.breakdown) == 1:
            bounds[ref.breakdown[0][1]] = target.bound
    whole = bounds.pop("", None)
    if not whole or not bounds or sum(bounds.values()) > whole:
        return shares
    fixed = {c: b / whole for c, b in bounds.items() if c in shares}
    rest = {c: s for c, s in shares.items() if c not in fixed}
    left, weight = 1 - sum(fixed.values()), sum(rest.values())
    return {c: fixed[c] if c in fixed else (s / weight * left if weight else Fraction(0)) for c, s in shares.items()}


def _single_ref(text: str | None) -> expressions.Ref | None:
    node = expressions.parse(text) if text else None
    return node if isinstance(node, expressions.Ref) else None


def _exhaustive(framework: Framework, ref: expressions.Ref) -> bool:
    return bool(ref.breakdown) and framework.disaggregations[ref.breakdown[0][0]].exhaustive


def _figure_key(framework: Framework, ref: expressions.Ref, breakdowns: bool) -> Key | None:
    """The figure a count or average target moves in this pass (totals first, then breakdown categories), or None.
    A category of an exhaustive breakdown follows its total's split (`target_shares`), so it is never moved alone."""
    if not ref.breakdown:
        return None if breakdowns else (ref.item, "")
    return (ref.item, ref.breakdown_key) if breakdowns and not _exhaustive(framework, ref) else None


def _rate_key(framework: Framework, num: expressions.Ref, den: expressions.Node, breakdowns: bool) -> Key | None:
    """The numerator figure a rate's target moves in this pass, or None.

    A category's rate is aimed in the breakdown pass; a category of an exhaustive breakdown is first aimed through
    its total (so the whole is plausible), then on its own. A total over a denominator that names a category waits
    for the categories to exist."""
    if num.breakdown:
        if breakdowns:
            return num.item, num.breakdown_key
        return (num.item, "") if _exhaustive(framework, num) else None
    names_group = any(r.breakdown and not _exhaustive(framework, r) for r in expressions.refs(den))
    return (num.item, "") if breakdowns == names_group else None


def _lookup(framework: Framework, values: dict[Key, Fraction], breakdowns: bool) -> expressions.Lookup:
    """Figures by reference; in the totals pass a category of an exhaustive breakdown reads as its total."""
    if breakdowns:
        return expressions.lookup_from(values)
    return lambda ref: values.get((ref.item, "" if _exhaustive(framework, ref) else ref.breakdown_key))


def _target_bound(ind: Indicator, values: dict[Key, Fraction]) -> Fraction | None:
    """The figure the target works out to: a fixed number, or the benchmark it names."""
    target = ind.target
    if target is None or target.previous:
        return None
    if target.bound is not None:
        return target.bound
    found = expressions.evaluate(target.expression, expressions.lookup_from(values)) if target.expression else None
    return found if isinstance(found, Fraction) and not isinstance(found, bool) else None


def _aim(framework: Framework, return_id: str, values: dict[Key, Fraction], level: float, rng: random.Random,
         breakdowns: bool, aimed: set[Key]) -> None:
    """Move figures that feed a judged indicator towards its target, so a strong sample is mostly green and a
    weak one mostly not (`breakdowns` picks the pass: totals first, breakdown categories after). A figure aimed
    once (`aimed`) is not moved again: a rate over a count that has its own target moves its denominator."""
    periods = PERIODS_PER_YEAR[framework.returns[return_id].frequency]
    for ind in framework.indicators_for(return_id):
        if ind.information_only or ind.target is None:
            continue
        good = rng.random() < level  # even a strong provider misses the odd target
        # A miss is a near miss more often than a collapse: 80% to 97% of the target.
        factor = Fraction(str(round(rng.uniform(1.0, 1.15) if good else rng.uniform(0.8, 0.97), 3)))
        bound = _target_bound(ind, values)
        if bound is None:
            continue
        aim = bound * (factor if ind.target.higher_is_better else 1 / factor)
        if ind.numerator and ind.denominator:
            _aim_rate(framework, ind, values, aim, breakdowns, aimed)
            continue
        ref = _single_ref(ind.expression)
        key = _figure_key(framework, ref, breakdowns) if ref is not None else None
        if key is None or key in aimed or key not in values or ind.kind not in ("count", "average"):
            continue
        _set(framework, values, key, aim / periods if ind.kind == "count" and ind.cumulative else aim)
        aimed.add(key)


def _aim_rate(framework: Framework, ind: Indicator, values: dict[Key, Fraction], aim: Fraction, breakdowns: bool,
              aimed: set[Key]) -> None:
    num = _single_ref(ind.numerator)
    den = expressions.parse(ind.denominator or "")
    key = _rate_key(framework, num, den, breakdowns) if num is not None else None
    if key is None or key not in values:
        return
    whole = expressions.evaluate(den, _lookup(framework, values, breakdowns))
    if not isinstance(whole, Fraction) or isinstance(whole, bool) or whole <= 0:
        return
    if ind.kind == "percentage":
        aim = min(aim, Fraction(100))
    elif aim <= 11:  # a score out of 10
        aim = min(aim, Fraction(10))
    den_ref = _single_ref(ind.denominator)
    den_key = None if den_ref is None else (
        den_ref.item, "" if not breakdowns and _exhaustive(framework, den_ref) else den_ref.breakdown_key)
    if key in aimed:  # the part has its own target: the whole follows it
        if den_key is None or den_key in aimed or den_key not in values or aim <= 0 or ind.kind != "percentage":
            return
        _set(framework, values, den_key, max(values[key] * ind.multiplier / aim, values[key]))
        aimed.add(den_key)
        key = den_key
    else:
        _set(framework, values, key, whole * aim / ind.multiplier)
        aimed.add(key)
    if breakdowns:
        _settle(framework, values, key)


def _set(framework: Framework, values: dict[Key, Fraction], key: Key, value: Fraction) -> None:
    """Set a figure within its item's bounds (and a category within its total), rounded as its type is."""
    item = framework.item(key[0])
    if item.type == "yes_no":  # provided or not: a miss is "not provided"
        values[key] = Fraction(1 if value >= 1 else 0)
        return
    if item.maximum is not None:
        value = min(value, Fraction(str(item.maximum)))
    if key[1]:  # a group is never larger than the whole
        value = min(value, values.get((key[0], ""), value))
    values[key] = Fraction(round(value)) if item.type == "count" else _tenths(value)


def _bound_rates(framework: Framework, return_id: str, values: dict[Key, Fraction], rng: random.Random) -> None:
    """Keep every percentage a part of its whole: a numerator larger than its denominator becomes a plausible
    share of it (information-only rates have no target to aim at), and its breakdown follows."""
    lookup = expressions.lookup_from(values)
    for ind in framework.indicators_for(return_id):
        num = _single_ref(ind.numerator)
        if ind.kind != "percentage" or num is None or not ind.denominator:
            continue
        key = (num.item, num.breakdown_key)
        whole = expressions.evaluate(expressions.parse(ind.denominator), lookup)
        if key not in values or not isinstance(whole, Fraction) or isinstance(whole, bool) or values[key] <= whole:
            continue
        _set(framework, values, key, whole * Fraction(str(round(rng.uniform(0.2, 0.9), 2))))
        if not num.breakdown:
            _resplit(framework, values, num.item)


def _within_categories(framework: Framework, return_id: str, values: dict[Key, Fraction]) -> None:
    """In every breakdown category a rate's numerator is at most its denominator: move any excess of an exhaustive
    breakdown's category to categories with room (the categories still add up to the total)."""
    for ind in framework.indicators_for(return_id):
        num, den = _single_ref(ind.numerator), _single_ref(ind.denominator)
        if ind.kind != "percentage" or num is None or den is None or num.breakdown or den.breakdown:
            continue
        for dim in set(framework.item(num.item).breakdowns) & set(framework.item(den.item).breakdowns):
            keys = [(f"{dim}={cat}") for cat in framework.disaggregations[dim].categories]
            parts = {k: values.get((num.item, k)) for k in keys}
            wholes = {k: values.get((den.item, k)) for k in keys}
            if any(v is None for v in (*parts.values(), *wholes.values())):
                continue
            excess = Fraction(0)
            for k in keys:
                if parts[k] > wholes[k]:  # type: ignore[operator]
                    excess += parts[k] - wholes[k]  # type: ignore[operator]
                    parts[k] = wholes[k]
            for k in keys if framework.disaggregations[dim].exhaustive else ():  # groups that overlap need not add up
                room = min(excess, wholes[k] - parts[k])  # type: ignore[operator]
                parts[k] += room  # type: ignore[operator]
                excess -= room
            values.update({(num.item, k): v for k, v in parts.items()})  # type: ignore[misc]


def sample_values(framework: Framework, return_id: str, seed: int = 0, scale: int = 200,
                  level: float = 0.9) -> dict[Key, Fraction]:
    """Figures for every provider item of a return, obeying the framework's rules and breakdown totals.

    `level` (0..1) is how strong the performance is: 0.9 meets most targets, 0.4 misses most; `scale` is the
    typical count in a period; `seed` picks the period (benchmarks drift a little from one seed to the next).
    """
    rng = random.Random(f"{framework.id}:{return_id}:{seed}")
    items = [i for i in framework.items_for(return_id) if i.source == "provider"]
    fixed = benchmarks(framework, return_id, seed)
    benchmark_items = {item for item, _ in fixed}
    values: dict[Key, Fraction] = {(i.id, ""): _base(i, rng, scale, random.Random(f"{framework.id}:{return_id}:{i.id}"))
                                   for i in items if i.id not in benchmark_items}
    values.update(fixed)
    keep_rules(framework, return_id, values, None)
    aimed: set[Key] = set()
    _aim(framework, return_id, values, level, rng, False, aimed)
    keep_rules(framework, return_id, values, 1.0)
    # A service's mix (age bands, settings, priority groups) is its own and moves a little from period to period.
    mix = {dim: random.Random(f"{framework.id}:{dim}") for dim in framework.disaggregations}
    shares = {dim: _drift(_shares(list(d.categories), mix[dim]), rng) for dim, d in framework.disaggregations.items()}
    # Overlapping groups take the same share of every item, so a group's part is never above its whole.
    group_shares = {dim: {c: min(Fraction(60, 100), Fraction(mix[dim].randint(2, 60), 100) * _wobble(rng))
                          for c in d.categories} for dim, d in framework.disaggregations.items()}
    for item in items:
        if item.type == "yes_no" or item.id in benchmark_items:
            continue
        total = values[(item.id, "")]
        for dim in item.breakdowns:
            disaggregation = framework.disaggregations[dim]
            if item.type == "average":  # an average of each group, near the overall one
                high = Fraction(str(item.maximum)) if item.maximum is not None else None
                parts = {c: _tenths(total * Fraction(rng.randint(80, 120), 100))
                         for c in disaggregation.categories}
                parts = {c: min(v, high) if high is not None else v for c, v in parts.items()}
            elif disaggregation.exhaustive and item.type == "count":
                parts = _split(total, target_shares(framework, return_id, item.id, dim, shares[dim]))
            elif disaggregation.exhaustive:  # sums: tenths, the last category takes the rounding
                parts = {c: _tenths(total * s) for c, s in shares[dim].items()}
                last = list(parts)[-1]
                parts[last] = total - sum(v for c, v in parts.items() if c != last)
            else:
                parts = {c: Fraction(int(total * s)) for c, s in group_shares[dim].items()}
            for category, value in parts.items():
                values[(item.id, f"{dim}={category}")] = value
    _aim(framework, return_id, values, level, rng, True, aimed)
    _bound_rates(framework, return_id, values, rng)
    _within_categories(framework, return_id, values)
    keep_rules(framework, return_id, values, 1.0)
    for (item_id, breakdown), value in list(values.items()):  # a rule may have shrunk a total below a group
        whole = values.get((item_id, ""))
        if breakdown and whole is not None and value > whole and framework.item(item_id).type != "average":
            values[(item_id, breakdown)] = whole
    provider = {i.id for i in items}
    return {key: value for key, value in values.items() if key[0] in provider}  # benchmarks are not in a return


def to_csv(values: dict[Key, Fraction], period: str | None = None) -> str:
    """Long-form CSV text (`item,breakdown,value[,period]`) for sample figures."""
    header = "item,breakdown,value" + (",period" if period else "")
    lines = [header]
    for (item, breakdown), value in sorted(values.items()):
        number = str(value.numerator) if value.denominator == 1 else str(float(value))
        lines.append(f"{item},{breakdown},{number}" + (f",{period}" if period else ""))
    return "\n".join(lines) + "\n"
