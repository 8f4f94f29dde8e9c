"""Checks that follow from the indicators themselves: every part is at most its whole, per category."""

from __future__ import annotations

from kpi_core import expressions
from kpi_core.framework.indicators import (
    DataItem,
    Disaggregation,
    Indicator,
    ValidationRule,
)


def part_within_whole_rules(rules: tuple[ValidationRule, ...], items_: tuple[DataItem, ...],
                            indicators: tuple[Indicator, ...],
                            disaggregations: dict[str, Disaggregation]) -> tuple[ValidationRule, ...]:
    """`numerator <= denominator` for every percentage or rate whose numerator counts part of its denominator,
    and the same for each category both sides are broken down by (40 quitters of 4 in one priority group is
    impossible however the totals look). Indicators marked `different_cohort` are left out; one with a `cohort`
    is checked against the cohort size the return gives (its stored size is checked in `kpi_core.cohorts`).
    A pair an explicit rule already compares keeps the explicit rule (and its severity)."""
    seen = {_pair_key(expressions.parse(r.check, allow_comparison=True)) for r in rules}
    items = {i.id: i for i in items_}
    out: list[ValidationRule] = []
    for ind in indicators:
        if ind.kind not in ("percentage", "rate") or ind.different_cohort:
            continue
        assert ind.numerator is not None and ind.denominator is not None
        num, den = expressions.parse(ind.numerator), expressions.parse(ind.denominator)
        if ind.cohort is not None:  # the part is of an earlier cohort: of the size the return gives, if any
            if ind.cohort.fallback is None:
                continue
            den = expressions.Ref(ind.cohort.fallback)
        pairs: list[tuple[expressions.Node, expressions.Node, str]] = [(num, den, "")]
        if isinstance(num, expressions.Ref) and isinstance(den, expressions.Ref) and num.breakdown == den.breakdown:
            used = {dim for dim, _ in num.breakdown}
            shared = [d for d in items[num.item].breakdowns if d in items[den.item].breakdowns and d not in used]
            for dim in shared:
                for cat in disaggregations[dim].categories:
                    pairs.append((expressions.Ref(num.item, num.breakdown + ((dim, cat),)),
                                  expressions.Ref(den.item, den.breakdown + ((dim, cat),)), f"_{dim}_{cat}"))
        base = "within_" + "".join(c if c.isalnum() else "_" for c in ind.ref.lower())
        for left, right, suffix in pairs:
            key = _pair_key(expressions.Compare("<=", left, right))
            if key in seen:
                continue
            seen.add(key)
            out.append(ValidationRule(
                id=(base + suffix)[:64], check=f"{_plain(left)} <= {_plain(right)}", generated=True,
                message=f"{_describe(items, disaggregations, left)} cannot exceed "
                        f"{_describe(items, disaggregations, right)} ({ind.ref}: the first is "
                        "part of the second)"))
    return tuple(out)


def _pair_key(node: expressions.Node) -> tuple[str, str] | None:
    if not isinstance(node, expressions.Compare):
        return None
    left, right = _plain(node.left), _plain(node.right)
    return (left, right) if node.op in ("<=", "<") else (right, left)


def _plain(node: expressions.Node) -> str:
    text = expressions.to_text(node)
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def _describe(items: dict[str, DataItem], disaggregations: dict[str, Disaggregation], node: expressions.Node) -> str:
    """`4-week quitters (Diagnosed serious mental illness)` for a ref; the expression itself otherwise."""
    if not isinstance(node, expressions.Ref):
        return _plain(node)
    label = items[node.item].label if node.item in items else node.item
    cats = [disaggregations[d].categories.get(c, c) for d, c in node.breakdown if d in disaggregations]
    return label + (f" ({', '.join(cats)})" if cats else "")

