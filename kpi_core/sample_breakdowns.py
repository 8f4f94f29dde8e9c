"""How sample figures are broken down: a service's mix of age bands, settings or priority groups, moving a little
from period to period, split into whole numbers that add up to their total, and kept adding up when one figure moves.
Used by `kpi_core.samples` (and its rules, `kpi_core.sample_rules`)."""

from __future__ import annotations

import random
from fractions import Fraction
from typing import TypeVar

from kpi_core.framework.model import Framework
from kpi_core.values import Key

T = TypeVar("T")


def shares(categories: list[str], rng: random.Random) -> dict[str, Fraction]:
    weights = [rng.randint(1, 10) for _ in categories]
    total = sum(weights)
    return {c: Fraction(w, total) for c, w in zip(categories, weights, strict=True)}


def wobble(rng: random.Random) -> Fraction:
    """A period's small move of a share: within 10% of it."""
    return Fraction(rng.randint(90, 110), 100)


def drift(shares: dict[str, Fraction], rng: random.Random) -> dict[str, Fraction]:
    """`shares` each moved a little for one period, still adding up to 1."""
    moved = {c: s * wobble(rng) for c, s in shares.items()}
    total = sum(moved.values(), Fraction(0))
    return {c: s / total for c, s in moved.items()}


def split(total: Fraction, shares: dict[T, Fraction]) -> dict[T, Fraction]:
    """Split a whole total by shares into whole parts that add up exactly."""
    parts = {c: Fraction(int(total * s)) for c, s in shares.items()}
    remainder = total - sum(parts.values())
    for category in list(shares)[: int(remainder)]:
        parts[category] += 1
    return parts


def move_to_other_categories(framework: Framework, values: dict[Key, Fraction], key: Key, amount: Fraction,
                              keep: list[Key]) -> bool:
    """Give what a category of an exhaustive breakdown lost to the item's other categories of that breakdown (not
    those in `keep`), in their proportions, so the total stays: fewer under 18s means more adults, not fewer
    people. False when `key` is no such category."""
    item = framework.item(key[0])
    dim = key[1].split("=")[0] if key[1] and "," not in key[1] else ""
    if not dim or not framework.disaggregations[dim].exhaustive or item.type != "count" or amount <= 0:
        return False
    others = [(item.id, f"{dim}={c}") for c in framework.disaggregations[dim].categories]
    others = [k for k in others if k not in keep and k in values]
    weight = sum((values[k] for k in others), Fraction(0))
    if not others:
        return False
    shares = {k: values[k] / weight if weight else Fraction(1, len(others)) for k in others}
    for other, extra in split(amount, shares).items():
        values[other] += extra
    return True


def settle(framework: Framework, values: dict[Key, Fraction], key: Key) -> None:
    """After a figure moved in the breakdown pass: a category of an exhaustive breakdown carries its total with
    it, and a total carries its categories."""
    item = framework.item(key[0])
    if not key[1]:
        resplit(framework, values, item.id)
        return
    dim = key[1].split("=")[0]
    if "," in key[1] or not framework.disaggregations[dim].exhaustive or item.type != "count":
        return
    found = [values.get((item.id, f"{dim}={c}")) for c in framework.disaggregations[dim].categories]
    parts = [p for p in found if p is not None]
    if len(parts) == len(found):
        values[(item.id, "")] = sum(parts, Fraction(0))
        resplit(framework, values, item.id, keep=dim)


def resplit(framework: Framework, values: dict[Key, Fraction], item_id: str, keep: str = "") -> None:
    """Scale an item's breakdown categories (but `keep`'s) to its changed total, exhaustive ones adding up."""
    item, total = framework.item(item_id), values[(item_id, "")]
    for dim in item.breakdowns:
        if dim == keep:
            continue
        keys = [f"{dim}={c}" for c in framework.disaggregations[dim].categories]
        parts = {k: values[(item_id, k)] for k in keys if (item_id, k) in values}
        added = sum(parts.values(), Fraction(0))
        if not parts or not added:
            continue
        if framework.disaggregations[dim].exhaustive and item.type == "count":
            values.update({(item_id, k): v for k, v in split(total, {k: v / added for k, v in parts.items()}).items()})
        elif not framework.disaggregations[dim].exhaustive:
            values.update({(item_id, k): min(v, total) for k, v in parts.items()})
