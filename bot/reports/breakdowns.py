"""Breakdown tables of a return: one per disaggregation, a row per data item, a column per category."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from kpi_core import formatting
from kpi_core.framework.model import Framework
from kpi_core.values import Values


@dataclass(frozen=True)
class BreakdownCell:
    value: str  # `120`
    share: str  # `25%` of the item's total, or ''


@dataclass(frozen=True)
class BreakdownRow:
    label: str  # the data item
    cells: tuple[BreakdownCell, ...]  # one per column (category)
    total: str
    note: str  # `adds up to 1,234, not the total`, or ''


@dataclass(frozen=True)
class DisaggregationTable:
    title: str  # the disaggregation, e.g. `Age band`
    columns: tuple[str, ...]  # category labels
    rows: tuple[BreakdownRow, ...]
    note: str


MAX_COLUMNS = 9  # categories per printed table; a longer disaggregation continues in a second table


def disaggregation_tables(framework: Framework, return_id: str, values: Values) -> tuple[DisaggregationTable, ...]:
    """One table per disaggregation: a row per data item broken down by it, a column per category.

    Items side by side under the same categories read at a glance (who sets a quit date, who quits), and one
    table per disaggregation keeps a long report short.
    """
    tables = []
    for dim, spec in framework.disaggregations.items():
        cats = list(spec.categories)
        rows: list[tuple[str, list[BreakdownCell], str, str]] = []
        for item in framework.items_for(return_id):
            if dim not in item.breakdowns:
                continue
            given = [values.get((item.id, f"{dim}={cat}")) for cat in cats]
            if all(v is None for v in given):
                continue
            total = values.get((item.id, ""))
            places = 2 if item.type == "average" else 1
            cells = [BreakdownCell(formatting.number(v, places) if v is not None else "–", _share(v, total, item.type))
                     for v in given]
            rows.append((item.label, cells, formatting.number(total, places), _adds_up(spec.exhaustive, item.type,
                                                                                        given, total, places)))
        if not rows:
            continue
        chunks = column_chunks(len(cats))
        for number, chunk in enumerate(chunks):
            title = spec.label + (f" (continued, {number + 1} of {len(chunks)})" if number else "")
            tables.append(DisaggregationTable(
                title=title,
                columns=tuple(spec.categories[cats[i]] for i in chunk),
                rows=tuple(BreakdownRow(label, tuple(cells[i] for i in chunk), total, note)
                           for label, cells, total, note in rows),
                note="" if spec.exhaustive else "Groups overlap: they need not add up to the total.",
            ))
    return tuple(tables)


def column_chunks(count: int, most: int = MAX_COLUMNS) -> list[range]:
    """Columns split into as few tables as fit `most` each, evenly: ten categories are two tables of five, never
    nine and a continued table holding one."""
    tables = -(-count // most)
    size = -(-count // tables) if tables else 0
    return [range(i, min(i + size, count)) for i in range(0, count, size)] if count else []


def _adds_up(exhaustive: bool, item_type: str, given: list[Fraction | None], total: Fraction | None,
             places: int) -> str:
    """A note when the categories of an exhaustive breakdown do not add up to the total."""
    if not exhaustive or item_type not in ("count", "sum") or total is None:
        return ""
    added = sum((v for v in given if v is not None), Fraction(0))
    return "" if added == total else f"Adds up to {formatting.number(added, places)}, not the total."


def _share(value: Fraction | None, total: Fraction | None, item_type: str) -> str:
    if value is None or not total or item_type not in ("count", "sum"):
        return ""
    return f"{formatting.number(value / total * 100)}%"
