"""Fill kpibot templates the way a provider would (openpyxl), with figures that pass every check.

Used by the round-trip tests, the property tests, the benchmark and make_corpus.py. Only the layout constants are
shared with kpibot; cells are found by what the template shows (ids in column A, the hidden id row).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fractions import Fraction

from bot.workbooks.fill import cell_value, fill, template_cells  # noqa: F401  (shared with the demo)
from kpi_core import expressions
from kpi_core.framework.indicators import DataItem
from kpi_core.framework.model import Framework
from kpi_core.validation import check_rules
from kpi_core.values import Key

MAX_REPAIRS = 400

# A small framework with one item of each kind, for tests that need to know every item.
TINY_FRAMEWORK = """
schema = 1
id = "tiny"
name = "Tiny Service"
version = "2"

[returns.quarterly]
label = "Quarterly return"
frequency = "quarterly"
due = { rule = "day_of_next_month", day = 15 }

[returns.annual]
label = "Annual return"
frequency = "annual"
due = { rule = "date_after", month = 4, day = 30 }

[disaggregations.sex]
label = "Sex"
categories = { female = "Female", male = "Male" }

[disaggregations.priority]
label = "Priority group / need"
exhaustive = false
categories = { smi = "Serious mental illness", pregnant = "Pregnant" }

[[items]]
id = "starts"
label = "People starting"
breakdowns = ["sex", "priority"]

[[items]]
id = "quits"
label = "People who quit"
breakdowns = ["sex"]

[[items]]
id = "satisfaction"
label = "Satisfaction score"
unit = "%"
type = "average"
minimum = 0
maximum = 100

[[items]]
id = "hours"
label = "Hours of support"
unit = "hours"
type = "sum"
required = false

[[items]]
id = "policy"
label = "Safeguarding policy in place"
unit = "yes/no"
type = "yes_no"

[[items]]
id = "late_returns"
label = "Late returns"
source = "system"

[[items]]
id = "audits"
label = "Audits completed"
unit = "audits"
returns = ["annual"]

[[indicators]]
ref = "1"
name = "Quit rate"
kind = "percentage"
numerator = "quits"
denominator = "starts"
target = ">= 50"

[[rules]]
id = "quits_within_starts"
check = "quits <= starts"
message = "Quitters cannot exceed starters"
"""


def consistent_values(framework: Framework, return_id: str, fixed: Mapping[str, int | Fraction] | None = None,
                      ) -> dict[Key, Fraction]:
    """Figures for every provider item of the return, totals and breakdowns, that satisfy the framework's rules
    and add up. `fixed` sets some totals; the others are varied until every rule holds (or raises)."""
    fixed = dict(fixed or {})
    items = {i.id: i for i in framework.items_for(return_id) if i.source == "provider"}
    totals: dict[str, Fraction] = {}
    for n, item in enumerate(items.values()):
        totals[item.id] = Fraction(fixed[item.id]) if item.id in fixed else _start(item, n)
    frozen = set(fixed) | {i.id for i in items.values() if i.type == "yes_no" or i.minimum is not None
                           or i.maximum is not None}
    for _ in range(MAX_REPAIRS):
        values = expand(framework, items.values(), totals)
        # Errors only: a warning (more than a few under 18s) may stand in a return that is accepted.
        failing = [f for f in check_rules(framework, values) if f.code.startswith("rule:") and f.is_error]
        if not failing:
            return values
        repaired: set[frozenset[str]] = set()  # a rule per breakdown category names the same items: grow once
        for finding in failing:
            rule = next(r for r in framework.rules if f"rule:{r.id}" == finding.code)
            node = expressions.parse(rule.check, allow_comparison=True)
            names = frozenset(r.item for r in expressions.refs(node))
            if names not in repaired:
                repaired.add(names)
                _repair(node, totals, frozen)
    raise AssertionError(f"{framework.id}: no figures satisfy the rules after {MAX_REPAIRS} rounds: "
                         + "; ".join(f.code for f in failing))


def _start(item: DataItem, n: int) -> Fraction:
    if item.type == "yes_no":
        return Fraction(n % 2)
    if item.minimum is not None or item.maximum is not None:
        low = Fraction(str(item.minimum or 0))
        high = Fraction(str(item.maximum)) if item.maximum is not None else low + 100
        value = low + (high - low) * Fraction(3, 5)
        return Fraction(round(value)) if item.type == "count" else Fraction(round(value * 10), 10)
    base = Fraction(60 + 7 * (n % 11))
    return base + Fraction(1, 2) if item.type == "average" and not item.breakdowns else base


def _repair(node: expressions.Node, totals: dict[str, Fraction], frozen: set[str]) -> None:
    """Grow the side that must be larger (or shrink the other when that side cannot move)."""
    assert isinstance(node, expressions.Compare)
    small, large = (node.left, node.right) if node.op in ("<=", "<") else (node.right, node.left)
    growable = [r.item for r in expressions.refs(large) if r.item in totals and r.item not in frozen]
    if growable:
        for item in set(growable):
            totals[item] = max(totals[item] * 2, Fraction(1))
        return
    for item in {r.item for r in expressions.refs(small) if r.item in totals and r.item not in frozen}:
        totals[item] = Fraction(int(totals[item] // 2))


def expand(framework: Framework, items: Iterable[DataItem], totals: Mapping[str, Fraction]) -> dict[Key, Fraction]:
    """Totals plus a breakdown for each disaggregation: exhaustive ones add up exactly, overlapping ones stay
    below the total, averages repeat across categories."""
    values: dict[Key, Fraction] = {}
    for item in items:
        total = totals[item.id]
        values[(item.id, "")] = total
        for dim in item.breakdowns:
            disaggregation = framework.disaggregations[dim]
            categories = list(disaggregation.categories)
            if item.type not in ("count", "sum"):
                shares = {c: total for c in categories}
            elif disaggregation.exhaustive:
                weights = {c: n + 1 for n, c in enumerate(categories)}
                whole = sum(weights.values())
                shares = {c: Fraction(int(total * w // whole)) for c, w in weights.items()}
                shares[categories[0]] += total - sum(shares.values())
            else:
                shares = {c: Fraction(int(total * (n % 3 + 1) // 4)) for n, c in enumerate(categories)}
            for cat, value in shares.items():
                values[(item.id, f"{dim}={cat}")] = value
        for dim, disaggregation in framework.disaggregations.items():  # the same people counted in two breakdowns
            for cat, other in disaggregation.same_as.items():
                other_dim, _, other_cat = other.partition("=")
                if dim not in item.breakdowns or item.type not in ("count", "sum"):
                    continue
                if other_dim in item.breakdowns:
                    values[(item.id, f"{dim}={cat}")] = values[(item.id, other)]
                else:  # the share the other breakdown would give them, as for the items broken down both ways
                    categories = list(framework.disaggregations[other_dim].categories)
                    weight = Fraction(categories.index(other_cat) + 1, len(categories) * (len(categories) + 1) // 2)
                    values[(item.id, f"{dim}={cat}")] = Fraction(int(total * weight))
    return values
