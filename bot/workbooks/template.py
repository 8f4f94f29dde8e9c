"""Write the return workbook a provider fills in (openpyxl), in the layout kpi_core/returns/layout.py describes.

The cover identifies the file (template, framework, contract, period) in a protected sheet; the Data sheet has one
row per data item with Excel data validation on the Value column; each disaggregation gets a sheet of categories
by items, with totals to compare against the Data sheet; earlier periods' figures, when known, are shown beside
the Value column for reference and cannot be edited. Everything outside the cells to fill in is locked (without a
password: the lock prevents slips, kpibot's reader checks the content anyway).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from fractions import Fraction
from typing import Literal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from kpi_core import formatting
from kpi_core.assess import return_type_for
from kpi_core.calendar import Period
from kpi_core.duedates import due_date
from kpi_core.framework.indicators import DataItem
from kpi_core.framework.model import Framework
from kpi_core.returns import layout
from kpi_core.values import Key

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
REFERENCE_FILL = PatternFill("solid", fgColor="EDEDED")
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")
UNLOCKED = Protection(locked=False)
LINE_HEIGHT = 15
ValidationKey = tuple[Literal["list", "whole", "decimal"], float, float | None]  # the rule, its lowest, highest


def build_template(
    framework: Framework,
    *,
    contract_id: str,
    contract_name: str,
    provider_name: str,
    period: Period,
    earlier: Mapping[str, Mapping[Key, Fraction]] | None = None,
) -> bytes:
    """The .xlsx bytes of the return workbook for one contract and period.

    `earlier` maps earlier period ids to their accepted figures `{(item, breakdown): value}`; each period becomes
    a read-only column on the Data sheet, oldest first.
    """
    return_id = return_type_for(framework, period)
    spec = framework.returns[return_id]
    items = [i for i in framework.items_for(return_id) if i.source == "provider"]
    book = Workbook()
    cover = book.active
    assert cover is not None
    cover.title = layout.COVER_SHEET
    values: dict[str, str | int] = {
        "template": layout.MARKER,
        "template_version": layout.TEMPLATE_VERSION,
        "framework": framework.id,
        "framework_version": framework.version,
        "contract": contract_id,
        "contract_name": contract_name,
        "provider": provider_name,
        "return": return_id,
        "period": period.id,
        "period_label": period.label,
        "due": f"{due_date(period, spec.due):%d %B %Y}",
    }
    _cover(cover, f"{contract_name}: {spec.label}, {period.label}", values)
    data = book.create_sheet(layout.DATA_SHEET)
    rows = _data_sheet(data, framework, items, period, earlier or {})
    taken = {layout.COVER_SHEET, layout.DATA_SHEET}
    for dim, disaggregation in framework.disaggregations.items():
        broken = [i for i in items if dim in i.breakdowns]
        if broken:
            sheet = book.create_sheet(layout.sheet_title(disaggregation.label, taken))
            taken.add(sheet.title)
            _breakdown_sheet(sheet, framework, dim, broken, rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cover(sheet: Worksheet, title: str, values: Mapping[str, str | int]) -> None:
    sheet["A1"] = title
    sheet["A1"].font = TITLE
    sheet["A2"] = ("kpibot reads this sheet to know what the workbook is: please do not change it. Fill in the Data "
                   "sheet and the breakdown sheets, then send the workbook back as it is.")
    for offset, (key, label) in enumerate(layout.COVER_ROWS):
        row = layout.COVER_FIRST_ROW + offset + 1
        sheet.cell(row, layout.COVER_LABEL_COL + 1, label).font = BOLD
        sheet.cell(row, layout.COVER_VALUE_COL + 1, values.get(key, ""))
        sheet.cell(row, layout.COVER_KEY_COL + 1, key)
    notes_row = layout.COVER_FIRST_ROW + len(layout.COVER_ROWS) + 2
    for offset, note in enumerate((
        "How to fill it in:",
        "- Enter each figure in the yellow cells. An empty cell means 'not given'; enter 0 where there were none.",
        "- Type figures as numbers (1600 or 1,600); kpibot works out percentages from the counts.",
        "- Breakdowns that cover everyone (age band, sex...) must add up to the total on the Data sheet.",
        "- Formulas are fine if the workbook is saved in Excel or LibreOffice; kpibot reads the saved results.",
    )):
        sheet.cell(notes_row + offset, 1, note).font = BOLD if offset == 0 else Font()
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 70
    sheet.column_dimensions[layout.column_letter(layout.COVER_KEY_COL)].hidden = True
    for row in range(layout.COVER_FIRST_ROW + 1, layout.COVER_FIRST_ROW + len(layout.COVER_ROWS) + 1):
        sheet.cell(row, layout.COVER_VALUE_COL + 1).alignment = Alignment(horizontal="left")
    _print_to_width(sheet)
    sheet.protection.sheet = True


def _data_sheet(sheet: Worksheet, framework: Framework, items: list[DataItem], period: Period,
                earlier: Mapping[str, Mapping[Key, Fraction]]) -> dict[str, int]:
    """Write one row per item; return each item's 1-based row."""
    sheet["A1"] = f"{framework.name}: data items for {period.label}"
    sheet["A1"].font = TITLE
    sheet["A2"] = ("Enter each figure in the yellow Value column. Leave a cell empty only when the figure is not "
                   "available: empty means 'not given', 0 means none.")
    previous = sorted(earlier)
    headers = list(layout.DATA_COLUMNS) + [f"{p} {layout.REFERENCE_SUFFIX}" for p in previous]
    header_row = layout.DATA_HEADER_ROW + 1
    for col, text in enumerate(headers, start=1):
        cell = sheet.cell(header_row, col, text)
        cell.font, cell.fill, cell.alignment = BOLD, HEADER_FILL, WRAP
    rows: dict[str, int] = {}
    validations: dict[ValidationKey, DataValidation] = {}
    value_col = layout.VALUE_COL + 1
    for offset, item in enumerate(items):
        row = header_row + 1 + offset
        rows[item.id] = row
        guidance = item.guidance
        if item.breakdowns:
            labels = ", ".join(framework.disaggregations[d].label for d in item.breakdowns)
            guidance = f"{guidance} Also break it down by: {labels} (one sheet each).".strip()
        if not item.required:
            guidance = f"Optional. {guidance}".strip()
        for col, text in enumerate((item.id, item.label, item.unit, guidance), start=1):
            sheet.cell(row, col, text).alignment = WRAP
        # openpyxl cannot measure text and not every program fits rows on opening: size them for the wrap.
        sheet.row_dimensions[row].height = LINE_HEIGHT * max(_lines(item.label, 55), _lines(guidance, 55))
        entry = sheet.cell(row, value_col)
        entry.fill, entry.protection, entry.alignment = INPUT_FILL, UNLOCKED, TOP
        entry.number_format = "#,##0" if item.type == "count" else "General"
        _validate(sheet, validations, item, entry.coordinate)
        for col, period_id in enumerate(previous, start=value_col + 1):
            known = earlier[period_id].get((item.id, ""))
            ref = sheet.cell(row, col, _number(known))
            ref.fill, ref.alignment = REFERENCE_FILL, TOP
    for col, width in enumerate((30, 55, 12, 55, 14), start=1):
        sheet.column_dimensions[layout.column_letter(col - 1)].width = width
    for col in range(len(layout.DATA_COLUMNS) + 1, len(headers) + 1):
        sheet.column_dimensions[layout.column_letter(col - 1)].width = 18
    sheet.freeze_panes = sheet.cell(header_row + 1, 1).coordinate
    _protect(sheet)
    return rows


def _breakdown_sheet(sheet: Worksheet, framework: Framework, dim: str, items: list[DataItem],
                     data_rows: Mapping[str, int]) -> None:
    disaggregation = framework.disaggregations[dim]
    sheet["A1"] = f"{disaggregation.label}: enter each figure by {disaggregation.label.lower()}"
    sheet["A1"].font = TITLE
    id_row, header_row = layout.BREAKDOWN_ID_ROW + 1, layout.BREAKDOWN_HEADER_ROW + 1
    sheet.cell(id_row, 1, f"{layout.BREAKDOWN_MARKER}{dim}")
    sheet.row_dimensions[id_row].hidden = True
    for col, text in enumerate((layout.CATEGORY_ID_HEADER, "Category"), start=1):
        cell = sheet.cell(header_row, col, text)
        cell.font, cell.fill = BOLD, HEADER_FILL
    first = layout.BREAKDOWN_FIRST_ROW + 1
    categories = list(disaggregation.categories.items())
    last = first + len(categories) - 1
    for offset, (cat_id, label) in enumerate(categories):
        sheet.cell(first + offset, 1, cat_id)
        sheet.cell(first + offset, 2, label).alignment = WRAP
    validations: dict[ValidationKey, DataValidation] = {}
    lines = 1
    labels = (["Total of the categories", "Total on the Data sheet", "Check"] if disaggregation.exhaustive
              else ["Total on the Data sheet"])
    for index, item in enumerate(items):
        col = layout.BREAKDOWN_FIRST_COL + 1 + index
        letter = layout.column_letter(col - 1)
        sheet.cell(id_row, col, item.id)
        head = sheet.cell(header_row, col, item.label)
        head.font, head.fill, head.alignment = BOLD, HEADER_FILL, WRAP
        lines = max(lines, _lines(item.label, 18))
        sheet.column_dimensions[letter].width = 18
        for row in range(first, last + 1):
            entry = sheet.cell(row, col)
            entry.fill, entry.protection = INPUT_FILL, UNLOCKED
            entry.number_format = "#,##0" if item.type == "count" else "General"
            _validate(sheet, validations, item, entry.coordinate)
        value_letter = layout.column_letter(layout.VALUE_COL)
        total_at = f"{layout.quote_sheet(layout.DATA_SHEET)}!{value_letter}{data_rows[item.id]}"
        formulas = {"Total of the categories": f"=SUM({letter}{first}:{letter}{last})",
                    "Total on the Data sheet": f'=IF({total_at}="","",{total_at})',
                    "Check": (f'=IF(OR({letter}{last + 3}="",COUNT({letter}{first}:{letter}{last})=0),"",'
                              f'IF({letter}{last + 2}={letter}{last + 3},"agrees","does not add up"))')}
        for offset, label in enumerate(labels):
            sheet.cell(last + 2 + offset, col, formulas[label])
    sheet.row_dimensions[header_row].height = LINE_HEIGHT * lines
    for offset, label in enumerate(labels):
        sheet.cell(last + 2 + offset, 2, label).font = BOLD
    note = ("These categories cover everyone: they must add up to the total on the Data sheet." if
            disaggregation.exhaustive else "These groups overlap: they need not add up to the total, but none may "
                                               "exceed it.")
    sheet.cell(last + 2 + len(labels) + 1, 2, note)
    sheet.column_dimensions["A"].width = 16
    sheet.column_dimensions["B"].width = 40
    sheet.freeze_panes = sheet.cell(first, layout.BREAKDOWN_FIRST_COL + 1).coordinate
    _protect(sheet)


def _lines(text: str, width: int) -> int:
    """Lines a text wraps to in a column about `width` characters wide."""
    return max(1, -(-len(text) * 11 // (10 * width)))  # a tenth more: words do not break mid-way


def _validate(sheet: Worksheet, validations: dict[ValidationKey, DataValidation], item: DataItem,
              coordinate: str) -> None:
    """Add the cell to the Excel data validation that fits the item: whole counts, ranges, Yes/No."""
    low = item.minimum if item.minimum is not None else 0
    if item.type == "yes_no":
        key: ValidationKey = ("list", 0, None)
    elif item.type == "count":
        key = ("whole", low, item.maximum)
    else:
        key = ("decimal", low, item.maximum)
    validation = validations.get(key)
    if validation is None:
        validation = _validation(item, key)
        validations[key] = validation
        sheet.add_data_validation(validation)
    validation.add(coordinate)


def _validation(item: DataItem, key: ValidationKey) -> DataValidation:
    kind, low, high = key
    if kind == "list":
        return DataValidation(type="list", formula1='"Yes,No"', allow_blank=True, showErrorMessage=True,
                              errorTitle="Yes or No", error="Choose Yes or No.")
    what = "a whole number" if kind == "whole" else "a number"
    if high is None:
        return DataValidation(type=kind, operator="greaterThanOrEqual", formula1=_formula(low), allow_blank=True,
                              showErrorMessage=True, errorTitle="Check the figure",
                              error=f"Enter {what} of {formatting.number(low)} or more.")
    return DataValidation(type=kind, operator="between", formula1=_formula(low), formula2=_formula(high),
                          allow_blank=True, showErrorMessage=True, errorTitle="Check the figure",
                          error=f"Enter {what} from {formatting.number(low)} to {formatting.number(high)}.")


def _formula(value: float) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def _number(value: Fraction | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value.denominator == 1 else float(value)


def _print_to_width(sheet: Worksheet) -> None:
    """Print landscape, one page wide (as many pages long as needed)."""
    sheet.page_setup.orientation = "landscape"
    setup = sheet.sheet_properties.pageSetUpPr
    assert setup is not None  # openpyxl gives every sheet its page set-up properties
    setup.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0


def _protect(sheet: Worksheet) -> None:
    """Lock everything but the yellow cells; people may still hide, resize and format rows and columns."""
    _print_to_width(sheet)
    protection = sheet.protection
    protection.sheet = True
    protection.formatRows = False
    protection.formatColumns = False
    protection.formatCells = False
