"""CSV in long form: `item,breakdown,value` (and optionally `period`), in any common encoding.

The rows are read in full first, within bounds (`Limits.max_rows` filled lines, `Limits.max_cells` fields), and
looked at for personal data before any of them is interpreted, so a refused file's content reaches no finding.
"""

from __future__ import annotations

import csv
import io

from kpi_core.findings import Finding, cap_findings
from kpi_core.returns import personal_data
from kpi_core.returns.model import Entry, ParsedReturn
from kpi_core.returns.safety import Limits

COLUMNS = ("item", "breakdown", "value", "period")


def decode(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252. Returns (text, encoding)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "windows-1252"


class _TooManyCells(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def parse_csv(data: bytes, source: str = "return.csv", limits: Limits | None = None) -> ParsedReturn:
    """Read a long-form CSV. Reading problems become findings; nothing here knows the framework."""
    limits = limits or Limits()
    parsed = ParsedReturn(source=source, format="csv")
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        parsed.findings.append(Finding("error", "not_csv", f"{source} is not a text CSV file (it contains binary data)",
                                       fix="Save the return as CSV (comma separated) or upload the workbook."))
        return parsed
    text, _ = decode(data)
    rows: list[list[str]] = []
    too_many: Finding | None = None  # the file is refused
    damaged: Finding | None = None  # the lines before the damage are read
    try:
        _read_rows(text, limits, rows)
    except _TooManyCells as exc:
        too_many = Finding("error", "too_many_cells", f"{source} holds more than {limits.max_cells:,} fields; a "
                           "return needs a few thousand", where=f"line {exc.line}",
                           fix="Send one return per file, in the columns item,breakdown,value.")
    except csv.Error as exc:
        damaged = Finding("error", "bad_csv", f"{source} cannot be read as CSV: {exc}",
                          fix="Save the file again as CSV (comma separated).")
    # Personal data first, in whatever was read: its refusal replaces every other finding.
    sightings = personal_data.find([(None, 0, rows)], limits.max_rows)
    if sightings:
        parsed.findings.append(personal_data.refusal(sightings, csv=True, max_rows=limits.max_rows))
        return parsed
    if too_many is not None:
        parsed.findings.append(too_many)
        return parsed
    _interpret(rows, parsed)
    if damaged is not None:
        parsed.findings.append(damaged)
    if not parsed.entries and not parsed.findings:
        parsed.findings.append(Finding("error", "empty_return", f"{source} holds no figures",
                                       fix="Fill in the return (item,breakdown,value per line) and send it again."))
    parsed.findings = cap_findings(parsed.findings)
    return parsed


def _read_rows(text: str, limits: Limits, rows: list[list[str]]) -> None:
    """Append the stripped rows to `rows` (blank lines as []), stopping one filled line past `max_rows` (enough to
    know it is too many) or when the fields pass `max_cells`."""
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    cells = filled = 0
    for row in csv.reader(io.StringIO(text), dialect):
        cells += len(row)
        if cells > limits.max_cells:
            raise _TooManyCells(len(rows) + 1)
        cleaned = [c.strip() for c in row]
        rows.append(cleaned if any(cleaned) else [])
        if rows[-1]:
            filled += 1
            if filled > limits.max_rows:
                return


def _interpret(rows: list[list[str]], parsed: ParsedReturn) -> None:
    columns: dict[str, int] | None = None
    for number, cells in enumerate(rows, start=1):
        if not cells or cells[0].startswith("#"):
            continue
        if columns is None:
            header = [c.lower().lstrip("\ufeff") for c in cells]
            if "item" in header and "value" in header:
                columns = {name: header.index(name) for name in COLUMNS if name in header}
                continue
            columns = {"item": 0, "breakdown": 1, "value": 2, "period": 3}
        item = _cell(cells, columns.get("item"))
        if not item:
            parsed.findings.append(Finding("error", "missing_item_id", "the line has a value but no item id",
                                           where=f"line {number}", fix="Put the data item id in the first column."))
            continue
        if len(cells) < 3 and "value" not in columns:
            parsed.findings.append(Finding("error", "short_line", f"line has {len(cells)} column(s); expected "
                                           "item,breakdown,value", where=f"line {number}",
                                           fix="Write three columns: item, breakdown (may be empty), value."))
            continue
        parsed.entries.append(Entry(
            item=item,
            breakdown=_cell(cells, columns.get("breakdown")),
            raw=_cell(cells, columns.get("value")),
            where=f"line {number}",
            period=_cell(cells, columns.get("period")) or None,
        ))


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""
