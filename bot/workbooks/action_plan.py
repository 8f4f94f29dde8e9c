"""Write the action-plan workbook for one open plan (openpyxl), laid out as seed 002's template.

One sheet a person reads, `Action plan`: the indicator overview (indicator, contract, provider, target), the current
situation (this period's performance and how far off target), all filled in by kpibot and locked; then the reason
for non-compliance and one row per action (what, how, who, when) to fill in, in yellow. "When" takes a date (Excel
checks it is one). A plan the council returned carries its comment, and what the provider wrote last time, to edit
rather than type again. A hidden sheet names the plan and the revision it was made for, so the reader knows the
file when it comes back through any channel (kpi_core/returns/plan_sheet.py). Locked without a password: the lock
prevents slips; kpibot checks what comes back anyway.
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from bot.workbooks.plan_facts import PlanFacts
from kpi_core.returns import plan_sheet as p

INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
LOCKED_FILL = PatternFill("solid", fgColor="EDEDED")
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
RED_FILL = PatternFill("solid", fgColor="F4CCCC")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
WRAP = Alignment(wrap_text=True, vertical="top")
UNLOCKED = Protection(locked=False)
DATE_FORMAT = "d mmmm yyyy"


def build_plan_workbook(facts: PlanFacts) -> bytes:
    """The .xlsx bytes of the action-plan workbook."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = p.PLAN_SHEET
    _plan_sheet(sheet, facts)
    hidden = book.create_sheet(p.MARKER_SHEET)
    for key, value in zip(p.MARKER_KEYS, (p.MARKER, p.VERSION, str(facts.plan_id), str(facts.revision),
                                          facts.contract_id, facts.ref, facts.period_id), strict=True):
        hidden.append([key, value])
    hidden.sheet_state = "veryHidden"  # not listed under Unhide: only a program can show it
    hidden.protection.sheet = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _plan_sheet(sheet: Worksheet, facts: PlanFacts) -> None:
    for letter, width in zip("ABCDE", (30, 42, 42, 28, 22), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.append(["PERFORMANCE ACTION PLAN"])
    sheet["A1"].font = TITLE
    sheet.append([f"Action plan {facts.plan_id}. This template is to be completed for ALL measures showing RED "
                  f"status of non-compliance against the specified target reported. Please complete the yellow "
                  f"cells by {facts.respond_by} and send this workbook back to kpibot as you send returns."])
    sheet.merge_cells("A2:E2")
    sheet["A2"].alignment = WRAP
    sheet.row_dimensions[2].height = 45
    _section(sheet, "INDICATOR OVERVIEW")
    for label, value in (("Indicator Title", f"{facts.ref} {facts.title}"), ("Contract", facts.contract_name),
                         ("Provider", facts.provider_name), ("Target", facts.target)):
        _fact(sheet, label, value)
    _section(sheet, "CURRENT SITUATION: Detail what the performance is for this measure and reason/s for "
                    "non-compliance")
    row = _fact(sheet, f"Performance this Period ({facts.period_label})", facts.performance)
    sheet.cell(row, 3, facts.off_target).fill = RED_FILL
    if facts.comment:
        _fact(sheet, "The council's comment", facts.comment)
    sheet.append([p.REASON_LABEL, facts.reason])
    row = sheet.max_row
    sheet.cell(row, 1).font = BOLD
    sheet.merge_cells(start_row=row, start_column=2, end_row=row, end_column=5)
    reason = sheet.cell(row, 2)
    reason.fill, reason.protection, reason.alignment = INPUT_FILL, UNLOCKED, WRAP
    sheet.row_dimensions[row].height = 90
    _section(sheet, "ACTIONS: This describes what's necessary or how to achieve a 'green' score. This way everyone "
                    "is clear on what is required and when; knows the expected outcome and how to achieve it.")
    sheet.append(list(p.ACTION_HEADERS))
    for cell in sheet[sheet.max_row]:
        cell.font, cell.fill, cell.alignment = BOLD, HEADER_FILL, WRAP
    first = sheet.max_row + 1
    dates = DataValidation(type="date", operator="greaterThan", formula1="DATE(2000,1,1)", allow_blank=True,
                           showErrorMessage=True, errorTitle="A date",
                           error="Write when results will be realised as a date, for example 31/03/2026.")
    sheet.add_data_validation(dates)
    for n in range(1, max(p.ACTION_ROWS, len(facts.actions) + 3) + 1):
        written = facts.actions[n - 1] if n <= len(facts.actions) else ("", "", "", None)
        sheet.append([n, *written])
        row = sheet.max_row
        sheet.row_dimensions[row].height = 45
        for col in range(2, 6):
            cell = sheet.cell(row, col)
            cell.fill, cell.protection, cell.alignment = INPUT_FILL, UNLOCKED, WRAP
        sheet.cell(row, 5).number_format = DATE_FORMAT
    dates.add(f"E{first}:E{sheet.max_row}")
    sheet.freeze_panes = "A3"
    sheet.protection.sheet = True
    sheet.protection.formatRows = False  # rows may be made taller to read long text


def _section(sheet: Worksheet, title: str) -> None:
    sheet.append([])
    sheet.append([title])
    row = sheet.max_row
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=5)
    cell = sheet.cell(row, 1)
    cell.font, cell.fill, cell.alignment = BOLD, HEADER_FILL, WRAP
    sheet.row_dimensions[row].height = 30


def _fact(sheet: Worksheet, label: str, value: str) -> int:
    sheet.append([label, value])
    row = sheet.max_row
    sheet.cell(row, 1).font = BOLD
    cell = sheet.cell(row, 2)
    cell.fill, cell.alignment = LOCKED_FILL, WRAP
    return row
