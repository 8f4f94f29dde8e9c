"""Pick the reader for a received file from its content, not its name: first what the file really is, then its
size, then the workbook or CSV reader (each of which looks for personal data before anything else)."""

from __future__ import annotations

import dataclasses
from pathlib import PurePath

from kpi_core.findings import Finding
from kpi_core.returns.csv_long import parse_csv
from kpi_core.returns.filekind import foreign_kind, looks_like_text
from kpi_core.returns.model import ParsedReturn
from kpi_core.returns.safety import Limits, ole_finding, size_finding, sniff
from kpi_core.returns.xlsx import parse_xlsx

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".ods")
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
DEFAULT_LIMITS = Limits()
SEND_A_RETURN = "Send the return workbook kpibot made (.xlsx) or a CSV file (item,breakdown,value)."


def read_return(data: bytes, filename: str, *, max_bytes: int | None = None,
                max_uncompressed_bytes: int | None = None, limits: Limits | None = None,
                capped: bool = False) -> ParsedReturn:
    """Read a return file (workbook or long-form CSV) into a ParsedReturn; problems become findings, never
    exceptions. A file that is not a return at all (a PDF, an image, text under a workbook's name) is `unreadable`
    with one finding naming what it is. The byte limits come from configuration (`Intake.max_upload_bytes`,
    `max_uncompressed_bytes`).

    `capped=True` only where the read runs inside a memory and time cap (the reader's worker process): a
    workbook's sheets are then bounded by the extents they declare, which a hostile file can falsify
    (kpi_core/returns/bounds.py). Without it every sheet is walked in full first, safe in any process."""
    limits = limits or DEFAULT_LIMITS
    if max_bytes is not None:
        limits = dataclasses.replace(limits, max_bytes=max_bytes)
    if max_uncompressed_bytes is not None:
        limits = dataclasses.replace(limits, max_uncompressed_bytes=max_uncompressed_bytes)
    as_workbook = filename.lower().endswith(WORKBOOK_SUFFIXES)
    if not data:
        return _refused(filename, "xlsx" if as_workbook else "csv", Finding(
            "error", "empty_file", f"{filename} is empty (0 bytes)",
            fix="Send the file again; it may not have finished saving or uploading."))
    kind = sniff(data)
    foreign = foreign_kind(data) if kind == "other" else None
    if foreign is not None:
        return _refused(filename, "xlsx" if as_workbook else "csv", Finding(
            "error", "not_a_workbook", f"{filename} is {foreign}, not {_expected(filename)}",
            fix=f"{SEND_A_RETURN} A PDF, a picture or a scan of the return cannot be read."))
    too_large = size_finding(data, filename, limits)
    if too_large is not None:
        return _refused(filename, "xlsx" if kind != "other" else "csv", too_large)
    if kind == "zip":
        return parse_xlsx(data, filename, limits, capped=capped)
    if kind == "ole":
        return _refused(filename, "xlsx", ole_finding(data, filename))
    if as_workbook and not looks_like_text(data):
        return _refused(filename, "xlsx", Finding(
            "error", "corrupt_workbook", f"{filename} is named like a workbook but is not one (it is damaged or "
            "another kind of file)", fix="Open it in Excel, save it as Excel Workbook (.xlsx) and send it again."))
    if as_workbook:
        return _refused(filename, "xlsx", Finding(
            "error", "not_a_workbook", f"{filename} is a text file, not an Excel workbook",
            fix=f"If it is the return saved as CSV, name it {PurePath(filename).stem or 'return'}.csv and send it "
                "again; otherwise send the workbook (.xlsx) itself."))
    return parse_csv(data, filename, limits)


def _expected(filename: str) -> str:
    name = filename.lower()
    if name.endswith(WORKBOOK_SUFFIXES):
        return "an Excel workbook"
    if name.endswith(CSV_SUFFIXES):
        return "a CSV file"
    return "a return (an Excel workbook or a CSV file)"


def _refused(filename: str, format: str, finding: Finding) -> ParsedReturn:
    return ParsedReturn(source=filename, format=format, findings=[finding])
