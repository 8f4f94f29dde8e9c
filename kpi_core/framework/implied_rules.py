"""Checks that follow from the indicators themselves: every part is at most its whole, per category."""

from __future__ import annotations

import hashlib

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
                id=rule_id(base + suffix), check=f"{_plain(left)} <= {_plain(right)}", generated=True,
                message=f"{_describe(items, disaggregations, left)} cannot exceed "
                        f"{_describe(items, disaggregations, right)} ({ind.ref}: the first is "
                        "part of the second)"))
    return tuple(out)


MAX_RULE_ID = 59  # a finding's code is `rule:<id>`, stored in 64 characters


def rule_id(text: str) -> str:
    """A generated rule's id: `text`, or when longer than fits, its start and a short hash (still unique)."""
    if len(text) <= MAX_RULE_ID:
        return text
    return f"{text[:MAX_RULE_ID - 9]}_{hashlib.sha1(text.encode()).hexdigest()[:8]}"


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



def per_category_rules(rules: tuple[ValidationRule, ...], items_: tuple[DataItem, ...],
                       disaggregations: dict[str, Disaggregation]) -> tuple[ValidationRule, ...]:
    """Each `per_category` rule checked in every category of each breakdown all its items share: "4-week quitters
    plus those lost to follow-up cannot exceed those who set a quit date" holds for pregnant women as for everyone.
    A pair an explicit rule already compares keeps the explicit rule."""
    items = {i.id: i for i in items_}
    seen = {_pair_key(expressions.parse(r.check, allow_comparison=True)) for r in rules}
    out: list[ValidationRule] = []
    for rule in rules:
        if not rule.per_category:
            continue
        node = expressions.parse(rule.check, allow_comparison=True)
        refs = expressions.refs(node)
        if not refs or any(r.item not in items for r in refs):
            continue  # an unknown item is reported where the rule is defined
        used = {dim for r in refs for dim, _ in r.breakdown}
        shared = [d for d in items[refs[0].item].breakdowns
                  if d in disaggregations and d not in used and all(d in items[r.item].breakdowns for r in refs)]
        for dim in shared:
            for cat, label in disaggregations[dim].categories.items():
                narrowed = _in_category(node, dim, cat)
                key = _pair_key(narrowed)
                if key in seen:
                    continue
                seen.add(key)
                out.append(ValidationRule(
                    id=rule_id(f"{rule.id}_{dim}_{cat}"), check=_plain(narrowed), severity=rule.severity,
                    message=f"{label} ({disaggregations[dim].label.lower()}): {rule.message}", returns=rule.returns,
                    generated=True))
    return tuple(out)


def same_people_rules(items_: tuple[DataItem, ...],
                      disaggregations: dict[str, Disaggregation]) -> tuple[ValidationRule, ...]:
    """`item[a=x] == item[b=y]` for every item broken down both ways, where a category of one breakdown counts the
    same people as a category of another (`same_as`): the under 18s among the priority groups are the under 18s of
    the age bands."""
    out: list[ValidationRule] = []
    for dim, dis in disaggregations.items():
        for cat, other in dis.same_as.items():
            other_dim, _, other_cat = other.partition("=")
            if other_dim not in disaggregations or other_cat not in disaggregations[other_dim].categories:
                continue  # reported where the disaggregation is defined
            for item in items_:
                if dim in item.breakdowns and other_dim in item.breakdowns:
                    first = f"{dis.categories.get(cat, cat)} ({dis.label.lower()})"
                    second = (f"{disaggregations[other_dim].categories[other_cat]} "
                              f"({disaggregations[other_dim].label.lower()})")
                    out.append(ValidationRule(
                        id=rule_id(f"same_{item.id}_{dim}_{cat}"),
                        check=f"{item.id}[{dim}={cat}] == {item.id}[{other_dim}={other_cat}]",
                        message=f"{item.label}: {first} and {second} are the same people, so the two figures must "
                                "be equal", generated=True))
    return tuple(out)


def _in_category(node: expressions.Node, dim: str, cat: str) -> expressions.Node:
    """The same expression with every figure narrowed to one category of `dim`."""
    if isinstance(node, expressions.Ref):
        return expressions.Ref(node.item, node.breakdown + ((dim, cat),))
    if isinstance(node, expressions.Neg):
        return expressions.Neg(_in_category(node.operand, dim, cat))
    if isinstance(node, (expressions.BinOp, expressions.Compare)):
        return type(node)(node.op, _in_category(node.left, dim, cat), _in_category(node.right, dim, cat))
    if isinstance(node, expressions.Call):
        return expressions.Call(node.name, tuple(_in_category(a, dim, cat) for a in node.args))
    return node
