"""Reporting years and periods with stable ids.

A reporting year starts in any month (April for a financial year, November for the lifestyle contract) and is
named by the calendar years it spans: `2025-26`, or `2025` when it starts in January. Periods are `2025-26-Q1`,
`2025-26-M01` (the first month of the reporting year) and `2025-26` for the whole year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Frequency = Literal["monthly", "quarterly", "annual"]
PERIODS_PER_YEAR: dict[str, int] = {"monthly": 12, "quarterly": 4, "annual": 1}
MONTHS_PER_PERIOD: dict[str, int] = {"monthly": 1, "quarterly": 3, "annual": 12}
MONTH_NAMES = (
    "January February March April May June July August September October November December".split()
)


class PeriodError(ValueError):
    """A period id that cannot be read, or does not fit the contract's calendar."""


def add_months(day: date, months: int) -> date:
    """The first of the month `months` after `day`'s month (day is assumed to be the 1st)."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True, slots=True, order=True)
class ReportingYear:
    start: date  # always the 1st of the start month

    @classmethod
    def starting(cls, first_year: int, start_month: int) -> "ReportingYear":
        if not 1 <= start_month <= 12:
            raise PeriodError(f"a reporting year starts in month 1 to 12, not {start_month}")
        return cls(date(first_year, start_month, 1))

    @classmethod
    def containing(cls, day: date, start_month: int) -> "ReportingYear":
        first = day.year if day.month >= start_month else day.year - 1
        return cls.starting(first, start_month)

    @property
    def end(self) -> date:
        return add_months(self.start, 12) - timedelta(days=1)

    @property
    def id(self) -> str:
        if self.start.month == 1:
            return str(self.start.year)
        return f"{self.start.year}-{(self.start.year + 1) % 100:02d}"

    def next(self) -> "ReportingYear":
        return ReportingYear(add_months(self.start, 12))

    def previous(self) -> "ReportingYear":
        return ReportingYear(add_months(self.start, -12))

    def periods(self, frequency: Frequency) -> list["Period"]:
        if frequency not in PERIODS_PER_YEAR:
            raise PeriodError(f"unknown frequency {frequency!r}; use monthly, quarterly or annual")
        return [Period(self, frequency, n) for n in range(1, PERIODS_PER_YEAR[frequency] + 1)]


@dataclass(frozen=True, slots=True, order=True)
class Period:
    year: ReportingYear
    frequency: Frequency
    index: int  # 1-based within the year

    @property
    def start(self) -> date:
        return add_months(self.year.start, (self.index - 1) * MONTHS_PER_PERIOD[self.frequency])

    @property
    def end(self) -> date:
        return add_months(self.start, MONTHS_PER_PERIOD[self.frequency]) - timedelta(days=1)

    @property
    def id(self) -> str:
        if self.frequency == "annual":
            return self.year.id
        if self.frequency == "quarterly":
            return f"{self.year.id}-Q{self.index}"
        return f"{self.year.id}-M{self.index:02d}"

    @property
    def count_in_year(self) -> int:
        return PERIODS_PER_YEAR[self.frequency]

    @property
    def is_last_in_year(self) -> bool:
        return self.index == self.count_in_year

    @property
    def label(self) -> str:
        """Human label, e.g. 'Q1 2025-26 (November 2025 to January 2026)'."""
        span = f"{MONTH_NAMES[self.start.month - 1]} {self.start.year}"
        if self.frequency != "monthly":
            span += f" to {MONTH_NAMES[self.end.month - 1]} {self.end.year}"
        if self.frequency == "annual":
            return f"Year {self.year.id} ({span})"
        if self.frequency == "quarterly":
            return f"Q{self.index} {self.year.id} ({span})"
        return f"{MONTH_NAMES[self.start.month - 1]} {self.start.year} (month {self.index} of {self.year.id})"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def earlier_in_year(self) -> list["Period"]:
        """The periods of the same year and frequency before this one, oldest first."""
        return [Period(self.year, self.frequency, n) for n in range(1, self.index)]

    def previous(self) -> "Period":
        """The period just before (across a year boundary)."""
        if self.index > 1:
            return Period(self.year, self.frequency, self.index - 1)
        previous_year = self.year.previous()
        return Period(previous_year, self.frequency, PERIODS_PER_YEAR[self.frequency])

    def next(self) -> "Period":
        if self.index < self.count_in_year:
            return Period(self.year, self.frequency, self.index + 1)
        return Period(self.year.next(), self.frequency, 1)

    def __str__(self) -> str:
        return self.id


def period_containing(day: date, start_month: int, frequency: Frequency) -> Period:
    year = ReportingYear.containing(day, start_month)
    months = (day.year * 12 + day.month) - (year.start.year * 12 + year.start.month)
    return Period(year, frequency, months // MONTHS_PER_PERIOD[frequency] + 1)


_PERIOD = re.compile(
    r"""^\s*(?:
        (?P<y1>\d{4})(?:\s*[-/]\s*(?P<y2>\d{2}|\d{4}))?(?:\s*[-\s_]\s*(?P<p1>[QqMm])\s*(?P<n1>\d{1,2}))?
      | (?P<p2>[QqMm])\s*(?P<n2>\d{1,2})\s*[-\s_]?\s*(?P<y3>\d{4})(?:\s*[-/]\s*(?P<y4>\d{2}|\d{4}))?
    )\s*$""",
    re.VERBOSE,
)


def parse_period(text: str, start_month: int) -> Period:
    """Read `2025-26-Q1`, `2025/26 Q1`, `Q1 2025-26`, `2025-26-M03` or `2025-26` for a given calendar.

    The years must match the calendar: `2025-26` is not a year of a contract whose years start in January.
    """
    match = _PERIOD.match(text or "")
    if not match:
        raise PeriodError(
            f"{text!r} is not a period; write it like 2025-26-Q1 (quarter), 2025-26-M01 (month) or 2025-26 (year)"
        )
    first = int(match["y1"] or match["y3"])
    second = match["y2"] or match["y4"]
    kind = (match["p1"] or match["p2"] or "").upper()
    number = int(match["n1"] or match["n2"] or 0)
    year = ReportingYear.starting(first, start_month)
    if second is not None:
        expected = (first + 1) % 100 if len(second) == 2 else first + 1
        if start_month == 1 or int(second) != expected:
            raise PeriodError(f"{text!r} does not name a reporting year of this contract; its years look like {year.id}")
    elif start_month != 1:
        raise PeriodError(f"{text!r}: this contract's years run from {MONTH_NAMES[start_month - 1]}; write {year.id}")
    if not kind:
        return Period(year, "annual", 1)
    frequency: Frequency = "quarterly" if kind == "Q" else "monthly"
    if not 1 <= number <= PERIODS_PER_YEAR[frequency]:
        raise PeriodError(f"{text!r}: a year has {PERIODS_PER_YEAR[frequency]} {frequency} periods")
    return Period(year, frequency, number)
