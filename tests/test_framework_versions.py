"""Later contract years read as later years: no framework version keeps wording whose time has passed.

Issue 20, item 9: "The year-2 versions of City and Hackney 1.8 and Solihull T1.1 still say 'Year 1 to establish
baseline' and 'KPI will be developed in year 2'. Check every framework's later versions for wording that expired."
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from kpi_core import loader
from kpi_core.calendar import parse_period

# Wording the seeds tie to a contract year, and the first contract year in which it is out of date.
EXPIRED = [
    # seeds/000, 1.8: "Year 1 to establish baseline and trajectory"; 1.12: "To be baselined in Y1"
    (r"year 1 to establish", 2),
    (r"to be baselined in (year 1|y1)", 2),
    # seeds/001: "KPI will be developed in year 2", "KPI developed in year 2", "1600 yr 1 (increasing following years)"
    (r"\bkpi (will be )?developed in year 2", 2),
    (r"\byr 1\b", 2),
    (r"\bthe year 1 target\b", 2),
    # seeds/003: "Key Performance Indicator Framework (Baseline information will be used to establish KPI's in year 2)"
    (r"for baseline information", 2),
    (r"until the kpi is set in year 2", 2),
    # seeds/004: "target to be agreed within 12 months of contract start"; "year on year increase expected in first
    # 24 months of service delivery. Review target at 24 months"
    (r"to be agreed within 12 months", 2),
    (r"first 24 months", 3),
    (r"review target at 24 months", 3),
]
FIELDS = ("name", "target_text", "notes", "assumed")
FRAMEWORKS = sorted(loader.shipped())


def expired_wording(framework_id: str, year: int) -> list[str]:
    """`1.8 target_text: 'Year 1 to establish ...'` for each text of the version in force in contract `year`
    that says what an earlier year was still to do."""
    found = []
    for ind in loader.for_year(framework_id, year).indicators:
        for field in FIELDS:
            text = getattr(ind, field) or ""
            found += [f"{ind.ref} {field}: {text!r}" for pattern, first in EXPIRED
                      if first <= year and re.search(pattern, text, re.IGNORECASE)]
    return found


@pytest.mark.parametrize("year", [2, 3, 4])
@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_no_later_contract_year_keeps_wording_that_has_expired(framework_id: str, year: int) -> None:
    assert expired_wording(framework_id, year) == []


def test_the_expired_phrases_are_the_first_years_own_words() -> None:
    """Each phrase the test looks for is in some framework's first year, so the check above can fail."""
    first_year = " ".join(getattr(ind, field) or "" for fid in FRAMEWORKS for ind in loader.get(fid).indicators
                          for field in FIELDS)
    missing = [pattern for pattern, _ in EXPIRED if not re.search(pattern, first_year, re.IGNORECASE)]
    assert missing == []


@pytest.mark.parametrize(("framework_id", "ref", "year_1", "year_2"), [
    ("ch-stop-smoking", "1.8", "Year 1 to establish baseline and trajectory",
     "Trajectory from the year-1 baseline not yet agreed (reported for information)"),
    ("solihull-stop-smoking", "T1.1", "KPI will be developed in year 2",
     "KPI due in year 2 not yet agreed (reported for information)"),
    ("lifestyle", "PA.9", "For baseline information",
     "KPI from the year-1 baseline not yet agreed (reported for information)"),
])
def test_a_return_of_the_second_contract_year_is_scored_with_the_second_years_words(
        framework_id: str, ref: str, year_1: str, year_2: str) -> None:
    start = date(2025, 4, 1) if framework_id != "lifestyle" else date(2025, 11, 1)
    month = loader.get(framework_id).calendar.year_start_month
    first, second = (parse_period(text, month) for text in ("2025-26-Q1", "2026-27-Q1"))
    assert loader.for_period(framework_id, first, start).indicator(ref).target_text == year_1
    later = loader.for_period(framework_id, second, start).indicator(ref)
    assert later.target_text == year_2 and later.information_only  # no target agreed yet: not coloured
