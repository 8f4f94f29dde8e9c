"""The canonical return: every figure as found, with where it was found, before it is interpreted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from kpi_core.findings import Finding, has_errors
from kpi_core.returns.plan_sheet import PlanSheet

PERSONAL_DATA = "personal_data"  # the code of the one finding of a file refused as personal data


class Entry(NamedTuple):
    """One figure as read from the file. `where` is a cell (`Data!D7`) or a CSV line (`line 5`).

    A named tuple: a return holds hundreds, made in the reader's worker process and rebuilt in the service from
    the plain tuples it sends (bot/workbooks/wire.py)."""

    item: str
    breakdown: str
    raw: object
    where: str
    period: str | None = None  # a CSV may carry earlier periods' figures for the year to date


@dataclass(frozen=True, slots=True)
class UncachedFormula:
    """A formula cell saved without its result (as scripts write them): kpibot never calculates formulas."""

    formula: str

    def __str__(self) -> str:
        return f"={self.formula}"


@dataclass
class ParsedReturn:
    """What a reader got out of a file: entries, the file's own description of itself, and reading problems."""

    source: str
    format: str  # "csv" | "xlsx"
    entries: list[Entry] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    cover: dict[str, str] = field(default_factory=dict)  # contract, period, framework, template_version...
    cover_cells: dict[str, str] = field(default_factory=dict)  # cover key -> the cell it was read from
    blank_cells: dict[str, str] = field(default_factory=dict)  # item id as written -> its empty value cell
    action_plan: PlanSheet | None = None  # kpibot's action-plan workbook: never a return (plan_sheet.py)

    @property
    def unreadable(self) -> bool:
        """True when reading failed outright (nothing to interpret): refuse the file before asking which contract
        it is for."""
        return has_errors(self.findings) and not self.entries

    @property
    def personal_data(self) -> bool:
        """True when the file was refused because it looks like it holds personal data: its one finding names
        positions only; quarantine the raw file and echo nothing from it. Also `unreadable`; `cover` keeps only a
        kpibot cover's identity (contract, period) when the data was not on the cover itself."""
        return any(f.code == PERSONAL_DATA for f in self.findings)
