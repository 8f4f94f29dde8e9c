"""Pick the reader for a received file from its content, not only its name."""

from __future__ import annotations

from kpi_core.returns.csv_long import parse_csv
from kpi_core.returns.model import ParsedReturn


def read_return(data: bytes, filename: str) -> ParsedReturn:
    """Read a return file (CSV in long form) into a ParsedReturn; problems become findings, never exceptions."""
    return parse_csv(data, filename)
