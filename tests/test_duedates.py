"""Due dates of returns and working days in England and Wales.

Bank holidays are hard-coded here from the published GOV.UK lists, so the tests check kpibot's use of the
`holidays` package rather than trusting it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_core import loader
from kpi_core.calendar import ReportingYear, parse_period
from kpi_core.duedates import (
    add_working_days,
    bank_holidays,
    due_date,
    is_working_day,
    next_working_day,
    working_days_between,
)
from kpi_core.framework.returns import (
    DateAfter,
    DayOfNextMonth,
    DaysAfter,
    DueRule,
    WorkingDaysAfter,
)

LIFESTYLE_LIKE = """
schema = 1
id = "lifestyle-like"
name = "A lifestyle-like contract: years from November"

[calendar]
year_start_month = 11

[returns.quarterly]
label = "Quarterly monitoring return"
frequency = "quarterly"
due = { rule = "day_of_next_month", day = 15 }

[returns.annual]
label = "Annual return"
frequency = "annual"
due = { rule = "date_after", month = 4, day = 30 }

[[items]]
id = "participants"
label = "Participants"
"""


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2025, 12, 24), True),
        (date(2025, 12, 25), False),  # Christmas Day, a Thursday
        (date(2025, 12, 26), False),  # Boxing Day, a Friday
        (date(2025, 12, 29), True),
        (date(2026, 1, 1), False),  # New Year's Day
        (date(2026, 1, 2), True),
        (date(2026, 4, 2), True),
        (date(2026, 4, 3), False),  # Good Friday
        (date(2026, 4, 6), False),  # Easter Monday
        (date(2026, 4, 7), True),
        (date(2026, 5, 4), False),  # Early May bank holiday
        (date(2026, 8, 31), False),  # Summer bank holiday (England and Wales, not Scotland's 3 August)
        (date(2026, 8, 3), True),
        (date(2026, 3, 17), True),  # St Patrick's Day is a holiday in Northern Ireland only
        (date(2021, 12, 25), False),  # a Saturday
        (date(2021, 12, 27), False),  # substitute for Christmas Day
        (date(2021, 12, 28), False),  # substitute for Boxing Day
        (date(2021, 12, 29), True),
        (date(2026, 2, 14), False),  # an ordinary Saturday
        (date(2026, 2, 15), False),  # an ordinary Sunday
    ],
)
def test_working_days_skip_weekends_and_england_and_wales_bank_holidays(day: date, working: bool) -> None:
    assert is_working_day(day) is working


def test_bank_holidays_are_weekdays_only() -> None:
    # 2021: Christmas fell at a weekend; only the Monday and Tuesday substitutes take working days away.
    assert {d for d in bank_holidays(2021) if d.month == 12} == {date(2021, 12, 27), date(2021, 12, 28)}
    assert all(d.weekday() < 5 for d in bank_holidays(2026))


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        (date(2025, 12, 31), 0, date(2025, 12, 31)),
        (date(2025, 12, 31), 1, date(2026, 1, 2)),  # 1 January is a holiday
        (date(2025, 12, 31), 5, date(2026, 1, 8)),
        (date(2025, 12, 24), 1, date(2025, 12, 29)),  # over Christmas, Boxing Day and a weekend
        (date(2025, 11, 30), 20, date(2025, 12, 30)),
        (date(2026, 3, 31), 2, date(2026, 4, 2)),
        (date(2026, 3, 31), 3, date(2026, 4, 7)),  # over Good Friday, a weekend and Easter Monday
        (date(2026, 4, 2), 1, date(2026, 4, 7)),
        (date(2026, 2, 13), 1, date(2026, 2, 16)),  # Friday to Monday
    ],
)
def test_adding_working_days_counts_only_working_days(start: date, count: int, expected: date) -> None:
    assert add_working_days(start, count) == expected
    assert working_days_between(start, expected) == count
    assert working_days_between(expected, start) == -count


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 2, 15), date(2026, 2, 16)),
        (date(2026, 2, 16), date(2026, 2, 16)),
        (date(2025, 12, 25), date(2025, 12, 29)),
        (date(2026, 4, 3), date(2026, 4, 7)),
    ],
)
def test_next_working_day_is_the_day_itself_or_the_first_after(day: date, expected: date) -> None:
    assert next_working_day(day) == expected


@settings(max_examples=200, deadline=None)
@given(st.dates(date(2015, 1, 1), date(2035, 12, 31)), st.integers(0, 40))
def test_adding_then_counting_working_days_agree(start: date, count: int) -> None:
    end = add_working_days(start, count)
    assert working_days_between(start, end) == count
    if count:
        assert is_working_day(end)
        assert end > start


@settings(max_examples=200, deadline=None)
@given(st.dates(date(2015, 1, 1), date(2035, 12, 31)))
def test_next_working_day_skips_only_non_working_days(day: date) -> None:
    found = next_working_day(day)
    assert is_working_day(found)
    assert all(not is_working_day(day + timedelta(days=n)) for n in range((found - day).days))
    assert (found - day).days <= 5  # no run of more than four non-working days in England and Wales


# ----------------------------------------------------------------------------- due rules

QUARTERLY_15TH = DayOfNextMonth(rule="day_of_next_month", day=15)
ANNUAL_30_APRIL = DateAfter(rule="date_after", month=4, day=30)


@pytest.mark.parametrize(
    ("period", "start_month", "rule", "due"),
    [
        ("2025-26-Q1", 4, QUARTERLY_15TH, date(2025, 7, 15)),
        ("2025-26-Q2", 4, QUARTERLY_15TH, date(2025, 10, 15)),
        ("2025-26-Q3", 4, QUARTERLY_15TH, date(2026, 1, 15)),
        ("2025-26-Q4", 4, QUARTERLY_15TH, date(2026, 4, 15)),
        ("2025-26", 4, ANNUAL_30_APRIL, date(2026, 4, 30)),
        ("2025-26-Q1", 11, QUARTERLY_15TH, date(2026, 2, 15)),  # "15th February for Q1", a Sunday: it stands
        ("2025-26-Q4", 11, QUARTERLY_15TH, date(2026, 11, 15)),
        ("2025-26", 11, ANNUAL_30_APRIL, date(2027, 4, 30)),  # the first 30 April after the year ends
        ("2027-28", 4, ANNUAL_30_APRIL, date(2028, 4, 30)),  # a Sunday: it stands
        ("2025-26-Q3", 4, DateAfter(rule="date_after", month=1, day=31), date(2026, 1, 31)),
        ("2025-26-M03", 4, DaysAfter(rule="days_after", days=0), date(2025, 6, 30)),
        ("2025-26-M03", 4, DaysAfter(rule="days_after", days=30), date(2025, 7, 30)),
        ("2025-26-Q3", 4, WorkingDaysAfter(rule="working_days_after", days=5), date(2026, 1, 8)),
        ("2025-26-Q4", 4, WorkingDaysAfter(rule="working_days_after", days=3), date(2026, 4, 7)),
    ],
)
def test_due_dates_follow_the_rule_as_written(period: str, start_month: int, rule: DueRule, due: date) -> None:
    assert due_date(parse_period(period, start_month), rule) == due


@pytest.mark.parametrize(
    ("period", "start_month", "rule", "due"),
    [
        ("2025-26-Q1", 11, DayOfNextMonth(rule="day_of_next_month", day=15, roll_to_working_day=True),
         date(2026, 2, 16)),
        ("2027-28", 4, DateAfter(rule="date_after", month=4, day=30, roll_to_working_day=True), date(2028, 5, 2)),
        ("2025-26", 4, DateAfter(rule="date_after", month=4, day=3, roll_to_working_day=True), date(2026, 4, 7)),
        ("2025-26-M08", 4, DaysAfter(rule="days_after", days=25, roll_to_working_day=True), date(2025, 12, 29)),
        ("2025-26-Q1", 4, DayOfNextMonth(rule="day_of_next_month", day=15, roll_to_working_day=True),
         date(2025, 7, 15)),  # already a working day: unchanged
    ],
)
def test_a_rule_may_opt_in_to_rolling_to_the_next_working_day(period: str, start_month: int, rule: DueRule,
                                                              due: date) -> None:
    assert due_date(parse_period(period, start_month), rule) == due


def test_without_opting_in_a_bank_holiday_due_date_stands() -> None:
    rule = DaysAfter(rule="days_after", days=25)
    assert due_date(parse_period("2025-26-M08", 4), rule) == date(2025, 12, 25)


@settings(max_examples=200, deadline=None)
@given(st.integers(2000, 2100), st.integers(1, 12), st.integers(1, 28))
def test_day_of_next_month_falls_in_the_month_after_every_quarter(first_year: int, start_month: int,
                                                                  day: int) -> None:
    rule = DayOfNextMonth(rule="day_of_next_month", day=day)
    for period in ReportingYear.starting(first_year, start_month).periods("quarterly"):
        due = due_date(period, rule)
        after = period.end + timedelta(days=1)
        assert (due.year, due.month, due.day) == (after.year, after.month, day)


def test_a_lifestyle_like_framework_has_q1_due_15_february_and_the_annual_return_30_april() -> None:
    framework = loader.load_text(LIFESTYLE_LIKE)
    q1 = parse_period("2025-26-Q1", framework.calendar.year_start_month)
    year = parse_period("2025-26", framework.calendar.year_start_month)
    assert (q1.start, q1.end) == (date(2025, 11, 1), date(2026, 1, 31))
    assert due_date(q1, framework.returns["quarterly"].due) == date(2026, 2, 15)
    annual_due = due_date(year, framework.returns["annual"].due)
    assert (annual_due.month, annual_due.day) == (4, 30) and annual_due > year.end


def test_the_shipped_lifestyle_framework_has_q1_due_15_february_and_the_annual_return_30_april() -> None:
    framework = loader.get("lifestyle")
    start_month = framework.calendar.year_start_month
    assert start_month == 11
    q1 = parse_period("2025-26-Q1", start_month)
    assert q1.label == "Q1 2025-26 (November 2025 to January 2026)"
    dues = {spec.frequency: spec.due for spec in framework.returns.values()}
    assert due_date(q1, dues["quarterly"]) == date(2026, 2, 15)
    year = parse_period("2025-26", start_month)
    annual_due = due_date(year, dues["annual"])
    assert (annual_due.month, annual_due.day) == (4, 30) and annual_due > year.end
