"""Reporting years and periods: ids, dates, labels and the round trip from id to period."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_core.calendar import (
    Period,
    PeriodError,
    ReportingYear,
    parse_period,
    period_containing,
)

FREQUENCIES = ("monthly", "quarterly", "annual")


@pytest.mark.parametrize(
    ("text", "start_month", "start", "end", "frequency"),
    [
        ("2025-26-Q1", 4, date(2025, 4, 1), date(2025, 6, 30), "quarterly"),
        ("2025-26-Q4", 4, date(2026, 1, 1), date(2026, 3, 31), "quarterly"),
        ("2025-26-Q1", 11, date(2025, 11, 1), date(2026, 1, 31), "quarterly"),  # lifestyle: Q1 = Nov to Jan
        ("2025-26-Q4", 11, date(2026, 8, 1), date(2026, 10, 31), "quarterly"),
        ("2025-26-M01", 4, date(2025, 4, 1), date(2025, 4, 30), "monthly"),
        ("2025-26-M11", 4, date(2026, 2, 1), date(2026, 2, 28), "monthly"),
        ("2027-28-M11", 4, date(2028, 2, 1), date(2028, 2, 29), "monthly"),  # leap year
        ("2025-26", 4, date(2025, 4, 1), date(2026, 3, 31), "annual"),
        ("2025-26", 11, date(2025, 11, 1), date(2026, 10, 31), "annual"),
        ("2025", 1, date(2025, 1, 1), date(2025, 12, 31), "annual"),
        ("2025-Q3", 1, date(2025, 7, 1), date(2025, 9, 30), "quarterly"),
        ("2025-M12", 1, date(2025, 12, 1), date(2025, 12, 31), "monthly"),
    ],
)
def test_a_period_id_names_its_dates(text: str, start_month: int, start: date, end: date, frequency: str) -> None:
    period = parse_period(text, start_month)
    assert (period.start, period.end, period.frequency) == (start, end, frequency)
    assert period.id == text


@pytest.mark.parametrize(
    "text", ["2025-26-Q1", "2025/26 Q1", "2025/26-Q1", "Q1 2025-26", "q1 2025/26", "2025-2026-Q1", " 2025-26 q1 ",
             "2025-26_Q1"],
)
def test_common_ways_of_writing_a_quarter_are_read(text: str) -> None:
    assert parse_period(text, 4).id == "2025-26-Q1"


@pytest.mark.parametrize(
    ("text", "start_month", "message"),
    [
        ("", 4, "is not a period; write it like 2025-26-Q1"),
        ("Q5 2025-26", 4, "a year has 4 quarterly periods"),
        ("2025-26-Q0", 4, "a year has 4 quarterly periods"),
        ("2025-26-M13", 4, "a year has 12 monthly periods"),
        ("2025-27", 4, "does not name a reporting year of this contract; its years look like 2025-26"),
        ("2025-26", 1, "does not name a reporting year"),
        ("2025", 4, "this contract's years run from April; write 2025-26"),
        ("2025-Q1", 11, "run from November; write 2025-26"),
        ("last quarter", 4, "is not a period"),
        ("2025-26-W01", 4, "is not a period"),
    ],
)
def test_a_bad_period_says_how_to_write_one(text: str, start_month: int, message: str) -> None:
    with pytest.raises(PeriodError) as excinfo:
        parse_period(text, start_month)
    assert message in str(excinfo.value)


@pytest.mark.parametrize(
    ("text", "start_month", "label"),
    [
        ("2025-26-Q1", 11, "Q1 2025-26 (November 2025 to January 2026)"),
        ("2025-26-Q2", 4, "Q2 2025-26 (July 2025 to September 2025)"),
        ("2025-26", 4, "Year 2025-26 (April 2025 to March 2026)"),
        ("2025-26-M10", 4, "January 2026 (month 10 of 2025-26)"),
    ],
)
def test_labels_name_the_months(text: str, start_month: int, label: str) -> None:
    assert parse_period(text, start_month).label == label


def test_earlier_periods_of_the_year_are_listed_oldest_first() -> None:
    q3 = parse_period("2025-26-Q3", 4)
    assert [p.id for p in q3.earlier_in_year()] == ["2025-26-Q1", "2025-26-Q2"]
    assert parse_period("2025-26-Q1", 4).earlier_in_year() == []


def test_previous_and_next_cross_the_year_boundary() -> None:
    q1 = parse_period("2025-26-Q1", 4)
    assert q1.previous().id == "2024-25-Q4"
    assert q1.previous().next() == q1
    assert parse_period("2025-26-M12", 11).next().id == "2026-27-M01"


def test_only_the_last_period_completes_the_year() -> None:
    assert [p.is_last_in_year for p in ReportingYear.starting(2025, 4).periods("quarterly")] == [
        False, False, False, True]
    assert ReportingYear.starting(2025, 4).periods("annual")[0].is_last_in_year


def test_the_year_containing_a_day_depends_on_the_start_month() -> None:
    assert ReportingYear.containing(date(2026, 3, 31), 4).id == "2025-26"
    assert ReportingYear.containing(date(2026, 4, 1), 4).id == "2026-27"
    assert ReportingYear.containing(date(2025, 10, 31), 11).id == "2024-25"
    assert period_containing(date(2026, 1, 15), 11, "quarterly").id == "2025-26-Q1"


def test_an_impossible_start_month_is_refused() -> None:
    with pytest.raises(PeriodError, match="month 1 to 12"):
        ReportingYear.starting(2025, 13)
    with pytest.raises(PeriodError, match="unknown frequency"):
        ReportingYear.starting(2025, 4).periods("weekly")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- properties

_YEARS = st.builds(ReportingYear.starting, st.integers(1900, 2200), st.integers(1, 12))


@settings(max_examples=300, deadline=None)
@given(_YEARS, st.sampled_from(FREQUENCIES))
def test_every_period_id_reads_back_as_the_same_period(year: ReportingYear, frequency: str) -> None:
    for period in year.periods(frequency):  # type: ignore[arg-type]
        assert parse_period(period.id, year.start.month) == period


@settings(max_examples=300, deadline=None)
@given(_YEARS, st.sampled_from(FREQUENCIES))
def test_periods_tile_the_year_without_gaps_or_overlaps(year: ReportingYear, frequency: str) -> None:
    periods = year.periods(frequency)  # type: ignore[arg-type]
    assert periods[0].start == year.start
    assert periods[-1].end == year.end
    assert year.end == year.next().start - timedelta(days=1)
    for before, after in zip(periods, periods[1:]):
        assert before.end + timedelta(days=1) == after.start
        assert before.next() == after and after.previous() == before
    assert len({p.id for p in periods}) == len(periods)


@settings(max_examples=500, deadline=None)
@given(st.dates(date(1900, 1, 1), date(2200, 12, 31)), st.integers(1, 12), st.sampled_from(FREQUENCIES))
def test_the_period_containing_a_day_contains_it(day: date, start_month: int, frequency: str) -> None:
    period = period_containing(day, start_month, frequency)  # type: ignore[arg-type]
    assert period.contains(day)
    assert period.start.day == 1 and period.start.month in {(start_month - 1 + k) % 12 + 1 for k in range(12)}
    assert period.year == ReportingYear.containing(day, start_month)
    assert not period.next().contains(day) and not period.previous().contains(day)
    assert parse_period(period.id, start_month) == period


@settings(max_examples=200, deadline=None)
@given(_YEARS, st.integers(1, 12))
def test_a_year_id_belongs_to_one_start_month_style(year: ReportingYear, other_month: int) -> None:
    # A January year is written `2025`, any other `2025-26`: the id never reads as a year of the other style.
    if (year.start.month == 1) != (other_month == 1):
        with pytest.raises(PeriodError):
            parse_period(year.id, other_month)
    else:
        assert parse_period(year.id, other_month) == Period(ReportingYear.starting(year.start.year, other_month),
                                                            "annual", 1)
