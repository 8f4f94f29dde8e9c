"""The action-plan workbook (seed 002's template): its layout, shared by the writer (bot/workbooks/action_plan.py)
and the reader, and the reading of a filled-in one.

kpibot writes, for one open plan, a sheet `Action plan` laid out as the council's template (the indicator
overview, the target, this period's performance and how far off target, locked; the reason for non-compliance and
one row per action, with what, how, who and when, to fill in) and a hidden sheet `kpibot` naming the plan, the
revision of it the workbook was made for, its contract and indicator. The reader (kpi_core/returns/xlsx.py, inside
the same caps as any received workbook) recognises the file by that hidden sheet and reads the cells to fill in,
each named by its cell (`'Action plan'!B14`), so that an answer can say which row and column is at fault. Checking
what was written is bot/plans/drafts.py's; which plan it completes is bot/plans/workbook.py's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

MARKER = "kpibot action plan"
MARKER_SHEET = "kpibot"  # hidden: the key (column A) and value (column B) of each row below
MARKER_KEYS = ("template", "version", "plan", "revision", "contract", "indicator", "period")
VERSION = "1"
PLAN_SHEET = "Action plan"
REASON_LABEL = "Non-compliance reason"
ACTION_HEADERS = ("Action", "What (is required)", "How (will it be achieved)", "Who (will be responsible)",
                  "When (will results be realised)")
PARTS = ("what", "how", "who", "when")  # columns B to E of an action row
FIRST_PART_COL = 1
ACTION_ROWS = 12  # rows kpibot lays out to fill in
MAX_SCAN_ROWS = 200  # a plan sheet is short: the reader looks no further
WHO_COL = FIRST_PART_COL + PARTS.index("who")

Cell = object


@dataclass(frozen=True)
class PlanRow:
    """One action row as written: each part's text, and the cell it was read from."""

    row: int  # as Excel numbers it
    values: tuple[str, str, str, str]  # what, how, who, when
    cells: tuple[str, str, str, str]


@dataclass(frozen=True)
class PlanSheet:
    """A filled-in action-plan workbook as read: what kpibot wrote in its hidden sheet, and what the provider wrote."""

    marker: dict[str, str]
    reason: str = ""
    reason_cell: str = ""
    rows: tuple[PlanRow, ...] = ()
    problem: str = ""  # the plan sheet could not be found: what to do instead
    sheet: str = ""  # the name of the sheet the reason and actions were read from


def text_of(value: Cell) -> str:
    """A cell as the text a person wrote: a date as `2026-03-31`, a whole number without `.0`."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None:
        return ""
    return " ".join(str(value).split())


def quoted(sheet: str) -> str:
    return f"'{sheet}'" if not sheet.replace("_", "").isalnum() else sheet


def column(col: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[col]


def marker_of(sheets: Sequence[tuple[str, Sequence[Sequence[Cell]]]]) -> dict[str, str] | None:
    """The hidden sheet's keys and values when the workbook is kpibot's action-plan workbook, else None."""
    for name, rows in sheets:
        if name != MARKER_SHEET:
            continue
        found = {text_of(r[0]).lower(): text_of(r[1]) for r in rows[:20] if len(r) >= 2}
        if found.get("template", "").lower() == MARKER:
            return {k: found.get(k, "") for k in MARKER_KEYS}
    return None


def screened(rows: Sequence[Sequence[Cell]]) -> list[list[Cell]]:
    """The plan sheet's rows without the column of who is responsible: staff named as an action's owner are not a
    list of people, and must not have the plan refused as personal data (every other cell is still looked at)."""
    return [[None if c == WHO_COL else v for c, v in enumerate(row)] for row in rows[:MAX_SCAN_ROWS]]


def read_plan(sheets: Sequence[tuple[str, Sequence[Sequence[Cell]]]]) -> PlanSheet | None:
    """The action plan a workbook holds, or None when it is not kpibot's action-plan workbook."""
    marker = marker_of(sheets)
    if marker is None:
        return None
    found = plan_rows(sheets)
    if found is None:
        return PlanSheet(marker, problem=f"the sheet '{PLAN_SHEET}' with the reason and the actions is missing: "
                                         "fill in the workbook kpibot sent without removing or renaming its sheets")
    name, rows = found
    reason, reason_cell, header = "", "", None
    for r, row in enumerate(rows[:MAX_SCAN_ROWS]):
        first = text_of(row[0]) if row else ""
        if first.lower() == REASON_LABEL.lower():
            reason = text_of(row[1]) if len(row) > 1 else ""
            reason_cell = f"{quoted(name)}!B{r + 1}"
        elif len(row) > FIRST_PART_COL and text_of(row[FIRST_PART_COL]).lower() == ACTION_HEADERS[1].lower():
            header = r
    actions: list[PlanRow] = []
    for r in range(header + 1 if header is not None else len(rows), min(len(rows), MAX_SCAN_ROWS)):
        row = rows[r]
        values = tuple(text_of(row[c]) if c < len(row) else "" for c in range(FIRST_PART_COL, FIRST_PART_COL + 4))
        if any(values):
            cells = tuple(f"{quoted(name)}!{column(c)}{r + 1}" for c in range(FIRST_PART_COL, FIRST_PART_COL + 4))
            actions.append(PlanRow(r + 1, values, cells))  # type: ignore[arg-type]
    return PlanSheet(marker, reason, reason_cell, tuple(actions), sheet=name)


def plan_rows(sheets: Sequence[tuple[str, Sequence[Sequence[Cell]]]]) -> tuple[str, Sequence[Sequence[Cell]]] | None:
    """The sheet with the reason and the actions: by its name, else by its reason label (a renamed sheet)."""
    named = [(n, rows) for n, rows in sheets if n == PLAN_SHEET]
    labelled = [(n, rows) for n, rows in sheets if n != MARKER_SHEET and any(
        row and text_of(row[0]).lower() == REASON_LABEL.lower() for row in rows[:MAX_SCAN_ROWS])]
    found = named or labelled
    return found[0] if found else None
