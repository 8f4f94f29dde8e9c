"""The part of a reporting year a contract runs: which periods it owes, and what share of the year they are.

A contract that starts (or ends) mid-year owes only the periods it overlaps (the obligations kpibot creates), so its
year is complete when its last owed period is in, not when a quarter it never owed arrives. Its annual targets of
counts, its incentive tiers and its contract value for the year are pro-rated to the periods it owes, and the
reports say so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from kpi_core.calendar import MONTH_NAMES, PERIODS_PER_YEAR, Frequency, Period, ReportingYear

NAMES = {"quarterly": ("quarter", "quarters"), "monthly": ("month", "months")}


@dataclass(frozen=True, slots=True)
class ContractSpan:
    """When a contract runs: from `start` to `end` (inclusive), either open."""

    start: date | None = None
    end: date | None = None

    def owes(self, period: Period) -> bool:
        """Whether the contract runs for any day of `period` (an obligation exists for it)."""
        return (self.start is None or period.end >= self.start) and (self.end is None or period.start <= self.end)

    def owed(self, year: ReportingYear, frequency: Frequency) -> list[Period]:
        """The periods of `year` the contract owes, oldest first."""
        return [p for p in year.periods(frequency) if self.owes(p)]

    def earlier_owed(self, period: Period) -> list[Period]:
        """The owed periods of the same year and frequency before `period`."""
        return [p for p in period.earlier_in_year() if self.owes(p)]

    def completes_year(self, period: Period) -> bool:
        """`period` is the last the contract owes in its year: with it, the contract's year is complete."""
        later = period.year.periods(period.frequency)[period.index:]
        return self.owes(period) and not any(self.owes(p) for p in later)

    def whole_year(self, year: ReportingYear) -> bool:
        """The contract owes every month of `year`: it runs for its first month and its last (a span is one
        stretch of days, so it runs for every month between)."""
        if self.start is None and self.end is None:
            return True
        return self.owes(Period(year, "monthly", 1)) and self.owes(Period(year, "monthly", 12))

    def time_share(self, year: ReportingYear, frequency: Frequency) -> Fraction:
        """The share of the year's periods (of `frequency`) the contract owes: what its value for the year is."""
        return Fraction(len(self.owed(year, frequency)), PERIODS_PER_YEAR[frequency])

    def describe(self, year: ReportingYear, frequency: Frequency) -> str:
        """`The contract runs from 1 July 2025: it owes Q2 to Q4 of 2025-26 (3 of 4 quarters)`."""
        owed = self.owed(year, frequency)
        one, many = NAMES.get(frequency, (frequency, frequency))
        bounds = []
        if self.start is not None and self.start > year.start:
            bounds.append(f"from {_day(self.start)}")
        if self.end is not None and self.end < year.end:
            bounds.append(f"to {_day(self.end)}")
        names = [_short(p) for p in owed]
        which = names[0] if len(names) == 1 else f"{names[0]} to {names[-1]}"
        return (f"The contract runs {' '.join(bounds)}: it owes {which} of {year.id} "
                f"({len(owed)} of {PERIODS_PER_YEAR[frequency]} {one if PERIODS_PER_YEAR[frequency] == 1 else many})")


WHOLE = ContractSpan()


def parts_of(frequencies: Iterable[str]) -> Frequency:
    """The periods a year is made of for a framework with returns of these frequencies: its most frequent
    return's (months when it has only an annual return). A part year is measured in them."""
    found = set(frequencies)
    return "quarterly" if "quarterly" in found and "monthly" not in found else "monthly"


def _day(day: date) -> str:
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def _short(period: Period) -> str:
    if period.frequency == "quarterly":
        return f"Q{period.index}"
    return MONTH_NAMES[period.start.month - 1]
