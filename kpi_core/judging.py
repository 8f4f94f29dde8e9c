"""Colouring one value against an indicator's thresholds: green, amber, red (and a critical failure), or the
part-payment tier a payment by results on the indicator gives a miss past its minimum."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from functools import lru_cache

from kpi_core.compiled import compile_node
from kpi_core.framework.indicators import Amber, Indicator
from kpi_core.framework.model import Framework
from kpi_core.framework.payment_rules import LinearPayment
from kpi_core.per_object import once_per_object
from kpi_core.results import Judgement, Status
from kpi_core.thresholds import Threshold
from kpi_core.values import Values


def bound(threshold: Threshold | None, values: Values, previous: Fraction | None, scale: Fraction) -> Fraction | None:
    if threshold is None:
        return None
    if threshold.previous:
        return previous
    if threshold.expression is not None:
        result = compile_node(threshold.expression)(values)
        return None if result is None or isinstance(result, bool) else result
    if threshold.bound is None:
        return None
    return threshold.bound if scale == 1 else threshold.bound * scale


Bounds = tuple[Fraction | None, Fraction | None, Fraction | None]  # target, critical, stretch


def judge(
    ind: Indicator,
    value: Fraction | None,
    values: Values,
    *,
    scale: Fraction = Fraction(1),
    previous: Fraction | None = None,
    default_amber: Amber | None = None,
    critical_applies: bool = True,
) -> Judgement:
    """Colour one value against the indicator's thresholds (scaled by `scale` for a share of an annual target).

    `default_amber` is the framework's band (None: no band); `critical_applies` is False while an annual
    critical level cannot yet be failed (in-year), so a value past it is red but not a critical failure."""
    if ind.information_only:
        return Judgement("info")
    if value is None:
        return Judgement("no_data")
    assert ind.target is not None
    bounds = (bound(ind.target, values, previous, scale), bound(ind.critical, values, previous, scale),
              bound(ind.stretch, values, previous, scale))
    return _verdict(ind, value, bounds, scale, default_amber, critical_applies)


def _verdict(ind: Indicator, value: Fraction, bounds: Bounds, scale: Fraction, default_amber: Amber | None,
             critical_applies: bool) -> Judgement:
    """`judge` once the thresholds' bounds are known (the same for every value judged against them)."""
    assert ind.target is not None
    target, critical, stretch = bounds
    if target is None:
        why = ("no previous period to compare with" if ind.target.previous
               else "no benchmark for this period yet (the commissioner adds the published figures)")
        return Judgement("no_data", note=f"Cannot colour: {why}.")
    status, critical_failure = status_of(ind, value, bounds, scale, default_amber, critical_applies)
    stretch_met = stretch is not None and ind.stretch is not None and ind.stretch.met(value, stretch)
    if status == "green":
        gap = _ZERO
    else:
        gap = max(_ZERO, (target - value) if ind.target.higher_is_better else (value - target))
    return Judgement(status, critical_failure, stretch_met, target, critical, stretch, gap)


def status_of(ind: Indicator, value: Fraction, bounds: Bounds, scale: Fraction, default_amber: Amber | None,
            critical_applies: bool) -> tuple[Status, bool]:
    """The colour of `value` against known bounds (the target's not None), and whether it is a critical failure:
    met is green; past a critical level that applies is red and critical; a miss inside an amber band is amber."""
    assert ind.target is not None
    target, critical, _ = bounds
    assert target is not None
    if ind.target.met(value, target):
        return "green", False
    past_critical = critical is not None and ind.critical is not None and ind.critical.met(value, critical)
    if past_critical and critical_applies:
        return "red", True
    amber = default_amber if ind.amber is None else (ind.amber or None)
    if amber is None or past_critical:
        return "red", False
    if amber.between_critical:
        return ("amber" if critical is not None else "red"), False
    band = _decimal(amber.absolute) * scale if amber.absolute is not None else abs(target) * _decimal(amber.relative)
    within = value >= target - band if ind.target.higher_is_better else value <= target + band
    return ("amber" if within else "red"), False


_ZERO = Fraction(0)


@lru_cache(maxsize=1024)
def _decimal(number: float | None) -> Fraction:
    """A band as written in the framework (0.1 is a tenth, not the float nearest it), worked out once."""
    return Fraction(str(number))


def tier(framework: Framework, ind: Indicator, judgement: Judgement, value: Fraction | None) -> Judgement:
    """A miss past the minimum of a payment by results on the indicator earns part of it: a payment tier, not a
    failure (City and Hackney Note 1: "If performance is between the minimum and stretch target, the service will
    receive part payment proportional to the performance achieved"). The payment rule says where the tier starts."""
    status = tier_status(framework, ind, judgement.status, judgement.critical_failure, value)
    return judgement if status == judgement.status else replace(judgement, status=status)


def tier_status(framework: Framework, ind: Indicator, status: Status, critical_failure: bool,
                value: Fraction | None) -> Status:
    """`tier`'s colour for a judgement's `status` and `critical_failure` (the confidence interval's ends ask it
    twice per percentage of every return: no Judgement is built)."""
    if status not in ("red", "amber") or critical_failure or value is None:
        return status
    for low, high in _linear_ranges(framework, ind):
        if (low < value < high) if low < high else (high < value < low):
            return "part"
    return status


@once_per_object
def _linear_ranges(framework: Framework, ind: Indicator) -> tuple[tuple[Fraction, Fraction], ...]:
    """(minimum, stretch) of each payment by results on the indicator, exact: worked out once per framework and
    indicator."""
    return tuple((Fraction(str(rule.minimum)), Fraction(str(rule.stretch))) for rule in framework.payments
                 if isinstance(rule, LinearPayment) and rule.indicator == ind.ref)
