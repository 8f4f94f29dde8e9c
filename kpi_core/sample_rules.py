"""Sample figures keep every rule of their framework, warnings included: a part within its whole, a sum within its
total, the same people counted alike in two breakdowns. Used by `kpi_core.samples`."""

from __future__ import annotations

import random
from fractions import Fraction
from functools import lru_cache

from kpi_core import expressions
from kpi_core.framework.model import Framework
from kpi_core.sample_breakdowns import move_to_other_categories, settle, split
from kpi_core.sample_comparators import tenths
from kpi_core.values import Key

MAX_PASSES = 30


def keep_rules(framework: Framework, return_id: str, values: dict[Key, Fraction], level: float | None) -> None:
    """Make every rule of the return hold, warnings included (a sample is what a careful provider sends).

    `a <= b`: shrink the smaller side, to the share the same figures' totals have when that is below 1 (a group's
    quit rate like everyone's, not 10 of 10), else to `level` of the bound; with no `level`, to a share that is
    the rule's own, the same in every period, so a part keeps its place in its whole from quarter to quarter.
    `a == b` (the same people counted twice): make the left side equal the right. A category of an exhaustive
    breakdown carries its total, and the item's other breakdowns, with it."""
    rules = [r for r in framework.rules if not r.returns or return_id in r.returns]
    lookup = expressions.lookup_from(values)
    for _ in range(MAX_PASSES):
        broken = False
        for rule in rules:
            node = _rule_node(rule.check)
            if expressions.evaluate(node, lookup) is not False:
                continue
            broken = True
            small, big = (node.left, node.right) if node.op in ("<=", "<", "==") else (node.right, node.left)
            big_value = expressions.evaluate(big, lookup)
            small_value = expressions.evaluate(small, lookup)
            if not isinstance(big_value, Fraction) or not isinstance(small_value, Fraction) or big_value < 0:
                continue
            keys = [(r.item, r.breakdown_key) for r in expressions.refs(small) if (r.item, r.breakdown_key) in values]
            if node.op == "==":
                _make_equal(framework, values, keys, big_value)
                continue
            if small_value <= 0:
                continue
            share = level if level is not None else random.Random(f"{framework.id}:{rule.id}").uniform(0.6, 0.95)
            factor = big_value / small_value * min(Fraction(str(round(min(max(share, 0.05), 1.0), 3))),
                                                  _totals_share(node, small, big, values))
            for key in keys:
                item = framework.item(key[0])
                before, scaled = values[key], values[key] * factor
                values[key] = Fraction(int(scaled)) if item.type == "count" else tenths(scaled)
                if not move_to_other_categories(framework, values, key, before - values[key], keys):
                    settle(framework, values, key)
        if not broken:
            return


@lru_cache(maxsize=4096)
def _rule_node(check: str) -> expressions.Compare:
    node = expressions.parse(check, allow_comparison=True)
    assert isinstance(node, expressions.Compare)
    return node


def _totals_share(node: expressions.Compare, small: expressions.Node, big: expressions.Node,
                  values: dict[Key, Fraction]) -> Fraction:
    """For a rule about one category (`quits_4wk[priority_group=pregnant] + lost_4wk[...] <= quit_dates[...]`), the
    share the same figures' totals have (below 1), so a group's figures look like everyone's; else 1."""
    if not all(r.breakdown for r in expressions.refs(node)):
        return Fraction(1)
    totals = expressions.lookup_from(values)
    whole = lambda ref: totals(expressions.Ref(ref.item))  # noqa: E731 - the same figure for everyone
    small_total, big_total = expressions.evaluate(small, whole), expressions.evaluate(big, whole)
    if not isinstance(small_total, Fraction) or not isinstance(big_total, Fraction) or not big_total:
        return Fraction(1)
    share = small_total / big_total
    return share if 0 < share < 1 else Fraction(1)


def _make_equal(framework: Framework, values: dict[Key, Fraction], keys: list[Key], target: Fraction) -> None:
    """Set the figures `keys` so that they add up to `target` exactly, in their present proportions."""
    if not keys:
        return
    present = sum((values[k] for k in keys), Fraction(0))
    shares = {k: (values[k] / present if present else Fraction(1, len(keys))) for k in keys}
    parts = split(target, shares) if all(framework.item(k[0]).type == "count" for k in keys) else \
        {k: target * s for k, s in shares.items()}
    for key, value in parts.items():
        values[key] = value
        settle(framework, values, key)
