"""Read a filled-in return workbook (python-calamine) into entries, each naming its cell (`Data!E7`).

Sheets are recognised by what they hold, not by name or position: the cover by its machine keys, the main sheet by
a header row with `Item id` and `Value`, a long-form sheet by `Item id`, `Breakdown` and `Value`, a breakdown
sheet by its hidden id row. Rows are matched by item id (or label), so reordered, inserted and hidden rows read the
same. Cached formula results are read; formulas are never evaluated, and one with no saved result is reported.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

import python_calamine

from kpi_core.findings import Finding, cap_findings
from kpi_core.returns import layout, personal_data, plan_sheet
from kpi_core.returns.bounds import BeyondDeclared, scan_declared
from kpi_core.returns.model import Entry, ParsedReturn, UncachedFormula
from kpi_core.returns.safety import Limits, open_package
from kpi_core.returns.sheetxml import (
    FormulasUnaccounted,
    SheetScan,
    StructureError,
    TooManyCells,
    TooManyRows,
    percent_styles,
    scan_sheet,
    shared_strings_problem,
    workbook_sheets,
)

Cell = object


@dataclass
class Sheet:
    name: str
    rows: Sequence[Sequence[Cell]]
    scan: SheetScan
    prefix: str = field(init=False, repr=False)  # `'Age band'!`: every cell named on this sheet starts with it

    def __post_init__(self) -> None:
        self.prefix = layout.quote_sheet(self.name) + "!"

    def get(self, row: int, col: int) -> Cell:
        if 0 <= row < len(self.rows) and 0 <= col < len(self.rows[row]):
            return self.rows[row][col]
        return ""

    def text(self, row: int, col: int) -> str:
        value = self.get(row, col)
        return cover_text(value)

    def where(self, row: int, col: int) -> str:
        """`Data!E7`, as layout.cell_name writes it."""
        letters = _LETTERS[col] if col < len(_LETTERS) else layout.column_letter(col)
        return f"{self.prefix}{letters}{row + 1}"


_LETTERS = [layout.column_letter(col) for col in range(702)]  # A to ZZ


@dataclass
class Header:
    kind: str  # "main" | "long" | "grid"
    row: int
    columns: dict[str, int] = field(default_factory=dict)
    dimension: str = ""


def parse_xlsx(data: bytes, source: str = "return.xlsx", limits: Limits | None = None, *,
               capped: bool = False) -> ParsedReturn:
    """Read a workbook after the safety checks; every problem becomes a finding naming sheet and cell.

    `capped`: the caller reads inside a memory and time cap, so each sheet's declared extent is trusted up front
    and checked against the grid calamine built (kpi_core/returns/bounds.py); otherwise every sheet's XML is
    walked in full first."""
    limits = limits or Limits()
    parsed = ParsedReturn(source=source, format="xlsx")
    package, problems = open_package(data, source, limits)
    if package is None:
        parsed.findings.extend(problems)
        return parsed
    try:
        lie = shared_strings_problem(package.parts)
        if lie:
            parsed.findings.append(Finding("error", "zip_bomb", f"{source} was refused: {lie}",
                                           fix="Send the return workbook as kpibot made it, or a CSV file."))
            return parsed
        listed = workbook_sheets(package.parts)
        scans = _scan(package.parts, listed, limits, capped)
    except StructureError as exc:
        parsed.findings.append(_corrupt(source, str(exc)))
        return parsed
    except TooManyCells as exc:
        parsed.findings.append(_too_big(source, {exc.scan.name: exc.scan}, limits))
        return parsed
    except TooManyRows as exc:  # a list of people: refused before calamine spends time and memory on it
        scan = exc.scan
        sighting = personal_data.Sighting("rows", scan.name, personal_data.WHOLE_SHEET, 0, scan.filled_rows,
                                          _tab_numbers(listed).get(scan.name, 0))
        parsed.findings.append(personal_data.refusal(
            [sighting], csv=False, max_rows=limits.max_rows, named=KPIBOT_SHEETS, hidden={scan.name} if scan.hidden
            else ()))
        return parsed
    declared = any(scan.declared for scan in scans.values())
    try:
        sheets = _load(data, scans)
    except BeyondDeclared:  # a sheet holds more than it declared: read it as outside a cap, for the same answer
        return parse_xlsx(data, source, limits)
    except Exception as exc:  # noqa: BLE001 - calamine's own errors, and anything else it meets in a bad file
        if declared:  # the full walk names a fault in a sheet's XML more precisely than calamine
            return parse_xlsx(data, source, limits)
        parsed.findings.append(_corrupt(source, str(exc) or type(exc).__name__))
        return parsed
    except BaseException as exc:
        # calamine panics (pyo3's PanicException derives from BaseException), e.g. on a date 10^300 days ago.
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        if declared:
            return parse_xlsx(data, source, limits)
        parsed.findings.append(_corrupt(source, f"the reader stopped: {exc}"))
        return parsed
    # Personal data first, in the raw cells of every sheet (hidden ones too): its refusal is the only finding.
    # An action-plan workbook (kpi_core/returns/plan_sheet.py) names each action's owner: that column is not a list.
    tabs = _tab_numbers(listed)
    plan = plan_sheet.read_plan([(sheet.name, sheet.rows) for sheet in sheets])
    screen = {plan.sheet} if plan is not None else set()
    sightings = personal_data.find(((sheet.name, tabs.get(sheet.name, 0), plan_sheet.screened(sheet.rows)
                                     if sheet.name in screen else sheet.rows) for sheet in sheets), limits.max_rows)
    if sightings:
        parsed.findings.append(personal_data.refusal(
            sightings, csv=False, max_rows=limits.max_rows, named={s.name for s in sheets if _made_by_kpibot(s)},
            hidden={s.name for s in sheets if s.scan.hidden}))
        _keep_identity(sheets, sightings, parsed)
        return parsed
    if plan is not None:  # never read as a return: bot/plans/workbook.py completes its plan
        parsed.action_plan = plan
        return parsed
    cover = _read_cover(sheets, parsed)
    found = {"main": 0, "long": 0, "grid": 0}
    try:
        for sheet in sheets:
            if sheet is cover:
                continue
            header = classify(sheet)
            if header is None:
                _unread_sheet(sheet, parsed)
                continue
            found[header.kind] += 1
            {"main": _read_main, "long": _read_long, "grid": _read_grid}[header.kind](sheet, header, parsed)
    except FormulasUnaccounted:  # formulas only the full walk can place: read the file as outside a cap
        return parse_xlsx(data, source, limits)
    if not found["main"] and not found["long"]:
        parsed.entries.clear()  # breakdowns without their totals would only add a "missing" for every item
        parsed.findings.append(_not_a_template(source, cover is not None))
    elif not parsed.entries and not any(f.is_error for f in parsed.findings):
        parsed.findings.append(Finding("error", "empty_return", f"{source} holds no figures: every Value cell is "
                                       "empty", fix="Fill in the Value column (0 where there were none) and send "
                                                    "the workbook again."))
    parsed.findings = cap_findings(parsed.findings)
    return parsed


def _scan(parts: dict[str, bytes], listed: list[tuple[str, str, bool]], limits: Limits,
          capped: bool) -> dict[str, SheetScan]:
    percent = percent_styles(parts.get("xl/styles.xml"))
    scan = scan_declared if capped else scan_sheet
    scans: dict[str, SheetScan] = {}
    for name, part, hidden in listed:
        if part in parts:
            left = limits.max_cells - sum(s.cells for s in scans.values())
            scans[name] = scan(name, part, parts[part], hidden, percent, max(left, 0), limits.max_rows)
    return scans


def _tab_numbers(listed: list[tuple[str, str, bool]]) -> dict[str, int]:
    """Each sheet's 1-based position among the workbook's tabs (as a person counts them, chart sheets included)."""
    return {name: n for n, (name, _, _) in enumerate(listed, start=1)}


def _too_big(source: str, scans: dict[str, SheetScan], limits: Limits) -> Finding:
    widest = max(scans.values(), key=lambda s: s.cells)
    corner = layout.cell_name(widest.name, max(widest.rows - 1, 0), max(widest.cols - 1, 0))
    return Finding("error", "sheet_too_large", f"{source} spans more than {limits.max_cells:,} cells; a return "
                   f"needs a few thousand. Sheet {widest.name!r} reaches {corner}", where=corner,
                   fix="Delete the rows and columns after your figures (or copy the figures into a fresh "
                       "template) and send it again.")


def _load(data: bytes, scans: dict[str, SheetScan]) -> list[Sheet]:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    sheets = []
    for meta in book.sheets_metadata:
        scan = scans.get(meta.name)
        if scan is None or meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
            continue  # chart and dialog sheets hold no figures
        sheet = book.get_sheet_by_name(meta.name)
        end = sheet.end
        if scan.declared and end is not None and (end[0] >= scan.rows or end[1] >= scan.cols):
            raise BeyondDeclared(scan.name)  # checked before anything is copied out of calamine's grid
        sheets.append(Sheet(meta.name, sheet.to_python(skip_empty_area=False), scan))
    return sheets


def cover_text(value: Cell) -> str:
    """A cell as text the way a person reads it: 2.0 -> `2`, a date -> `2025-04-01`."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value).strip()


def _read_cover(sheets: list[Sheet], parsed: ParsedReturn) -> Sheet | None:
    keys = {key for key, _ in layout.COVER_ROWS}
    ordered = sorted(sheets, key=lambda s: s.name != layout.COVER_SHEET)
    for sheet in ordered:
        found: dict[str, tuple[str, str]] = {}
        for row in range(min(len(sheet.rows), layout.COVER_SCAN_ROWS)):
            key = layout.header_text(sheet.get(row, layout.COVER_KEY_COL))
            if key in keys and key not in found:
                found[key] = (sheet.text(row, layout.COVER_VALUE_COL), sheet.where(row, layout.COVER_VALUE_COL))
        if found.get("template", ("",))[0].lower() == layout.MARKER:
            parsed.cover = {k: v for k, (v, _) in found.items() if v}
            parsed.cover_cells = {k: w for k, (_, w) in found.items()}
            version = parsed.cover.get("template_version", "")
            if version and version not in {str(v) for v in layout.KNOWN_VERSIONS}:
                parsed.findings.append(Finding("warning", "template_version", f"the workbook says it is template "
                                               f"version {version}, which this kpibot does not know; it was read "
                                               "by its column headings", where=parsed.cover_cells["template_version"],
                                               fix="If figures are missing, copy them into a fresh return "
                                                   "workbook (kpibot attaches one to its reminders; in Telegram, "
                                                   "send /template)."))
            return sheet
    return None


IDENTITY_KEYS = ("template", "framework", "contract", "return", "period")
KPIBOT_SHEETS = frozenset({layout.COVER_SHEET, layout.DATA_SHEET, layout.V1_DATA_SHEET, layout.V1_BREAKDOWN_SHEET})


def _made_by_kpibot(sheet: Sheet) -> bool:
    """A sheet of kpibot's template (its name may be repeated in a reply; a sheet the sender added may not)."""
    return sheet.name in KPIBOT_SHEETS or sheet.text(layout.BREAKDOWN_ID_ROW, 0).startswith(layout.BREAKDOWN_MARKER)


def _keep_identity(sheets: list[Sheet], sightings: list[personal_data.Sighting], parsed: ParsedReturn) -> None:
    """Keep what a kpibot cover says the workbook is (its contract and period, for the intake to know whose
    refused file it holds), unless personal data was seen on the cover itself."""
    scratch = ParsedReturn(source=parsed.source, format=parsed.format)
    cover = _read_cover(sheets, scratch)
    if cover is None or any(s.sheet == cover.name for s in sightings):
        return
    parsed.cover = {k: v for k, v in scratch.cover.items() if k in IDENTITY_KEYS}
    parsed.cover_cells = {k: v for k, v in scratch.cover_cells.items() if k in IDENTITY_KEYS}


def classify(sheet: Sheet) -> Header | None:
    """Recognise a sheet by its header: main (`Item id`, `Value`), long form (+ `Breakdown`) or breakdown grid."""
    for row in range(min(len(sheet.rows), layout.HEADER_SCAN_ROWS)):
        first = sheet.text(row, 0)
        if first.startswith(layout.BREAKDOWN_MARKER):
            return Header("grid", row, dimension=first[len(layout.BREAKDOWN_MARKER):].strip())
        columns: dict[str, int] = {}
        for col, value in enumerate(sheet.rows[row]):
            text = layout.header_text(value) if isinstance(value, str) else ""
            for name, accepted in (("id", layout.ID_HEADERS), ("value", layout.VALUE_HEADERS),
                                   ("breakdown", layout.BREAKDOWN_HEADERS), ("period", layout.PERIOD_HEADERS)):
                if text in accepted and name not in columns:
                    columns[name] = col
        if "id" in columns and "value" in columns:
            return Header("long" if "breakdown" in columns else "main", row, columns)
    return None


def _value(sheet: Sheet, row: int, col: int, value: Cell = None) -> Cell | None:
    """The cell's value as read (`value`, when the caller has it), None when empty; a formula saved without its
    result is marked as such."""
    if value is None:
        value = sheet.get(row, col)
    if value == "" or value is None:
        formula = sheet.scan.formula_at(row, col)
        return UncachedFormula(formula) if formula is not None else None
    if isinstance(value, float) and (row, col) in sheet.scan.percent_cells:
        # Excel keeps 52.5% as 0.525 and says so only in the format: hand the reader what the person typed.
        return f"{(Decimal(repr(value)) * 100).normalize():f}%"
    return value


def _read_main(sheet: Sheet, header: Header, parsed: ParsedReturn) -> None:
    id_col, value_col = header.columns["id"], header.columns["value"]
    for row in range(header.row + 1, len(sheet.rows)):
        item = sheet.text(row, id_col)
        value = _value(sheet, row, value_col)
        if not item:
            if value is not None:
                parsed.findings.append(Finding("error", "missing_item_id", "the row has a value but no item id",
                                               where=sheet.where(row, value_col),
                                               fix=f"Put the data item id in column {layout.column_letter(id_col)}"
                                                   ", or delete the value."))
            continue
        if value is None:
            parsed.blank_cells.setdefault(item, sheet.where(row, value_col))
            continue
        parsed.entries.append(Entry(item=item, breakdown="", raw=value, where=sheet.where(row, value_col)))


def _read_long(sheet: Sheet, header: Header, parsed: ParsedReturn) -> None:
    cols = header.columns
    for row in range(header.row + 1, len(sheet.rows)):
        item = sheet.text(row, cols["id"])
        value = _value(sheet, row, cols["value"])
        if value is None:
            continue
        if not item:
            parsed.findings.append(Finding("error", "missing_item_id", "the row has a value but no item id",
                                           where=sheet.where(row, cols["value"]),
                                           fix="Put the data item id in the first column, or delete the value."))
            continue
        period = sheet.text(row, cols["period"]) if "period" in cols else ""
        parsed.entries.append(Entry(item=item, breakdown=sheet.text(row, cols["breakdown"]), raw=value,
                                    where=sheet.where(row, cols["value"]), period=period or None))


def _read_grid(sheet: Sheet, header: Header, parsed: ParsedReturn) -> None:
    """Categories down, items across: `dimension=category` for each filled cell."""
    dimension = header.dimension
    items = {col: sheet.text(header.row, col) for col in range(layout.BREAKDOWN_FIRST_COL,
                                                               len(sheet.rows[header.row]))}
    items = {col: item for col, item in items.items() if item}
    totals = {layout.header_text(label) for label in layout.TOTAL_ROW_LABELS}
    category_header = layout.header_text(layout.CATEGORY_ID_HEADER)
    percent, columns = sheet.scan.percent_cells, list(items.items())
    for row in range(header.row + 1, len(sheet.rows)):
        category = sheet.text(row, 0) or sheet.text(row, 1)
        label = layout.header_text(sheet.get(row, 1))
        if label in totals or layout.header_text(category) == category_header:
            continue
        cells, breakdown = sheet.rows[row], f"{dimension}={category}"
        for col, item in columns:
            value = cells[col] if col < len(cells) else ""
            if value.__class__ is not float or (row, col) in percent:  # a plain number is read as it is
                value = _value(sheet, row, col, value)
                if value is None:
                    continue
            if not category:
                parsed.findings.append(Finding("error", "missing_category", f"the figure for {item} has no "
                                               "category in columns A and B", where=sheet.where(row, col), item=item,
                                               fix="Enter figures only in the category rows, or delete it."))
                continue
            parsed.entries.append(Entry(item, breakdown, value, sheet.where(row, col)))


def _unread_sheet(sheet: Sheet, parsed: ParsedReturn) -> None:
    """A sheet the template does not have: say so if it holds figures, so nothing is silently lost."""
    first = next(((r, c) for r, row in enumerate(sheet.rows) for c, v in enumerate(row)
                  if isinstance(v, (int, float)) and not isinstance(v, bool)), None)
    if first is not None:
        r, c = first
        parsed.findings.append(Finding("warning", "sheet_not_read", f"sheet {sheet.name!r} holds figures but is not "
                                       "part of the template, so it was not read", where=sheet.where(r, c),
                                       fix="Put every figure on the template's own sheets (Data and the breakdown "
                                           "sheets)."))


def _not_a_template(source: str, has_cover: bool) -> Finding:
    if has_cover:
        return Finding("error", "main_sheet_missing", f"{source} has a kpibot cover but no sheet with the 'Item "
                       "id' and 'Value' columns", fix="Send the workbook as downloaded, with its Data sheet and "
                                                      "header row kept.")
    return Finding("error", "not_a_template", f"{source} is not a kpibot return: no sheet has the columns 'Item id' "
                   "and 'Value'", fix="Fill in the return workbook kpibot attaches to its reminders (in "
                                      "Telegram, send /template), or send a CSV with the columns "
                                      "item,breakdown,value.")


def _corrupt(source: str, why: str) -> Finding:
    return Finding("error", "corrupt_workbook", f"{source} is damaged and cannot be read as a workbook ({why})",
                   fix="Open it in Excel, save it again as .xlsx and send the new file.")
