"""Interpret a parsed return against its framework: figures in, canonical values and findings out.

Every finding names where it was found (cell or CSV line), what is wrong and what to do. Checks, in order: item ids,
breakdowns and periods; each figure (number, sign, whole counts, ranges); duplicates; required items; breakdowns that
must add up to their total; and the framework's own validation rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

from kpi_core import expressions, formatting
from kpi_core.calendar import Period, PeriodError, parse_period
from kpi_core.findings import Finding
from kpi_core.framework.indicators import DataItem
from kpi_core.framework.model import Framework
from kpi_core.returns.model import Entry, ParsedReturn, UncachedFormula
from kpi_core.returns.numbers import NumberError, parse_number, parse_yes_no
from kpi_core.values import Key, breakdown_key


@dataclass
class Interpretation:
    """The figures of the return's own period, any earlier periods it carries, and what was found."""

    values: dict[Key, Fraction] = field(default_factory=dict)
    history: dict[str, dict[Key, Fraction]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    where: dict[Key, str] = field(default_factory=dict)
    blanks: dict[str, str] = field(default_factory=dict)  # item id -> where its total was left empty


def normalise_id(text: str) -> str:
    return "_".join(str(text).strip().lower().replace("-", " ").split())


def interpret(framework: Framework, return_id: str, period: Period, parsed: ParsedReturn) -> Interpretation:
    """Turn a parsed return's entries into canonical values for `period`, with every finding."""
    out = Interpretation(findings=list(parsed.findings))
    items = {i.id: i for i in framework.items}
    in_return = {i.id for i in framework.items_for(return_id)}
    labels = {normalise_id(i.label): i.id for i in framework.items}
    seen: dict[tuple[str, Key], tuple[Fraction, str]] = {}
    older = _older_template(framework, parsed)
    failed: set[str] = set()  # items whose total was given but could not be read: reported, not "missing"
    period_id = period.id
    # A return repeats the same ids and breakdown texts hundreds of times: resolve each once.
    resolved: dict[str, str] = {}
    canonical: dict[tuple[str, str], str] = {}
    for entry in parsed.entries:
        item_id = resolved.get(entry.item)
        if item_id is None:
            item_id = normalise_id(entry.item)
            item_id = resolved[entry.item] = item_id if item_id in items else labels.get(item_id, item_id)
        item = items.get(item_id)
        if item is None:
            if older:
                out.findings.append(Finding("warning", "retired_item", f"{entry.item!r} is not in version "
                                            f"{framework.version} of {framework.name} (this workbook was made for "
                                            f"version {older}); the figure is ignored", where=entry.where,
                                            item=entry.item, fix="Use the current template from next period on."))
                continue
            out.findings.append(Finding("error", "unknown_item",
                                        f"{entry.item!r} is not a data item of {framework.name}",
                                        where=entry.where, item=entry.item,
                                        fix=f"Use the item ids of the {framework.id} template; check the spelling."))
            continue
        if item.source == "system":
            out.findings.append(Finding("warning", "system_item", f"{item.id!r} is worked out by kpibot from the "
                                        "submission log; the figure given is ignored", where=entry.where, item=item.id))
            continue
        if item.source == "commissioner":
            out.findings.append(Finding("warning", "benchmark_item", f"{item.id!r} is a benchmark the commissioner "
                                        "sets; the figure given is ignored", where=entry.where, item=item.id))
            continue
        if item_id not in in_return:
            out.findings.append(Finding("warning", "item_not_in_return", f"{item.id!r} is not part of the "
                                        f"{framework.returns[return_id].label.lower()}; it is ignored",
                                        where=entry.where, item=item.id))
            continue
        breakdown = canonical.get((item.id, entry.breakdown))
        if breakdown is None:
            breakdown = _breakdown(framework, item, entry, out.findings)
            if breakdown is None:
                continue
            canonical[(item.id, entry.breakdown)] = breakdown
        target_period = period_id if not entry.period else _entry_period(framework, period, entry, out.findings)
        if target_period is None:
            continue
        value = _figure(item, entry, out.findings)
        if value is None:
            if not breakdown and target_period == period_id:
                if _blank(entry.raw):
                    out.blanks.setdefault(item.id, entry.where)
                else:
                    failed.add(item.id)
            continue
        key = (item.id, breakdown)
        previous = seen.get((target_period, key))
        if previous is not None:
            label = item.id + (f"[{breakdown}]" if breakdown else "")
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
        if target_period == period_id:
            out.values[key] = value
            out.where[key] = entry.where
        else:
            out.history.setdefault(target_period, {})[key] = value
    for written, where in parsed.blank_cells.items():
        out.blanks.setdefault(labels.get(normalise_id(written), normalise_id(written)), where)
    if not parsed.unreadable:  # nothing was read: "missing" would only repeat why
        _required(framework, return_id, out, failed)
    _totals(framework, return_id, out)
    out.findings.extend(check_rules(framework, out.values, out.where, return_id))
    return out


def _breakdown(framework: Framework, item: DataItem, entry: Entry, findings: list[Finding]) -> str | None:
    try:
        text = breakdown_key(entry.breakdown)
    except ValueError as exc:
        findings.append(Finding("error", "bad_breakdown", str(exc), where=entry.where, item=item.id,
                                fix="Write the breakdown as dimension=category (e.g. sex=female), or leave it empty "
                                    "for the total."))
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
        findings.append(Finding("error", "bad_period", str(exc), where=entry.where, item=entry.item,
                                fix=f"Write the period like {period.id}, or leave it empty for this return's period."))
        return None
    if other == period or other in period.earlier_in_year():
        return other.id
    findings.append(Finding("error", "period_outside_year", f"period {other.id} is neither {period.id} nor earlier "
                            f"in {period.year.id}", where=entry.where, item=entry.item,
                            fix=f"Send figures for {period.id} (and, for the year to date, earlier periods of "
                                f"{period.year.id})."))
    return None


def _blank(raw: object) -> bool:
    try:
        return parse_number(raw) is None
    except NumberError:
        return False


def _figure(item: DataItem, entry: Entry, findings: list[Finding]) -> Fraction | None:
    label = item.label
    if isinstance(entry.raw, UncachedFormula):
        findings.append(Finding("error", "formula_no_value", f"{label}: the cell holds the formula {entry.raw} but no "
                                "saved result; kpibot never calculates formulas", where=entry.where, item=item.id,
                                fix="Open the workbook in Excel or LibreOffice and save it (that stores the result), "
                                    "or type the figure instead of the formula."))
        return None
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


def _older_template(framework: Framework, parsed: ParsedReturn) -> str:
    """The framework version a workbook was made for, when it is not the current one ('' otherwise)."""
    made_for = parsed.cover.get("framework_version", "")
    same = parsed.cover.get("framework", framework.id) == framework.id
    return made_for if same and made_for and made_for != framework.version else ""


def _required(framework: Framework, return_id: str, out: Interpretation, failed: set[str]) -> None:
    for item in framework.items_for(return_id):
        if item.required and item.source == "provider" and (item.id, "") not in out.values and item.id not in failed:
            has_parts = any(k[0] == item.id for k in out.values)
            why = " (its breakdown is given but the total is not)" if has_parts else ""
            out.findings.append(Finding("error", "missing_item", f"{item.label} ({item.id}) is missing{why}",
                                        where=out.blanks.get(item.id, ""), item=item.id,
                                        fix="Enter the figure; enter 0 if there were none (an empty cell means "
                                            "'not given')."))


def _totals(framework: Framework, return_id: str, out: Interpretation) -> None:
    """Exhaustive breakdowns of counts and sums must add up to the total; no category of any breakdown may exceed
    it. Averages and percentages by category do not add up, so they are not checked here."""
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
        if item.type not in ("count", "sum"):
            continue
        disaggregation = framework.disaggregations[dim]
        where = out.where.get((item_id, ""), "")
        if disaggregation.exhaustive:
            missing = [c for c in disaggregation.categories if c not in given]
            added = sum(given.values(), Fraction(0))
            if missing and added <= total:
                out.findings.append(Finding("warning", "breakdown_incomplete",
                                            f"{item.label} by {disaggregation.label.lower()}: no figure for "
                                            f"{', '.join(missing)}", where=where, item=item_id,
                                            fix="Enter 0 where there were none so the breakdown adds up."))
            elif added != total:
                cells = span([out.where[(item_id, f"{dim}={cat}")] for cat in given
                              if (item_id, f"{dim}={cat}") in out.where])
                at = f"{where} and {cells}" if where and cells else where or cells
                out.findings.append(Finding("error", "breakdown_total",
                                            f"{item.label} by {disaggregation.label.lower()} adds up to "
                                            f"{formatting.number(added, 4)} but the total is "
                                            f"{formatting.number(total, 4)}", where=at, item=item_id,
                                            fix="Correct the breakdown or the total so they agree."))
        else:
            for cat, value in given.items():
                if item.type in ("count", "sum") and value > total:
                    out.findings.append(Finding("error", "category_above_total", f"{item.label}: "
                                                f"{disaggregation.categories[cat]} ({formatting.number(value, 4)}) "
                                                f"exceeds the total ({formatting.number(total, 4)})",
                                                where=out.where.get((item_id, f"{dim}={cat}"), where), item=item_id,
                                                fix="A group cannot be larger than the whole; check both figures."))


# Figures that more than double or halve from one period to the next are worth a second look. Below the floor
# (the larger of the two figures, in the item's unit) chance does it too often to warn: a Poisson count averaging
# 5 doubles about one period in 30 and halves one in 8; one averaging 20 doubles one in 20,000, halves one in 200.
SWING_FACTOR = 2
SWING_FLOOR = 20


def swing_findings(framework: Framework, return_id: str, values: Mapping[Key, Fraction],
                   previous: Mapping[Key, Fraction], previous_id: str,
                   where: Mapping[Key, str] | None = None) -> list[Finding]:
    """Warn about totals that more than double or halve against the previous period (`previous_id`)."""
    findings = []
    for item in framework.items_for(return_id):
        if item.type == "yes_no" or item.source != "provider":
            continue
        now, before = values.get((item.id, "")), previous.get((item.id, ""))
        if now is None or before is None or max(now, before) < SWING_FLOOR:
            continue
        if now > before * SWING_FACTOR or now * SWING_FACTOR < before:
            change = "more than doubled" if now > before else "fell by more than half"
            findings.append(Finding("warning", "implausible_swing", f"{item.label} {change}: "
                                    f"{formatting.number(now, 4)} against {formatting.number(before, 4)} in "
                                    f"{previous_id}", where=(where or {}).get((item.id, ""), ""), item=item.id,
                                    fix="Check the figure; if it is right, say why in your covering message."))
    return findings


def span(cells: list[str]) -> str:
    """`'Age band'!C4:C11` for cells in one column of one sheet; otherwise the cells listed."""
    if not cells:
        return ""
    parts = [c.rsplit("!", 1) for c in cells if "!" in c]
    if len(parts) == len(cells):
        sheets = {p[0] for p in parts}
        letters = {p[1].rstrip("0123456789") for p in parts}
        if len(sheets) == 1 and len(letters) == 1 and all(p[1][len(next(iter(letters))):].isdigit() for p in parts):
            rows = sorted(int(p[1][len(next(iter(letters))):]) for p in parts)
            sheet, col = next(iter(sheets)), next(iter(letters))
            return f"{sheet}!{col}{rows[0]}" + (f":{col}{rows[-1]}" if len(rows) > 1 else "")
    return ", ".join(cells[:4]) + (f" and {len(cells) - 4} more" if len(cells) > 4 else "")


@lru_cache(maxsize=4096)
def _rule_node(check: str) -> expressions.Node:
    """Rules are checked on every return: parse each rule text once."""
    return expressions.parse(check, allow_comparison=True)


def check_rules(framework: Framework, values: dict[Key, Fraction],
                where: dict[Key, str] | None = None, return_id: str | None = None) -> list[Finding]:
    """Evaluate the framework's validation rules (those of `return_id`'s return, when given); a rule whose inputs
    are missing is not applicable."""
    findings = []
    lookup = expressions.lookup_from(values)
    for rule in framework.rules:
        if rule.returns and return_id is not None and return_id not in rule.returns:
            continue
        node = _rule_node(rule.check)
        if expressions.evaluate(node, lookup) is not False:
            continue
        assert isinstance(node, expressions.Compare)
        left, right = expressions.evaluate(node.left, lookup), expressions.evaluate(node.right, lookup)
        cells = sorted({where[(r.item, r.breakdown_key)] for r in expressions.refs(node)
                        if where and (r.item, r.breakdown_key) in where})
        shown = (f"{_side(node.left)} = {formatting.number(left, 4)}, "
                 f"{_side(node.right)} = {formatting.number(right, 4)}")
        findings.append(Finding(rule.severity, f"rule:{rule.id}", f"{rule.message} ({shown})",
                                where=", ".join(cells), item=rule.id,
                                fix="Check these figures against your records and correct the one that is wrong."))
    return findings


def _side(node: expressions.Node) -> str:
    text = expressions.to_text(node)
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text
