"""Due dates of returns, and working days in England and Wales.

A due date stands as the contract states it ("the 15th of the month after the quarter"), even on a Sunday; a
rule may opt in to rolling such a date to the next working day. Bank holidays come from the maintained `holidays`
package, not a hand-made list.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

import holidays

from kpi_core.calendar import Period, add_months
from kpi_core.framework.returns import (
    DateAfter,
    DayOfNextMonth,
    DaysAfter,
    DueRule,
    EndOfNextMonth,
    ReturnType,
    WorkingDaysAfter,
)


@lru_cache(maxsize=64)
def bank_holidays(year: int) -> frozenset[date]:
    """England and Wales bank holidays of a calendar year, weekdays only.

    The library lists both a weekend holiday and its weekday "(observed)" substitute; only the weekday one
    takes a working day away.
    """
    days = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return frozenset(d for d in days if d.weekday() < 5)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year)


def next_working_day(day: date) -> date:
    """`day` itself if it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(day: date, count: int) -> date:
    """The date `count` working days after `day` (count >= 0; 0 gives `day`)."""
    while count > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (negative when end is earlier)."""
    if end < start:
        return -working_days_between(end, start)
    return sum(1 for n in range(1, (end - start).days + 1) if is_working_day(start + timedelta(days=n)))


def due_date(period: Period, rule: DueRule) -> date:
    """The date a return for `period` is due under `rule`."""
    end = period.end
    match rule:
        case DayOfNextMonth(day=day):
            first = add_months(end.replace(day=1), 1)
            due = first.replace(day=day)
        case DateAfter(month=month, day=day):
            due = date(end.year, month, day)
            if due <= end:
                due = date(end.year + 1, month, day)
        case WorkingDaysAfter(days=days):
            due = add_working_days(end, days)
        case DaysAfter(days=days):
            due = end + timedelta(days=days)
        case EndOfNextMonth():
            first = add_months(end.replace(day=1), 1)
            due = first.replace(day=calendar.monthrange(first.year, first.month)[1])
        case _:
            raise TypeError(rule)
    return next_working_day(due) if rule.roll_to_working_day else due


def meeting_date(period: Period, return_type: ReturnType) -> date | None:
    """When the performance meeting on `period`'s return is held, if the schedule sets one."""
    return None if return_type.meeting is None else due_date(period, return_type.meeting)
