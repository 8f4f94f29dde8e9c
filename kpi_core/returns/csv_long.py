"""CSV in long form: `item,breakdown,value` (and optionally `period`), in any common encoding."""

from __future__ import annotations

import csv
import io

from kpi_core.findings import Finding
from kpi_core.returns.model import Entry, ParsedReturn

COLUMNS = ("item", "breakdown", "value", "period")
MAX_ROWS = 100_000


def decode(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252. Returns (text, encoding)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace"), "windows-1252"


def parse_csv(data: bytes, source: str = "return.csv") -> ParsedReturn:
    """Read a long-form CSV. Reading problems become findings; nothing here knows the framework."""
    parsed = ParsedReturn(source=source, format="csv")
    if b"\x00" in data and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        parsed.findings.append(Finding("error", "not_csv", f"{source} is not a text CSV file (it contains binary data)",
                                       fix="Save the return as CSV (comma separated) or upload the workbook."))
        return parsed
    text, _ = decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = csv.reader(io.StringIO(text), dialect)
    columns: dict[str, int] | None = None
    try:
        for number, row in enumerate(rows, start=1):
            if number > MAX_ROWS:
                parsed.findings.append(Finding("error", "too_many_rows", f"{source} has more than {MAX_ROWS:,} lines",
                                               where=f"line {number}", fix="Send one return per file."))
                break
            cells = [c.strip() for c in row]
            if not any(cells) or cells[0].startswith("#"):
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
    except csv.Error as exc:
        parsed.findings.append(Finding("error", "bad_csv", f"{source} cannot be read as CSV: {exc}",
                                       fix="Save the file again as CSV (comma separated)."))
    if not parsed.entries and not parsed.findings:
        parsed.findings.append(Finding("error", "empty_return", f"{source} holds no figures",
                                       fix="Fill in the return (item,breakdown,value per line) and send it again."))
    return parsed


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index] if index is not None and index < len(cells) else ""
