"""Dates as people in England write them: a benchmarks file saved by Excel in a UK locale says `20/11/2026`."""

from __future__ import annotations

from datetime import date

import pytest

from kpi_core import loader
from kpi_core.comparators import BenchmarkFileError, read_benchmarks
from kpi_core.days import DayError, parse_day

HEADER = "framework,period,item,breakdown,value,source,published\n"


@pytest.mark.parametrize("text", ["2026-11-20", "20/11/2026", "20/11/26", "20-11-2026", "20.11.2026",
                                  " 20 / 11 / 2026 ", "20 November 2026", "20 Nov 2026", "20 Nov, 2026"])
def test_a_day_is_read_as_written_in_the_uk(text: str) -> None:
    assert parse_day(text) == date(2026, 11, 20)


def test_a_day_is_read_day_first_never_month_first() -> None:
    assert parse_day("05/11/2026") == date(2026, 11, 5)


@pytest.mark.parametrize(("text", "answer"), [
    ("11/20/2026", "reads month first; kpibot reads dates day first, as in the UK: write 20/11/2026 or 2026-11-20"),
    ("31/02/2026", "is not a day of the calendar"),
    ("1 Oct", "is not a date; write it as 20/11/2026 (day first) or 2026-11-20"),
    ("soon", "is not a date"),
])
def test_what_is_not_a_day_is_refused_saying_how_to_write_it(text: str, answer: str) -> None:
    with pytest.raises(DayError) as excinfo:
        parse_day(text)
    assert answer in str(excinfo.value)


def test_a_benchmarks_csv_saved_by_excel_in_a_uk_locale_loads() -> None:
    """Issue 20: "a UK date (20/11/2026) refused in the benchmarks CSV"."""
    text = HEADER + "ch-substance-misuse,2025-26-Q2,national_completion_pct,substance=opiate,5.1,NDTMS,20/11/2026\n"
    (benchmark,) = read_benchmarks(text, loader.shipped())
    assert benchmark.published == date(2026, 11, 20)


def test_a_month_first_date_in_a_benchmarks_csv_is_named_with_its_line_and_the_fix() -> None:
    text = HEADER + "ch-substance-misuse,2025-26-Q2,national_completion_pct,substance=opiate,5.1,NDTMS,11/20/2026\n"
    with pytest.raises(BenchmarkFileError) as excinfo:
        read_benchmarks(text, loader.shipped(), where="b.csv ")
    assert excinfo.value.problems == ["b.csv line 2: published: '11/20/2026' reads month first; kpibot reads dates "
                                      "day first, as in the UK: write 20/11/2026 or 2026-11-20"]
