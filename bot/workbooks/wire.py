"""A parsed return as plain tuples, as the reader's worker process sends it back.

Pickling the ParsedReturn itself sends every entry and finding as an object to rebuild field by field: about 1 ms
each way for a 60-item return. Plain tuples of strings and numbers pickle and unpickle in a tenth of that, and the
entries (named tuples) are rebuilt from them without copying a field.
"""

from __future__ import annotations

from kpi_core.findings import Finding
from kpi_core.returns.model import Entry, ParsedReturn
from kpi_core.returns.plan_sheet import PlanSheet

Packed = tuple[str, str, list[tuple[object, ...]], list[tuple[object, ...]], dict[str, str], dict[str, str],
               dict[str, str], PlanSheet | None]


def pack(parsed: ParsedReturn) -> Packed:
    """The return as tuples: source, format, entries, findings, cover, its cells, the blank value cells, and an
    action-plan workbook's plan (a few strings, pickled as they are)."""
    return (parsed.source, parsed.format, [tuple(e) for e in parsed.entries],
            [(f.severity, f.code, f.message, f.where, f.fix, f.item, f.extra or None) for f in parsed.findings],
            parsed.cover, parsed.cover_cells, parsed.blank_cells, parsed.action_plan)


def unpack(packed: Packed) -> ParsedReturn:
    """The ParsedReturn that `pack` was given."""
    source, format, entries, findings, cover, cover_cells, blank_cells, action_plan = packed
    make = Entry._make
    return ParsedReturn(
        source=source, format=format, entries=[make(e) for e in entries],
        findings=[Finding(s, c, m, w, fx, i, extra or {}) for s, c, m, w, fx, i, extra in findings],  # type: ignore[arg-type]
        cover=cover, cover_cells=cover_cells, blank_cells=blank_cells, action_plan=action_plan)
