"""Thresholds as contracts write them: the comparison is part of the threshold, so boundaries are explicit."""

from __future__ import annotations

from fractions import Fraction

import pytest

from kpi_core.expressions import Ref
from kpi_core.thresholds import Threshold, parse_threshold

F = Fraction


@pytest.mark.parametrize(
    ("text", "op", "bound"),
    [
        (">= 50", ">=", F(50)),
        (">=50", ">=", F(50)),
        ("<15", "<", F(15)),
        ("< 15%", "<", F(15)),
        ("> 55 %", ">", F(55)),
        ("<= 7.5", "<=", F(15, 2)),
        (">= 8.5", ">=", F(17, 2)),
        (">= 1.5", ">=", F(3, 2)),
        ("  >=   1600  ", ">=", F(1600)),
        (">= -2", ">=", F(-2)),
    ],
)
def test_it_reads_the_comparison_and_an_exact_bound(text: str, op: str, bound: Fraction) -> None:
    threshold = parse_threshold(text)
    assert (threshold.op, threshold.bound, threshold.expression, threshold.previous) == (op, bound, None, False)
    assert threshold.text == text.strip()


def test_previous_means_the_indicators_own_previous_value() -> None:
    threshold = parse_threshold("< previous")
    assert threshold.previous and threshold.bound is None and not threshold.higher_is_better


def test_a_bound_may_be_a_benchmark_expression() -> None:
    threshold = parse_threshold(">= national_rate[substance=opiate]")
    assert threshold.bound is None
    assert threshold.expression == Ref("national_rate", (("substance", "opiate"),))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("50", "is not a threshold; write a comparison and a bound"),
        (50, "write 50 with its comparison, e.g. '>= 50' or '< 50'"),
        (8.5, "write 8.5 with its comparison"),
        ("== 50", "is not a threshold"),
        ("=> 50", "is not a threshold"),
        (">= ", "expression is empty"),
        (">= fifty percent", "is not a number, 'previous' or an expression"),
        (True, "a threshold is text"),
        (None, "a threshold is text"),
    ],
)
def test_a_bad_threshold_says_how_to_write_one(value: object, message: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_threshold(value)  # type: ignore[arg-type]
    assert message in str(excinfo.value)


@pytest.mark.parametrize(
    ("text", "value", "met"),
    [
        (">= 50", F(50), True),  # "a minimum of 50%" is met at exactly 50
        (">= 50", F(4999, 100), False),
        ("> 50", F(50), False),
        ("> 50", F(5001, 100), True),
        ("< 15", F(15), False),  # "less than 15%" is missed at exactly 15
        ("< 15", F(1499, 100), True),
        ("<= 15", F(15), True),
        ("> 55", F(55), False),  # a critical failure "higher than 55%" is not triggered at 55
        ("> 55", F(5501, 100), True),
        ("< 7.0", F(7), False),  # a critical failure "below 7.0" is not triggered at 7
        ("< 7.0", F(699, 100), True),
        (">= 8.5", F(17, 2), True),
        (">= 8.5", F(849, 100), False),
    ],
)
def test_boundaries_follow_the_written_comparison(text: str, value: Fraction, met: bool) -> None:
    threshold = parse_threshold(text)
    assert threshold.bound is not None
    assert threshold.met(value, threshold.bound) is met


@pytest.mark.parametrize(("text", "higher"), [(">= 50", True), ("> 55", True), ("< 15", False), ("<= 40", False)])
def test_the_comparison_says_which_way_is_better(text: str, higher: bool) -> None:
    assert parse_threshold(text).higher_is_better is higher


def test_exact_bounds_meet_values_that_floats_would_miss() -> None:
    # 57/100 as a float percentage is 56.99999999999999; exactly it is 57.
    threshold = parse_threshold(">= 57")
    assert threshold.met(F(57, 100) * 100, threshold.bound)  # type: ignore[arg-type]
    assert 57 / 100 * 100 < 57  # the float trap the exact arithmetic avoids


def test_scaling_keeps_the_comparison_and_shares_out_the_bound() -> None:
    scaled = parse_threshold(">= 1600").scaled(F(1, 4))
    assert (scaled.op, scaled.bound) == (">=", F(400))
    previous = parse_threshold("> previous")
    assert previous.scaled(F(1, 4)) is previous
    assert isinstance(scaled, Threshold)
