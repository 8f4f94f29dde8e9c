"""Interpret a parsed return against its framework: figures in, canonical values and findings out.

Every finding names where it was found (cell or CSV line), what is wrong and what to do. Checks, in order: item ids,
breakdowns and periods; each figure (number, sign, whole counts, ranges); duplicates; required items; breakdowns that
must add up to their total; and the framework's own validation rules.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction

from kpi_core import expressions, formatting
from kpi_core.calendar import Period, PeriodError, parse_period
from kpi_core.findings import Finding
from kpi_core.framework import DataItem, Framework
from kpi_core.returns.model import Entry, ParsedReturn
from kpi_core.returns.numbers import NumberError, parse_number, parse_yes_no
from kpi_core.values import Key, breakdown_key


@dataclass
class Interpretation:
    """The figures of the return's own period, any earlier periods it carries, and what was found."""

    values: dict[Key, Fraction] = field(default_factory=dict)
    history: dict[str, dict[Key, Fraction]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    where: dict[Key, str] = field(default_factory=dict)


def normalise_id(text: str) -> str:
    return "_".join(str(text).strip().lower().replace("-", " ").split())


def interpret(framework: Framework, return_id: str, period: Period, parsed: ParsedReturn) -> Interpretation:
    out = Interpretation(findings=list(parsed.findings))
    items = {i.id: i for i in framework.items}
    in_return = {i.id for i in framework.items_for(return_id)}
    labels = {normalise_id(i.label): i.id for i in framework.items}
    seen: dict[tuple[str, Key], tuple[Fraction, str]] = {}
    for entry in parsed.entries:
        item_id = normalise_id(entry.item)
        item_id = item_id if item_id in items else labels.get(item_id, item_id)
        item = items.get(item_id)
        if item is None:
            out.findings.append(Finding("error", "unknown_item", f"{entry.item!r} is not a data item of {framework.name}",
                                        where=entry.where, item=entry.item,
                                        fix=f"Use the item ids of the {framework.id} template; check the spelling."))
            continue
        if item.source == "system":
            out.findings.append(Finding("warning", "system_item", f"{item.id!r} is worked out by kpibot from the "
                                        "submission log; the figure given is ignored", where=entry.where, item=item.id))
            continue
        if item_id not in in_return:
            out.findings.append(Finding("warning", "item_not_in_return", f"{item.id!r} is not part of the "
                                        f"{framework.returns[return_id].label.lower()}; it is ignored",
                                        where=entry.where, item=item.id))
            continue
        breakdown = _breakdown(framework, item, entry, out.findings)
        if breakdown is None:
            continue
        target_period = _entry_period(framework, period, entry, out.findings)
        if target_period is None:
            continue
        value = _figure(item, entry, out.findings)
        if value is None:
            continue
        key = (item.id, breakdown)
        previous = seen.get((target_period, key))
        label = item.id + (f"[{breakdown}]" if breakdown else "")
        if previous is not None:
            if previous[0] == value:
                out.findings.append(Finding("warning", "duplicate_same", f"{label} is given twice with the same "
                                            f"value (also at {previous[1]}); it is counted once", where=entry.where,
                                            item=item.id))
            else:
                out.findings.append(Finding("error", "duplicate_conflict", f"{label} is given twice with different "
                                            f"values: {formatting.number(previous[0], 4)} at {previous[1]} and "
                                            f"{formatting.number(value, 4)} here", where=entry.where, item=item.id,
                                            fix="Keep one row for each item and breakdown."))
            continue
        seen[(target_period, key)] = (value, entry.where)
        if target_period == period.id:
            out.values[key] = value
            out.where[key] = entry.where
        else:
            out.history.setdefault(target_period, {})[key] = value
    _required(framework, return_id, out)
    _totals(framework, return_id, out)
    out.findings.extend(check_rules(framework, out.values, out.where))
    return out


def _breakdown(framework: Framework, item: DataItem, entry: Entry, findings: list[Finding]) -> str | None:
    try:
        text = breakdown_key(entry.breakdown)
    except ValueError as exc:
        findings.append(Finding("error", "bad_breakdown", str(exc), where=entry.where, item=item.id))
        return None
    if not text:
        return ""
    pairs = []
    for part in text.split(","):
        dim, cat = part.split("=", 1)
        if dim not in item.breakdowns:
            allowed = ", ".join(item.breakdowns) or "none"
            findings.append(Finding("error", "unknown_breakdown", f"{item.id!r} is not broken down by {dim!r}",
                                    where=entry.where, item=item.id, fix=f"Breakdowns of {item.id}: {allowed}."))
            return None
        categories = framework.disaggregations[dim].categories
        if cat not in categories:
            by_label = {normalise_id(label): cid for cid, label in categories.items()}
            if cat in by_label:
                cat = by_label[cat]
            else:
                findings.append(Finding("error", "unknown_category", f"{cat!r} is not a category of {dim!r}",
                                        where=entry.where, item=item.id,
                                        fix=f"Categories of {dim}: {', '.join(categories)}."))
                return None
        pairs.append((dim, cat))
    return expressions.breakdown_text(tuple(pairs))


def _entry_period(framework: Framework, period: Period, entry: Entry, findings: list[Finding]) -> str | None:
    if not entry.period:
        return period.id
    try:
        other = parse_period(entry.period, period.year.start.month)
    except PeriodError as exc:
        findings.append(Finding("error", "bad_period", str(exc), where=entry.where, item=entry.item))
        return None
    if other == period or other in period.earlier_in_year():
        return other.id
    findings.append(Finding("error", "period_outside_year", f"period {other.id} is neither {period.id} nor earlier "
                            f"in {period.year.id}", where=entry.where, item=entry.item,
                            fix=f"Send figures for {period.id} (and, for the year to date, earlier periods of "
                                f"{period.year.id})."))
    return None


def _figure(item: DataItem, entry: Entry, findings: list[Finding]) -> Fraction | None:
    label = item.label
    try:
        if item.type == "yes_no":
            return parse_yes_no(entry.raw)
        figure = parse_number(entry.raw)
    except NumberError as exc:
        findings.append(Finding("error", "not_a_number", f"{label}: {exc}", where=entry.where, item=item.id,
                                fix="Type the figure as digits."))
        return None
    if figure is None:
        return None
    value = figure.value
    if figure.percent and item.unit != "%":
        findings.append(Finding("error", "percent_in_count", f"{label} is a number of {item.unit}, but "
                                f"{str(entry.raw).strip()!r} is a percentage", where=entry.where, item=item.id,
                                fix=f"Enter the number of {item.unit}; kpibot works out the percentages."))
        return None
    if value < 0:
        findings.append(Finding("error", "negative", f"{label} cannot be negative (found "
                                f"{formatting.number(value, 4)})", where=entry.where, item=item.id,
                                fix="Enter zero or a positive figure; report corrections in the next return."))
        return None
    if item.type == "count" and value.denominator != 1:
        findings.append(Finding("error", "not_whole", f"{label} is a count and must be a whole number (found "
                                f"{formatting.number(value, 4)})", where=entry.where, item=item.id,
                                fix="Enter a whole number."))
        return None
    if item.minimum is not None and value < Fraction(str(item.minimum)) or \
            item.maximum is not None and value > Fraction(str(item.maximum)):
        low = formatting.number(item.minimum) if item.minimum is not None else "-"
        high = formatting.number(item.maximum) if item.maximum is not None else "no limit"
        findings.append(Finding("error", "out_of_range", f"{label} must lie between {low} and {high} (found "
                                f"{formatting.number(value, 4)})", where=entry.where, item=item.id,
                                fix=f"Enter a value from {low} to {high}."))
        return None
    return value


def _required(framework: Framework, return_id: str, out: Interpretation) -> None:
    for item in framework.items_for(return_id):
        if item.required and item.source == "provider" and (item.id, "") not in out.values:
            has_parts = any(k[0] == item.id for k in out.values)
            why = " (its breakdown is given but the total is not)" if has_parts else ""
            out.findings.append(Finding("error", "missing_item", f"{item.label} ({item.id}) is missing{why}",
                                        item=item.id, fix="Enter the figure; enter 0 if there were none."))


def _totals(framework: Framework, return_id: str, out: Interpretation) -> None:
    """Exhaustive breakdowns must add up to the total; no category of any breakdown may exceed it."""
    parts: dict[tuple[str, str], dict[str, Fraction]] = defaultdict(dict)
    for (item_id, breakdown), value in out.values.items():
        if breakdown and "," not in breakdown:
            dim, cat = breakdown.split("=", 1)
            parts[(item_id, dim)][cat] = value
    for (item_id, dim), given in sorted(parts.items()):
        total = out.values.get((item_id, ""))
        if total is None:
            continue
        item = framework.item(item_id)
        disaggregation = framework.disaggregations[dim]
        where = out.where.get((item_id, ""), "")
        if disaggregation.exhaustive:
            missing = [c for c in disaggregation.categories if c not in given]
            added = sum(given.values(), Fraction(0))
            if missing and added <= total:
                out.findings.append(Finding("warning", "breakdown_incomplete", f"{item.label} by {disaggregation.label.lower()}: "
                                            f"no figure for {', '.join(missing)}", where=where, item=item_id,
                                            fix="Enter 0 where there were none so the breakdown adds up."))
            elif added != total:
                out.findings.append(Finding("error", "breakdown_total", f"{item.label} by {disaggregation.label.lower()} "
                                            f"adds up to {formatting.number(added, 4)} but the total is "
                                            f"{formatting.number(total, 4)}", where=where, item=item_id,
                                            fix="Correct the breakdown or the total so they agree."))
        else:
            for cat, value in given.items():
                if item.type in ("count", "sum") and value > total:
                    out.findings.append(Finding("error", "category_above_total", f"{item.label}: "
                                                f"{disaggregation.categories[cat]} ({formatting.number(value, 4)}) "
                                                f"exceeds the total ({formatting.number(total, 4)})",
                                                where=out.where.get((item_id, f"{dim}={cat}"), where), item=item_id,
                                                fix="A group cannot be larger than the whole; check both figures."))


def check_rules(framework: Framework, values: dict[Key, Fraction], where: dict[Key, str] | None = None) -> list[Finding]:
    """Evaluate the framework's validation rules; a rule whose inputs are missing is not applicable."""
    findings = []
    lookup = expressions.lookup_from(values)
    for rule in framework.rules:
        node = expressions.parse(rule.check, allow_comparison=True)
        if expressions.evaluate(node, lookup) is not False:
            continue
        assert isinstance(node, expressions.Compare)
        left, right = expressions.evaluate(node.left, lookup), expressions.evaluate(node.right, lookup)
        cells = sorted({where[(r.item, r.breakdown_key)] for r in expressions.refs(node)
                        if where and (r.item, r.breakdown_key) in where})
        shown = f"{_side(node.left)} = {formatting.number(left, 4)}, {_side(node.right)} = {formatting.number(right, 4)}"
        findings.append(Finding(rule.severity, f"rule:{rule.id}", f"{rule.message} ({shown})",
                                where=", ".join(cells), item=rule.id,
                                fix="Check these figures against your records and correct the one that is wrong."))
    return findings


def _side(node: expressions.Node) -> str:
    text = expressions.to_text(node)
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text
