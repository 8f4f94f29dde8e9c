"""What calamine does not say about a sheet, read from its XML: its furthest cell and its formulas with no saved result.

calamine gives a formula cell's cached value and nothing else: a formula saved without a result (as openpyxl and
some scripts write them) comes back as an empty cell, indistinguishable from a blank. kpibot never evaluates
formulas, so such a cell is reported, never guessed. calamine also holds each sheet as a dense grid up to its
furthest cell, so one cell at XFD1048576 in a 5 KB file costs gigabytes; the extent found here is checked first,
and so is the number of shared strings, for which calamine reserves room before reading them.

Cell references are read with an XML parser (expat), never by pattern: r='XFD1048576' in single quotes, spaces
around '=' or a character reference are valid XML that a pattern would miss. A sheet of a large template scans in
about 1 ms; the walk stops once a sheet passes the cell limit.
"""

from __future__ import annotations

import html
import pyexpat
import re
from dataclasses import dataclass, field
from functools import lru_cache
from posixpath import dirname, join, normpath

_STRICT_REF = re.compile(r"([A-Za-z]{1,3})([0-9]{1,7})")
# Formula cells are found by pattern after the parser has checked the sheet, and the count of <f> tags must match
# the cells found, or the slower parser walk collects them instead.
_ATTR = rb'\s+[\w:]+="[^"<>&]*"'
_ANY_FORMULA = re.compile(rb"<(?:\w+:)?f[\s/>]")
# Every match of _ANY_FORMULA holds one of these, and searching for them is ten times faster (a literal `f` first).
_FORMULA_HINT = re.compile(rb"f[\s/>](?<=[<:]f.)")
_FORMULA_CELL = re.compile(
    rb"<(?:\w+:)?c((?:" + _ATTR + rb")*)\s*>\s*<(?:\w+:)?f(?:" + _ATTR + rb")*\s*(?:/>|>([^<]*)</(?:\w+:)?f>)\s*"
    rb"(<(?:\w+:)?v(?:" + _ATTR + rb")*\s*(?:/>|>([^<]*)</(?:\w+:)?v>))?(?=\s*</(?:\w+:)?c>)")
_R_ATTR = re.compile(rb'\sr="([A-Za-z]{1,3})([0-9]{1,7})"')
_T_STR = re.compile(rb'\st="str"')
_SHARED_STRING = re.compile(rb"<(?:\w+:)?si[\s/>]")
_BUILTIN_PERCENT = (9, 10)
_REL_ATTRS = ("http://schemas.openxmlformats.org/officeDocument/2006/relationships}id",
              "http://purl.oclc.org/ooxml/officeDocument/relationships}id")


@dataclass
class SheetScan:
    name: str
    part: str
    hidden: bool = False
    rows: int = 0  # furthest row + 1 (what calamine allocates from A1)
    cols: int = 0
    filled_rows: int = 0  # rows holding at least one value
    uncached_formulas: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) 0-based -> formula
    percent_cells: set[tuple[int, int]] = field(default_factory=set)  # formatted as a percentage
    # True when rows and cols are what the sheet declares (kpi_core/returns/bounds.py), not what it was found to
    # hold: the reader then checks the grid calamine built before it copies anything out of it.
    declared: bool = False
    # The sheet's XML while its formulas are still to be looked for (declared bounds look only when asked).
    pending_formulas: bytes | None = field(default=None, repr=False)

    @property
    def cells(self) -> int:
        return self.rows * self.cols

    def formula_at(self, row: int, col: int) -> str | None:
        """The formula without a saved result at a 0-based cell, if any. Raises FormulasUnaccounted when the
        formulas of a sheet taken at its declared bounds cannot all be found by pattern."""
        if self.pending_formulas is not None:
            found = formulas_by_pattern(self.pending_formulas)
            if found is None:
                raise FormulasUnaccounted(self.name)
            self.uncached_formulas.update(found)
            self.pending_formulas = None
        return self.uncached_formulas.get((row, col))


class FormulasUnaccounted(ValueError):
    """A sheet read at its declared bounds holds a formula the pattern cannot place: walk it in full instead."""


class StructureError(ValueError):
    """The workbook's own index of sheets, or a sheet's XML, cannot be read."""


class TooManyCells(ValueError):
    """A sheet reaches further, or holds more elements, than the limit allows; `scan` holds what was seen."""

    def __init__(self, scan: "SheetScan") -> None:
        super().__init__(scan.name)
        self.scan = scan


class TooManyRows(ValueError):
    """A sheet has more rows holding a value than the limit allows (a list of people, not a return)."""

    def __init__(self, scan: "SheetScan") -> None:
        super().__init__(scan.name)
        self.scan = scan


MAX_INDEX_ELEMENTS = 200_000  # the workbook's list of sheets and its formats: a real one has hundreds


def _elements(xml: bytes, wanted: frozenset[str], what: str) -> list[tuple[str, str, dict[str, str]]]:
    """(local name, parent's local name, attributes) of the wanted elements, streamed with a budget: a tree of
    every element would let a 100 MB part take gigabytes."""
    found: list[tuple[str, str, dict[str, str]]] = []
    stack: list[str] = []
    budget = [MAX_INDEX_ELEMENTS]

    def start(name: str, attrs: dict[str, str]) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            raise StructureError(f"{what} holds more than {MAX_INDEX_ELEMENTS:,} elements")
        local = name.rpartition("}")[2]
        if local in wanted:
            found.append((local, stack[-1] if stack else "", attrs))
        stack.append(local)

    def end(name: str) -> None:
        stack.pop()

    parser = pyexpat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parse_part(parser, xml, f"{what} is unreadable")
    return found


def parse_part(parser: pyexpat.XMLParserType, xml: bytes, problem: str, final: bool = True) -> None:
    """Run expat over a part (or, not `final`, over its first bytes). The file's own faults become
    StructureError(`problem (why)`): XML that is not well-formed, and an encoding declared that expat or Python
    cannot read (`ATF-8`, `shift_jis`, `utf-7`, `rot13` raise LookupError, ValueError or UnicodeError, not
    ExpatError). The handlers' own exceptions pass through."""
    try:
        parser.Parse(xml, final)
    except (StructureError, TooManyCells, TooManyRows):
        raise
    except (pyexpat.ExpatError, LookupError, ValueError) as exc:
        raise StructureError(f"{problem} ({exc})") from None


def workbook_sheets(parts: dict[str, bytes]) -> list[tuple[str, str, bool]]:
    """(sheet name, part path, hidden) for each worksheet, in workbook order."""
    if "xl/workbook.xml" not in parts:
        raise StructureError("the list of sheets is missing")
    workbook, rels = parts["xl/workbook.xml"], parts.get("xl/_rels/workbook.xml.rels", b"<Relationships/>")
    small = len(workbook) + len(rels) <= MAX_REMEMBERED
    return list((_remembered_sheets if small else _workbook_sheets)(workbook, rels))


# Every return made from one template carries the same list of sheets and the same cell formats: a warm reader
# reads each once. Only small parts are remembered, so a hostile file cannot make the cache hold much.
MAX_REMEMBERED = 256 * 1024


def _workbook_sheets(workbook: bytes, rels_xml: bytes) -> tuple[tuple[str, str, bool], ...]:
    sheets = _elements(workbook, frozenset({"sheet"}), "the list of sheets")
    rels = _elements(rels_xml, frozenset({"Relationship"}), "the workbook's relationships")
    targets = {attrs.get("Id"): attrs.get("Target", "") for _, _, attrs in rels}
    found = []
    for _, _, attrs in sheets:
        rel = next((v for k, v in attrs.items() if k in _REL_ATTRS), None)
        target = targets.get(rel, "")
        path = target.lstrip("/") if target.startswith("/") else normpath(join(dirname("xl/workbook.xml"), target))
        found.append((attrs.get("name", ""), path, attrs.get("state", "visible") != "visible"))
    return tuple(found)


_remembered_sheets = lru_cache(maxsize=32)(_workbook_sheets)


def percent_styles(styles: bytes | None) -> frozenset[int]:
    """Indexes of the cell formats that show a number as a percentage (Excel stores 52.5% as 0.525)."""
    if not styles:
        return frozenset()
    if len(styles) <= MAX_REMEMBERED:
        return _remembered_percent(styles)
    return _percent_styles(styles)


def _percent_styles(styles: bytes) -> frozenset[int]:
    try:
        elements = _elements(styles, frozenset({"numFmt", "xf"}), "the cell formats")
    except StructureError:
        return frozenset()
    percent_formats = set(_BUILTIN_PERCENT)
    for local, _, attrs in elements:
        if local == "numFmt" and "%" in attrs.get("formatCode", "").replace('"%"', ""):
            percent_formats.add(_int(attrs.get("numFmtId")))
    cell_formats = [attrs for local, parent, attrs in elements if local == "xf" and parent == "cellXfs"]
    return frozenset(i for i, attrs in enumerate(cell_formats) if _int(attrs.get("numFmtId")) in percent_formats)


_remembered_percent = lru_cache(maxsize=32)(_percent_styles)


def _int(text: str | None) -> int:
    return int(text) if text and text.isascii() and text.isdigit() else -1


def scan_sheet(name: str, part: str, xml: bytes, hidden: bool = False,
               percent: frozenset[int] = frozenset(), max_cells: int | None = None,
               max_rows: int | None = None) -> SheetScan:
    """Find the sheet's furthest cell, the formula cells that carry no saved result and the percentage cells;
    raise TooManyCells past `max_cells`, TooManyRows past `max_rows` rows holding a value.

    An XML parser (expat), not patterns: quoting, spacing and character references in attributes must be read
    exactly as calamine will read them, or a reference like r='XFD1048576' would slip past the extent check.
    """
    uncached = formulas_by_pattern(xml)
    walk = _Walk(SheetScan(name, part, hidden), percent, formulas=uncached is None, max_cells=max_cells,
                 max_rows=max_rows)
    parser = pyexpat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = walk.start
    if uncached is None:  # only then does the walk follow formula and value text: it costs twice the time
        parser.EndElementHandler = walk.end
        parser.CharacterDataHandler = walk.text
    parse_part(parser, xml, f"sheet {name!r} is not well-formed")
    scan = walk.scan
    if max_cells is not None and walk.max_row * (walk.max_col + walk.unnumbered_cells) > max_cells:
        walk._too_many()
    if uncached:
        scan.uncached_formulas.update(uncached)
    # Rows without `r` follow the one before (counted in max_row); cells without `r` are bounded by their count.
    scan.rows = walk.max_row
    scan.cols = walk.max_col + walk.unnumbered_cells
    return scan


def formulas_by_pattern(xml: bytes) -> dict[tuple[int, int], str] | None:
    """Formulas without a saved result, found by pattern; None when the pattern does not account for every <f>.

    Each <f> must be the first child of its cell, which ends after its <v> (`<c r="B2"><f>...</f><v>...</v></c>`, as
    every spreadsheet program writes it); anything else (a cell inside the cell) is left to the parser's walk."""
    uncached: dict[tuple[int, int], str] = {}
    if b"<f" not in xml and b":f" not in xml:
        return uncached
    for hint in _FORMULA_HINT.finditer(xml):
        tag = hint.start() - 1
        if xml[tag] != 60:  # `:f`: a prefixed <x:f>, or `:f ` in text or in another tag
            tag = xml.rfind(b"<", 0, tag)
            formula = _ANY_FORMULA.match(xml, tag)
            if formula is None or formula.end() != hint.end():
                continue
        cell = _FORMULA_CELL.match(xml, xml.rfind(b"<", 0, tag))
        if cell is None:
            return None
        attrs, text, value_tag, value = cell.groups(b"")
        # An empty <v/> is a saved result only for a text formula that returned "".
        if value_tag and (value or _T_STR.search(attrs)):
            continue
        ref = _R_ATTR.search(attrs)
        if ref is None:
            return None
        uncached[(int(ref.group(2)) - 1, _column_index(ref.group(1)))] = html.unescape(text.decode("utf-8",
                                                                                                   "replace"))
    return uncached


class _Walk:
    """expat handlers that follow rows and cells; only formula and value text is collected."""

    def __init__(self, scan: SheetScan, percent: frozenset[int], formulas: bool = True,
                 max_cells: int | None = None, max_rows: int | None = None) -> None:
        self.scan, self.percent, self.formulas = scan, percent, formulas
        self.max_rows = max_rows if max_rows is not None else 10**18
        self.last_filled = -1
        # Stop early, so that a sheet of millions of elements costs no more than one at the limit.
        self.max_cells = max_cells if max_cells is not None else 10**18
        self.budget = 6 * self.max_cells  # elements: a cell takes two to four (c, v, is, t)
        self.row = self.max_row = self.max_col = self.unnumbered_cells = 0
        self.cell: tuple[int, int, str | None] | None = None
        self.formula: list[str] | None = None
        self.value: list[str] | None = None
        self.capture: list[str] | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        # Called for every element (thousands per sheet): the common cases come first and cheaply.
        self.budget -= 1
        if self.budget < 0:
            self._too_many()
        if ":" in name:
            name = name.rpartition(":")[2]
        if name == "c":
            ref = attrs.get("r")
            if ref is None:
                self.unnumbered_cells += 1
                row, col = max(self.row - 1, 0), 0
            else:
                position = _POSITIONS.get(ref)
                if position is None:
                    position = cell_position(ref, self.scan.name)
                row, col = position
                if row >= self.max_row or col >= self.max_col:
                    self.max_row, self.max_col = max(self.max_row, row + 1), max(self.max_col, col + 1)
                    if self.max_row * (self.max_col + self.unnumbered_cells) > self.max_cells:
                        self._too_many()
            if self.formulas:
                self.cell, self.formula, self.value = (row, col, attrs.get("t")), None, None
            if self.percent:
                style = attrs.get("s", "")
                if style.isascii() and style.isdigit() and int(style) in self.percent:
                    self.scan.percent_cells.add((row, col))
        elif name == "row":
            number = attrs.get("r")
            if number is None:
                self.row += 1
            elif number.isascii() and number.isdigit():
                self.row = int(number)
            else:
                raise StructureError(f"sheet {self.scan.name!r} has a row numbered {number[:20]!r}")
            if self.row > self.max_row:
                self.max_row = self.row
        elif name == "v" or name == "is":
            if self.row != self.last_filled:  # a value: count its row once
                self.last_filled = self.row
                self.scan.filled_rows += 1
                if self.scan.filled_rows > self.max_rows:
                    raise TooManyRows(self.scan)
            if name == "v" and self.formulas and self.cell is not None:
                self.value = self.capture = []
        elif name == "f" and self.formulas and self.cell is not None:
            self.formula = self.capture = []

    def _too_many(self) -> None:
        self.scan.rows = max(self.max_row, 1)
        self.scan.cols = max(self.max_col + self.unnumbered_cells, self.max_cells // self.scan.rows + 1)
        raise TooManyCells(self.scan)

    def end(self, name: str) -> None:
        local = name.rpartition(":")[2]
        if local in ("f", "v"):
            self.capture = None
        elif local == "c" and self.cell is not None:
            if self.formula is not None:
                row, col, kind = self.cell
                # An empty <v/> is a saved result only for a text formula that returned "".
                cached = self.value is not None and bool("".join(self.value) or kind == "str")
                if not cached:
                    self.scan.uncached_formulas[(row, col)] = "".join(self.formula)
            self.cell = None

    def text(self, data: str) -> None:
        if self.capture is not None:
            self.capture.append(data)


def shared_strings_problem(parts: dict[str, bytes]) -> str:
    """calamine reserves room for the `uniqueCount` a shared-string table declares before reading it: one that
    declares more strings than it holds (4 billion in a 1 KB part) is refused ('' when all is well); a table that
    cannot be read raises StructureError."""
    for name, xml in parts.items():
        if not name.lower().endswith("sharedstrings.xml"):
            continue
        declared = _root_attribute(xml, "uniqueCount", name)
        if declared is None:
            continue
        held = len(_SHARED_STRING.findall(xml))
        if not (declared.isascii() and declared.isdigit()) or int(declared) > held:
            return f"{name} declares {declared[:20]} strings but holds {held:,}"
    return ""


class _Found(Exception):
    pass


def _root_attribute(xml: bytes, attribute: str, what: str) -> str | None:
    """An attribute of the document's first element, read as an XML parser reads it (quotes, references);
    StructureError when the part cannot be read."""
    found: dict[str, str] = {}

    def start(name: str, attrs: dict[str, str]) -> None:
        found.update(attrs)
        raise _Found

    parser = pyexpat.ParserCreate()
    parser.StartElementHandler = start
    try:
        parse_part(parser, xml, f"{what} is unreadable")
    except _Found:
        return found.get(attribute)
    return None


_POSITIONS: dict[str, tuple[int, int]] = {}  # "E7" -> (6, 4): the same references recur in every workbook


def cell_position(ref: str, sheet: str) -> tuple[int, int]:
    match = _STRICT_REF.fullmatch(ref)
    if match is None:
        raise StructureError(f"sheet {sheet!r} has a cell reference {ref[:20]!r}")
    position = (int(match.group(2)) - 1, _column_index(match.group(1).encode()))
    if len(_POSITIONS) < 200_000:  # bounded: about 20 MB at most
        _POSITIONS[ref] = position
    return position


def _column_index(letters: bytes) -> int:
    index = 0
    for byte in letters.upper():
        index = index * 26 + byte - 64
    return index - 1
