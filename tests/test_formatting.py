"""Numbers as reports print them: a value is never printed equal to a threshold it differs from."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpi_core import formatting


@pytest.mark.parametrize(("value", "kind", "near", "text"), [
    (Fraction(700, 351), "percentage", Fraction(2), "1.99%"),  # 7 of 351 against a 2% target: never `2%`
    (Fraction(2), "percentage", Fraction(2), "2%"),  # equal is equal
    (Fraction(52, 1) + Fraction(1, 2), "percentage", Fraction(50), "52.5%"),  # far from it: usual precision
    (Fraction(499999, 10000), "percentage", Fraction(50), "49.9999%"),
    (Fraction(15996, 10), "count", Fraction(1600), "1,599.6"),  # a forecast of people just short of 1,600
    (Fraction(8499, 1000), "average", Fraction(17, 2), "8.499"),
    (Fraction(700, 351), "percentage", (None, Fraction(2), Fraction(5)), "1.99%"),  # any of several bounds
    (Fraction(1, 3) * 100, "percentage", None, "33.3%"),
])
def test_a_value_near_its_threshold_shows_the_places_that_tell_them_apart(value: Fraction, kind: str,
                                                                         near: formatting.Near, text: str) -> None:
    assert formatting.value(value, kind, near=near) == text


@pytest.mark.parametrize(("gap", "kind", "text"), [
    (Fraction(1, 100) - Fraction(1, 351 * 100), "percentage", "0.01 percentage points"),
    (Fraction(1), "percentage", "1 percentage point"),
    (Fraction(0), "percentage", "0 percentage points"),
    (Fraction(4, 10), "count", "0.4"),
    (Fraction(1807), "count", "1,807"),
])
def test_a_gap_that_is_not_zero_never_prints_as_zero(gap: Fraction, kind: str, text: str) -> None:
    assert formatting.gap(gap, kind) == text


@pytest.mark.parametrize(("count", "noun", "text"), [(1, "day", "1 day"), (498, "day", "498 days"),
                                                     (0, "message", "0 messages"), (1200, "return", "1,200 returns")])
def test_plurals_are_real(count: int, noun: str, text: str) -> None:
    assert formatting.plural(count, noun) == text


@given(st.integers(-10**9, 10**9), st.integers(0, 6),
       st.one_of(st.none(), st.fractions(max_denominator=1000), st.integers(-10**6, 10**6)))
def test_a_whole_number_prints_as_the_rounding_would_print_it(whole: int, places: int, near: formatting.Near) -> None:
    """Whole numbers skip the rounding (half the figures a return prints): what they print must not change."""
    rounded = formatting._decimal(whole, places)
    assert formatting.number(whole, places, near) == formatting.number(Fraction(whole), places, near) == \
        f"{int(rounded):,}"
