"""The indicator table's column widths, and whether its text fits them, so WeasyPrint may lay it out as fixed.

WeasyPrint's automatic table layout measures every cell twice before it lays the table out (its narrowest and its
widest width): a third of the return report's table time. The widths the report asks for are percentages, and the
automatic layout honours them unless some text cannot fit; so when every unbreakable piece of text (a figure, a
status, the longest word) fits its column, worked out here from DejaVu Sans' advance widths, the table is laid out
`fixed` to the same widths and looks the same. When something might not fit, it keeps the automatic layout, which
widens that column as it always did.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.reports.glyph_widths import UNITS_PER_EM, text_width
from bot.reports.words import ZWSP, breakable

if TYPE_CHECKING:
    from bot.reports.context import IndicatorRow, ReturnReport

MM = 72 / 25.4  # points in a millimetre
# templates/reports/print.css: A4 less 13 mm margins; cells padded 1.2 mm a side; text 8.3 pt, `.detail` and
# `.note` 7 pt, headings 7.4 pt bold. Widths are kerned as Pango kerns them.
CONTENT_PT = (210 - 2 * 13) * MM
PADDING_PT = 2 * 1.2 * MM
TEXT, SMALL, HEADING = 8.3, 7.0, 7.4
WIDEST = UNITS_PER_EM  # a character without a width here counts as a whole em: unsure means the automatic layout


@dataclass(frozen=True, slots=True)
class Column:
    heading: str
    percent: int  # 0: whatever the others leave
    css: str = ""  # the heading's class: `num` is right-aligned like its figures


@dataclass(frozen=True, slots=True)
class TableLayout:
    columns: tuple[Column, ...]
    widths: tuple[str, ...]  # a CSS width per column (`5%`), '' for the column that takes the rest
    fixed: bool  # every unbreakable piece of text fits its column: `table-layout: fixed` looks the same


def _width(text: str, size: float, *, bold: bool = False) -> float:
    return text_width(text, size, bold=bold, unknown=WIDEST, kerned=True)


def _words(text: str, size: float, *, bold: bool = False) -> float:
    """The widest unbreakable piece of `text` (words, long ones broken where the PDF breaks them)."""
    pieces = str(breakable(text)).replace(ZWSP, " ").split()
    return max((_width(piece, size, bold=bold) for piece in pieces), default=0.0)


def _needs(row: IndicatorRow, with_ytd: bool, with_forecast: bool) -> list[float]:
    """The narrowest each cell of `row` can be, in points, in the table's column order."""
    status = _width(row.status.symbol, TEXT) + _width(f" {row.status.word}{' ?' if row.low_confidence else ''}",
                                                       TEXT, bold=True)
    cells = [
        _width(row.ref, TEXT),  # never wraps
        max([_words(row.name, TEXT), *(_words(note, SMALL) for note in row.notes)]),
        max(_width(row.value, TEXT), _width(row.fraction, SMALL)),  # figures never wrap
    ]
    if with_ytd:
        cells.append(_width(row.ytd, TEXT))
    cells += [
        max(_words(row.target_bound, TEXT), _words(row.target_basis, SMALL)),
        max(status, _width("critical failure", SMALL) if row.critical_failure else 0.0),  # never wraps
        _words(row.gap, TEXT),
    ]
    if with_forecast:
        forecast = row.forecast_status.label if row.forecast_status and row.forecast else ""
        cells.append(max(_words(row.forecast, TEXT), _words(forecast, SMALL)))
    return cells


def columns(with_ytd: bool, with_forecast: bool) -> tuple[Column, ...]:
    """The indicator table's columns, those without a figure in any row left out."""
    return tuple(c for c in (
        Column("Ref", 5), Column("Indicator", 0), Column("This period", 9, "num"),
        Column("Year to date", 9, "num") if with_ytd else None,
        Column("Target", 14), Column("Status", 11), Column("Gap", 12),
        Column("Forecast (year end)", 9) if with_forecast else None,
    ) if c is not None)


def table_layout(chosen: Sequence[Column], needs: Iterable[Sequence[float]]) -> TableLayout:
    """The widths of `chosen` columns for rows needing `needs` (points, per row and column), as the automatic
    layout would set them: a column keeps its share unless its text needs more, and the one without a share takes
    what is left. Fixed only when what is left holds that column's text too."""
    widest = [_words(c.heading, HEADING, bold=True) for c in chosen]
    for row in needs:
        widest = [max(w, n) for w, n in zip(widest, row, strict=True)]
    percents = [max(c.percent, math.ceil((w + PADDING_PT) / CONTENT_PT * 10000) / 100) if c.percent else 0.0
                for c, w in zip(chosen, widest, strict=True)]
    rest = 100 - sum(percents)
    fits = all(c.percent or CONTENT_PT * rest / 100 - PADDING_PT >= w for c, w in zip(chosen, widest, strict=True))
    if not fits:  # the automatic layout, with the shares asked for
        return TableLayout(tuple(chosen), tuple(f"{c.percent}%" if c.percent else "" for c in chosen), False)
    return TableLayout(tuple(chosen), tuple(f"{p:g}%" if p else "" for p in percents), True)


def indicator_columns(report: ReturnReport) -> TableLayout:
    """The indicator table's layout for `report` (templates/reports/_indicator_table.html)."""
    chosen = columns(report.with_ytd, report.with_forecast)
    rows = (row for section in report.sections for row in section.rows)
    return table_layout(chosen, (_needs(row, report.with_ytd, report.with_forecast) for row in rows))
