"""Type figures into a kpibot template as a provider would in Excel (openpyxl, no recalculation).

The demo's providers fill their returns with it, and so do the tests; cells are found by what the template
shows (item ids in column A, the hidden id row of each breakdown sheet), not by fixed coordinates.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date, time, timedelta
from decimal import Decimal
from fractions import Fraction

import openpyxl

from kpi_core.framework.indicators import DataItem
from kpi_core.framework.model import Framework
from kpi_core.returns import layout
from kpi_core.values import Key

CellValue = str | int | float | Decimal | date | time | timedelta | None  # what a cell holds (a datetime is a date)


def cell_value(value: object, item: DataItem | None = None) -> CellValue:
    """What a person types: whole numbers as ints, Yes/No for yes-no items."""
    if isinstance(value, Fraction):
        if item is not None and item.type == "yes_no":
            return "Yes" if value else "No"
        return int(value) if value.denominator == 1 else float(value)
    if value is None or isinstance(value, (str, int, float, Decimal, date, time, timedelta)):
        return value
    raise ValueError(f"Cannot convert {value!r} to Excel")  # as openpyxl says it


def template_cells(book: openpyxl.Workbook) -> dict[Key, tuple[str, str]]:
    """Where each (item, breakdown) goes: (sheet title, cell coordinate), found from the template's ids."""
    cells: dict[Key, tuple[str, str]] = {}
    data = book[layout.DATA_SHEET]
    value_col = layout.VALUE_COL + 1
    for row in range(layout.DATA_HEADER_ROW + 2, data.max_row + 1):
        item = data.cell(row, layout.ID_COL + 1).value
        if item:
            cells[(str(item), "")] = (data.title, data.cell(row, value_col).coordinate)
    for sheet in book.worksheets:
        marker = sheet.cell(layout.BREAKDOWN_ID_ROW + 1, 1).value
        if not (isinstance(marker, str) and marker.startswith(layout.BREAKDOWN_MARKER)):
            continue
        dim = marker[len(layout.BREAKDOWN_MARKER):]
        item_cols = {col: sheet.cell(layout.BREAKDOWN_ID_ROW + 1, col).value
                     for col in range(layout.BREAKDOWN_FIRST_COL + 1, sheet.max_column + 1)}
        for row in range(layout.BREAKDOWN_FIRST_ROW + 1, sheet.max_row + 1):
            category = sheet.cell(row, 1).value
            if not category:
                continue
            for col, item in item_cols.items():
                if item:
                    cells[(str(item), f"{dim}={category}")] = (sheet.title, sheet.cell(row, col).coordinate)
    return cells


def fill(template: bytes, values: Mapping[Key, object], framework: Framework | None = None) -> bytes:
    """Type `values` into the template's cells and save, as a provider would in Excel (without recalculating)."""
    book = openpyxl.load_workbook(io.BytesIO(template))
    cells = template_cells(book)
    items = {i.id: i for i in framework.items} if framework else {}
    for key, value in values.items():
        if key not in cells:
            raise KeyError(f"the template has no cell for {key}")
        title, coordinate = cells[key]
        book[title][coordinate] = cell_value(value, items.get(key[0]))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
