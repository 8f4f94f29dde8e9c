"""Cheap bounds for a sheet, for a reader that runs inside a memory and time cap.

Outside a cap every sheet's XML is walked in full first (kpi_core/returns/sheetxml.py `scan_sheet`): its furthest
cell, its rows holding values, its formulas without results and its percentage cells are known before calamine is
given the file. That walk was a third of the cost of reading a return. A caller that reads inside a cap (the reader's
worker process, bot/workbooks/reader_worker.py) can rely on cheaper bounds instead:

- the extent the sheet declares (`<dimension ref="A1:E64"/>`, read with an XML parser from the head of its XML
  only), which must lie within the cell and row limits;
- a pattern that shows the sheet holds no cell in a percentage format, so nothing else needs its XML, and another
  that finds each formula without a saved result (accounting for every `<f>`) when an empty cell is read.

A sheet that declares no extent, declares one over the limits, or holds percentage cells is walked in full as
outside a cap, and so is a file whose formulas the pattern cannot account for. A declared extent can lie: the
reader checks the grid calamine built against it before anything is copied out (xlsx.py), and the cap bounds what
calamine spends meanwhile. A file caught in a lie, or one calamine cannot read, is read again as outside a cap, so
every file gets the answer the full walk gives (tests/corpus/dimension_lies.xlsx, far_cell_quoted.xlsx,
tests/test_isolated_reader.py). One difference remains, by design: past its head, a sheet's XML is parsed by
calamine alone, so XML damaged in a way calamine tolerates (a mismatched end tag, a repeated attribute) is read as
calamine reads it, where the full walk refuses the file as damaged; its figures are then validated like any other.
"""

from __future__ import annotations

import pyexpat
import re
from functools import lru_cache

from kpi_core.returns.sheetxml import (
    SheetScan,
    StructureError,
    cell_position,
    parse_part,
    scan_sheet,
)

# Excel, LibreOffice and openpyxl write the dimension within the first few hundred bytes (after <sheetPr>); a head
# that holds no dimension in this many bytes is walked in full.
HEAD_BYTES = 16 * 1024
_BEFORE_DIMENSION = frozenset({"worksheet", "sheetPr", "tabColor", "outlinePr", "pageSetUpPr"})


class BeyondDeclared(ValueError):
    """A sheet holds a cell beyond the extent it declared: the declaration was a lie, or a writer's mistake."""


class _Stop(Exception):
    pass


def declared_extent(name: str, xml: bytes) -> tuple[int, int] | None:
    """(rows, cols) from A1 to the far corner the sheet declares; None when it declares none that can be read.

    The head is read by expat, as the full walk reads it: quoting, character references and the XML declaration
    (an encoding expat cannot read is a StructureError here too)."""
    found: list[str] = []

    def start(element: str, attrs: dict[str, str]) -> None:
        local = element.rpartition(":")[2]
        if local == "dimension":
            found.append(attrs.get("ref", ""))
            raise _Stop
        if local not in _BEFORE_DIMENSION:
            raise _Stop  # past where a dimension is written

    parser = pyexpat.ParserCreate()
    parser.StartElementHandler = start
    try:
        parse_part(parser, xml[:HEAD_BYTES], f"sheet {name!r} is not well-formed", final=len(xml) <= HEAD_BYTES)
    except _Stop:
        pass
    if not found:
        return None
    corners = found[0].split(":")
    if not 1 <= len(corners) <= 2:
        return None
    try:
        positions = [cell_position(corner, name) for corner in corners]
    except StructureError:
        return None  # left to the full walk, which names the fault
    return max(r for r, _ in positions) + 1, max(c for _, c in positions) + 1


@lru_cache(maxsize=64)
def _percent_pattern(percent: frozenset[int]) -> re.Pattern[bytes]:
    styles = b"|".join(str(i).encode() for i in sorted(percent))
    # expat reads s="05" as "05", which the walk takes for style 5; a character reference could spell any digit.
    return re.compile(rb"""\ss\s*=\s*(["'])0*(?:""" + styles + rb")\1|&#")


def scan_declared(name: str, part: str, xml: bytes, hidden: bool, percent: frozenset[int], max_cells: int,
                  max_rows: int) -> SheetScan:
    """The sheet's bounds as declared, when they are within the limits and nothing else needs its XML; otherwise
    the full walk (sheetxml.scan_sheet), with its exact answers and its errors."""
    extent = declared_extent(name, xml)
    if extent is None or extent[0] > max_rows or extent[0] * extent[1] > max_cells:
        return scan_sheet(name, part, xml, hidden, percent, max_cells, max_rows)
    if percent and _percent_pattern(percent).search(xml):
        return scan_sheet(name, part, xml, hidden, percent, max_cells, max_rows)
    # Formulas are looked for only if an empty cell is read as a figure (SheetScan.formula_at): the template's own
    # total rows hold dozens that nothing reads.
    return SheetScan(name, part, hidden, rows=extent[0], cols=extent[1], declared=True, pending_formulas=xml)
