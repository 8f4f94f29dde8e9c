"""Pick the reader for a received file from its content, not only its name, after the size check."""

from __future__ import annotations

from kpi_core.findings import Finding
from kpi_core.returns.csv_long import parse_csv
from kpi_core.returns.model import ParsedReturn
from kpi_core.returns.safety import Limits, ole_finding, size_finding, sniff
from kpi_core.returns.xlsx import parse_xlsx

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm", ".xls", ".xlsb", ".ods")
DEFAULT_LIMITS = Limits()


def read_return(data: bytes, filename: str, *, max_bytes: int | None = None,
                max_uncompressed_bytes: int | None = None, limits: Limits | None = None) -> ParsedReturn:
    """Read a return file (workbook or long-form CSV) into a ParsedReturn; problems become findings, never
    exceptions. The byte limits come from configuration (`Intake.max_upload_bytes`, `max_uncompressed_bytes`)."""
    limits = limits or DEFAULT_LIMITS
    if max_bytes is not None or max_uncompressed_bytes is not None:
        limits = Limits(max_bytes=max_bytes if max_bytes is not None else limits.max_bytes,
                        max_uncompressed_bytes=max_uncompressed_bytes if max_uncompressed_bytes is not None
                        else limits.max_uncompressed_bytes, max_parts=limits.max_parts, max_cells=limits.max_cells)
    if not data:
        return ParsedReturn(source=filename, format="csv", findings=[Finding(
            "error", "empty_file", f"{filename} is empty (0 bytes)",
            fix="Send the file again; it may not have finished saving or uploading.")])
    kind = sniff(data)
    too_large = size_finding(data, filename, limits)
    if too_large is not None:
        return ParsedReturn(source=filename, format="xlsx" if kind != "other" else "csv", findings=[too_large])
    if kind == "zip":
        return parse_xlsx(data, filename, limits)
    if kind == "ole":
        return ParsedReturn(source=filename, format="xlsx", findings=[ole_finding(data, filename)])
    if filename.lower().endswith(WORKBOOK_SUFFIXES) and not _looks_like_text(data):
        return ParsedReturn(source=filename, format="xlsx", findings=[Finding(
            "error", "corrupt_workbook", f"{filename} is named like a workbook but is not one (it is damaged or "
            "another kind of file)", fix="Open it in Excel, save it as Excel Workbook (.xlsx) and send it again.")])
    return parse_csv(data, filename)


def _looks_like_text(data: bytes) -> bool:
    """A CSV saved under a workbook's name still reads as CSV."""
    head = data[:4096]
    return head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" not in head
