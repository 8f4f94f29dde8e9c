"""How sure a percentage's colour is: a 95% Wilson interval, and whether the colour is too uncertain to call
(too few in the denominator, or an interval that spans a threshold)."""

from __future__ import annotations

from fractions import Fraction

from kpi_core import expressions, formatting
from kpi_core.framework.indicators import Indicator
from kpi_core.framework.model import Framework
from kpi_core.framework.payment_rules import LinearPayment
from kpi_core.judging import bound, judge, status_of, tier_status
from kpi_core.per_object import once_per_object
from kpi_core.results import Judgement, Measure, Status, describe_threshold
from kpi_core.stats import wilson_interval
from kpi_core.values import Values


def confidence(framework: Framework, ind: Indicator, m: Measure, judged: Judgement, values: Values,
                share: Fraction, previous: Fraction | None,
                critical_applies: bool = True) -> tuple[tuple[float, float] | None, bool, str]:
    """A 95% interval for a percentage, and whether it is too uncertain to call the colour. `judged` is the
    judgement of `m` (its bounds are the ones the interval's ends are judged against).

    Neither for a count of every return kpibot logged (timeliness, accuracy: no sample, nothing to estimate), nor
    a flag on a perfect result that meets its target (100% of a whole population, or none where none is best)."""
    if ind.kind != "percentage" or m.numerator is None or m.denominator is None or m.value is None:
        return None, False, ""
    if census(framework, ind):
        return None, False, ""
    bounds = wilson_interval(float(m.numerator), float(m.denominator))
    if bounds is None:
        return None, False, ""
    low, high = bounds[0] * 100, bounds[1] * 100
    if ind.information_only or _perfect(ind, m.value, values, share, previous):
        return (low, high), False, ""
    if m.denominator < framework.scoring.min_denominator:
        return (low, high), True, (f"Too few to call: {formatting.number(m.denominator)} in the denominator "
                                  f"(fewer than {framework.scoring.min_denominator}); {_interval(low, high)}.")
    statuses: set[Status] = set()
    thresholds = (judged.target, judged.critical, judged.stretch)
    for x in (low, high):
        end = nearest_fraction(x)
        if judged.status in ("info", "no_data"):
            at_end = judge(ind, end, values, scale=share, previous=previous, default_amber=framework.scoring.amber,
                           critical_applies=critical_applies)
            status, critical = at_end.status, at_end.critical_failure
        else:  # the same thresholds, already worked out
            status, critical = status_of(ind, end, thresholds, share, framework.scoring.amber, critical_applies)
        statuses.add(tier_status(framework, ind, status, critical, end))  # a part-payment tier is its own colour
    if len(statuses) > 1:
        spanned = _boundary(ind, statuses, values, share, previous, framework)
        return (low, high), True, f"Too close to call: the {_interval(low, high)} spans {spanned}."
    return (low, high), False, ""


def _interval(low: float, high: float) -> str:
    return f"95% interval {formatting.number(low)}% to {formatting.number(high)}%"


def nearest_fraction(x: float, max_denominator: int = 10**6) -> Fraction:
    """`Fraction(x).limit_denominator(max_denominator)` in integers: the closest fraction to the float `x` with a
    denominator at most `max_denominator` (the smaller denominator on a tie), without the dozen Fraction objects
    the library builds on the way. Used twice per percentage indicator of every return."""
    n, d = x.as_integer_ratio()
    if d <= max_denominator:
        return Fraction(n, d)
    denominator = d
    p0, q0, p1, q1 = 0, 1, 1, 0
    while True:
        a = n // d
        q2 = q0 + a * q1
        if q2 > max_denominator:
            break
        p0, q0, p1, q1 = p1, q1, p0 + a * p1, q2
        n, d = d, n - a * d
    k = (max_denominator - q0) // q1
    # p1/q1 is the nearer bound when 2 * d * (q0 + k * q1) <= the original denominator (Python 3.12's own test).
    if 2 * d * (q0 + k * q1) <= denominator:
        return Fraction(p1, q1)
    return Fraction(p0 + k * p1, q0 + k * q1)


@once_per_object
def census(framework: Framework, ind: Indicator) -> bool:
    """The indicator counts every case kpibot logged itself (its figures all come from the submission log).
    Worked out once per framework and indicator."""
    items = {r.item for text in ind.expression_texts() for r in expressions.refs(expressions.parse(text))}
    return bool(items) and all(framework.item(i).source == "system" for i in items)


def _perfect(ind: Indicator, value: Fraction, values: Values, share: Fraction, previous: Fraction | None) -> bool:
    """100% (or 0% where lower is better) and on target: no result could be better, so none is uncertain."""
    best = Fraction(100) if ind.higher_is_better else Fraction(0)
    target = bound(ind.target, values, previous, share)
    return value == best and target is not None and ind.target is not None and ind.target.met(value, target)


def _boundary(ind: Indicator, statuses: set[Status], values: Values, share: Fraction, previous: Fraction | None,
              framework: Framework) -> str:
    """Which threshold an interval spans, as the note names it: `the target (>= 50%)`."""
    if "green" in statuses:
        return f"the target ({describe_threshold(ind, ind.target, bound(ind.target, values, previous, share))})"
    minimum = next((r.minimum for r in framework.payments if isinstance(r, LinearPayment) and r.indicator == ind.ref),
                   None)
    if "part" in statuses and minimum is not None:
        return f"the minimum for payment ({formatting.number(minimum, 2)}{'%' if ind.kind == 'percentage' else ''})"
    if ind.critical is not None:
        level = bound(ind.critical, values, previous, share)
        return f"the critical level ({describe_threshold(ind, ind.critical, level)})"
    return "the line between amber and red"
