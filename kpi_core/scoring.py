"""Red/Amber/Green scoring of one return against its framework.

For each indicator: its value this period, the year to date and a year-end forecast when it is cumulative, the
status (green, amber, red, info, no data), the gap to target in its own unit, and for percentages a 95% Wilson
interval with a flag when the numbers are too small to call the colour.

Status rules, in order: information-only indicators are `info`; no value is `no_data`; meeting the target is
green; meeting the critical-failure condition is red (and a critical failure); a miss that is past the minimum of a
payment by results on the indicator earns part of it, which is a payment tier (`part`), not a failure; a miss inside
an amber band the contract defines (framework- or indicator-wide) is amber; any other miss is red, with its gap.

A cumulative count's thresholds are annual levels: in-year the year to date is judged against the share expected
by then, and an annual critical-failure level cannot be failed before the year is complete. In-year, a year-end
forecast at or past it makes the indicator "at risk of critical failure" (`Judgement.at_risk`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from fractions import Fraction

from kpi_core import expressions, formatting
from kpi_core.calendar import Period
from kpi_core.cohorts import cohort_size
from kpi_core.cohorts import numerator as cohort_numerator
from kpi_core.expressions import lookup_from
from kpi_core.framework.indicators import Amber, Indicator
from kpi_core.framework.model import Framework
from kpi_core.framework.payment_rules import LinearPayment
from kpi_core.payments import pay
from kpi_core.results import (
    IndicatorResult,
    Judgement,
    Measure,
    Scorecard,
    Status,
    describe_threshold,
)
from kpi_core.stats import wilson_interval
from kpi_core.thresholds import Threshold
from kpi_core.values import Values


def measure(ind: Indicator, values: Values) -> Measure:
    """The indicator's value from one period's figures."""
    lookup = lookup_from(values)
    if ind.numerator and ind.denominator:
        num = expressions.compute(expressions.parse(ind.numerator), lookup)
        den = expressions.compute(expressions.parse(ind.denominator), lookup)
        if num is None or den is None or den == 0:
            return Measure(None, num, den)
        return Measure(ind.multiplier * num / den, num, den)
    return Measure(expressions.compute(expressions.parse(ind.expression or ""), lookup))


def additive(ind: Indicator) -> bool:
    """Counts and sums add up over periods, so an annual target is shared out over the year."""
    return ind.kind == "count"


def expected_share(ind: Indicator, period: Period) -> Fraction:
    """The share of an annual target expected by the end of `period` (1 for the annual period)."""
    if not (ind.cumulative and additive(ind)) or period.frequency == "annual":
        return Fraction(1)
    if isinstance(ind.trajectory, tuple) and len(ind.trajectory) == period.count_in_year:
        return sum((Fraction(str(s)) for s in ind.trajectory[: period.index]), Fraction(0))
    return Fraction(period.index, period.count_in_year)


def year_to_date(ind: Indicator, framework: Framework, measures: list[tuple[Measure, Values]]) -> Measure:
    """Pool the periods given: add counts, pool numerators and denominators, weight averages."""
    present = [(m, v) for m, v in measures if m.value is not None or m.numerator is not None]
    if not present:
        return Measure(None)
    if ind.numerator and ind.denominator:
        nums = [m.numerator for m, _ in present if m.numerator is not None and m.denominator is not None]
        dens = [m.denominator for m, _ in present if m.numerator is not None and m.denominator is not None]
        num, den = sum(nums, Fraction(0)), sum(dens, Fraction(0))
        return Measure(ind.multiplier * num / den if den else None, num, den)
    values = [m.value for m, _ in present if m.value is not None]
    if not values:
        return Measure(None)
    if additive(ind):
        return Measure(sum(values, Fraction(0)))
    node = expressions.parse(ind.expression or "")
    weight_item = None
    if isinstance(node, expressions.Ref) and not node.breakdown:
        weight_item = framework.item(node.item).weight
    if weight_item:
        pairs = [(m.value, v.get((weight_item, ""))) for m, v in present if m.value is not None]
        weighted = [(val, w) for val, w in pairs if w is not None]
        if len(weighted) == len(pairs) and (weights := sum((w for _, w in weighted), Fraction(0))):
            return Measure(sum((val * w for val, w in weighted), Fraction(0)) / weights)
    return Measure(sum(values, Fraction(0)) / len(values))


def _bound(threshold: Threshold | None, values: Values, previous: Fraction | None, scale: Fraction) -> Fraction | None:
    if threshold is None:
        return None
    if threshold.previous:
        return previous
    if threshold.expression is not None:
        return expressions.compute(threshold.expression, lookup_from(values))
    return None if threshold.bound is None else threshold.bound * scale


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
    target = _bound(ind.target, values, previous, scale)
    critical = _bound(ind.critical, values, previous, scale)
    stretch = _bound(ind.stretch, values, previous, scale)
    if target is None:
        why = ("no previous period to compare with" if ind.target.previous
               else "no benchmark for this period yet (the commissioner adds the published figures)")
        return Judgement("no_data", note=f"Cannot colour: {why}.")
    higher = ind.target.higher_is_better
    gap = max(Fraction(0), (target - value) if higher else (value - target))
    stretch_met = stretch is not None and ind.stretch is not None and ind.stretch.met(value, stretch)
    red = Judgement("red", target=target, critical=critical, stretch=stretch, gap=gap, stretch_met=stretch_met)
    if ind.target.met(value, target):
        return replace(red, status="green", gap=Fraction(0))
    past_critical = critical is not None and ind.critical is not None and ind.critical.met(value, critical)
    if past_critical and critical_applies:
        return replace(red, critical_failure=True)
    amber = default_amber if ind.amber is None else (ind.amber or None)
    if amber is None or past_critical:
        return red
    if amber.between_critical:
        return replace(red, status="amber") if critical is not None else red
    band = Fraction(str(amber.absolute)) * scale if amber.absolute is not None else abs(target) * Fraction(str(amber.relative))
    within = value >= target - band if higher else value <= target + band
    return replace(red, status="amber") if within else red


def score(
    framework: Framework,
    return_id: str,
    period: Period,
    values: Values,
    *,
    history: Mapping[str, Values] | None = None,
    contract_value: object = None,
) -> Scorecard:
    """Score a return. `history` holds earlier returns of the same type by period id (for the year to date and
    'previous' thresholds); `contract_value` (pounds) turns payment shares into amounts."""
    history = history or {}
    results = []
    for ind in framework.indicators_for(return_id):
        results.append(_score_one(framework, ind, period, values, history))
    card = Scorecard(framework, return_id, period, tuple(results))
    payments = tuple(pay(rule, card, contract_value) for rule in framework.payments
                     if any(r.ref == rule.indicator for r in results))
    return Scorecard(framework, return_id, period, tuple(results), payments)


def _score_one(framework: Framework, ind: Indicator, period: Period, values: Values,
               history: Mapping[str, Values]) -> IndicatorResult:
    notes: list[str] = []
    if ind.cohort is not None:
        cohort = cohort_size(ind, period, values, history)
        current = _cohort_measure(ind, values, cohort.size)
        notes.append(cohort.describe(framework, ind))
    else:
        current = measure(ind, values)
    previous_values = history.get(period.previous().id)
    previous = measure(ind, previous_values).value if previous_values is not None and ind.cohort is None else None
    amber = framework.scoring.amber
    ytd = None
    ytd_periods: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    share = Fraction(1)
    forecast = forecast_judgement = None
    judged = current
    critical_applies = True
    at_risk = False
    if ind.cumulative and period.frequency != "annual" and ind.cohort is None:
        earlier = {p.id: (measure(ind, history[p.id]), history[p.id]) for p in period.earlier_in_year()
                   if p.id in history}
        # A return that lacks this indicator's figures leaves the same gap as a missing return.
        counted = tuple(pid for pid, (m, _) in earlier.items() if m.value is not None or m.numerator is not None)
        missing = tuple(p.id for p in period.earlier_in_year() if p.id not in counted)
        pooled = [earlier[pid] for pid in counted] + [(current, values)]
        ytd_periods = counted + (period.id,)
        has_figures = current.value is not None or current.numerator is not None
        ytd = year_to_date(ind, framework, pooled) if has_figures else Measure(None)
        # "Quarter on quarter" compares like with like: this period with the last. Otherwise the year to date is
        # judged against the share of the annual target expected by now.
        if not (ind.target is not None and ind.target.previous):
            judged = ytd
            share = expected_share(ind, period)
        if missing:
            notes.append("Year to date leaves out " + ", ".join(missing) + " (no accepted return or no figures).")
        # An annual level is failed on the full year only: every period of the year counted.
        critical_applies = not additive(ind) or (period.is_last_in_year and not missing)
        # A trajectory that expects nothing yet (a share of 0) gives nothing to extrapolate from.
        present_share = _share_of(ind, period, len(ytd_periods))
        if ytd.value is not None and not ind.information_only and (present_share > 0 or not additive(ind)):
            forecast = ytd.value / present_share if additive(ind) else ytd.value
            forecast_judgement = tier(framework, ind, judge(ind, forecast, values, previous=None,
                                                            default_amber=amber, critical_applies=False), forecast)
            at_risk = (not critical_applies and ind.critical is not None and ind.critical.bound is not None
                       and ind.critical.met(forecast, ind.critical.bound))
            if at_risk:
                forecast_judgement = replace(forecast_judgement, at_risk=True)
                notes.append(f"Off trajectory, at risk of critical failure: the year-end forecast "
                             f"({formatting.value(forecast, ind.kind, ind.per)}) is past the annual critical level "
                             f"({describe_threshold(ind, ind.critical)}). The critical failure itself is judged on "
                             "the full year.")
    judgement = tier(framework, ind, judge(ind, judged.value, values, scale=share, previous=previous,
                                           default_amber=amber, critical_applies=critical_applies), judged.value)
    if at_risk:
        judgement = replace(judgement, at_risk=True)
    interval, low, note = _confidence(framework, ind, judged, values, share, previous, critical_applies)
    return IndicatorResult(ind, current, judged, judgement, ytd, ytd_periods, missing, share, forecast,
                           forecast_judgement, interval, low, note, tuple(notes))


def tier(framework: Framework, ind: Indicator, judgement: Judgement, value: Fraction | None) -> Judgement:
    """A miss past the minimum of a payment by results on the indicator earns part of it: a payment tier, not a
    failure (City and Hackney Note 1: "If performance is between the minimum and stretch target, the service will
    receive part payment proportional to the performance achieved"). The payment rule says where the tier starts."""
    if judgement.status not in ("red", "amber") or judgement.critical_failure or value is None:
        return judgement
    for rule in framework.payments:
        if isinstance(rule, LinearPayment) and rule.indicator == ind.ref:
            low, high = Fraction(str(rule.minimum)), Fraction(str(rule.stretch))
            if (low < value < high) if low < high else (high < value < low):
                return replace(judgement, status="part")
    return judgement


def _cohort_measure(ind: Indicator, values: Values, size: Fraction | None) -> Measure:
    """The numerator over the size of the earlier cohort it follows up."""
    num = cohort_numerator(ind, values)
    if num is None or not size:
        return Measure(None, num, size)
    return Measure(ind.multiplier * num / size, num, size)


def _share_of(ind: Indicator, period: Period, counted: int) -> Fraction:
    """The share of the annual target the counted periods stand for (the forecast extrapolates from them); on a
    custom trajectory the counted periods are taken at the average share of the periods so far."""
    if not additive(ind):
        return Fraction(1)
    full = expected_share(ind, period)
    index = period.index
    return full * counted / index if index else full


def _confidence(framework: Framework, ind: Indicator, m: Measure, values: Values, share: Fraction,
                previous: Fraction | None, critical_applies: bool = True) -> tuple[tuple[float, float] | None, bool, str]:
    """A 95% interval for a percentage, and whether it is too uncertain to call the colour."""
    if ind.kind != "percentage" or m.numerator is None or m.denominator is None or m.value is None:
        return None, False, ""
    bounds = wilson_interval(float(m.numerator), float(m.denominator))
    if bounds is None:
        return None, False, ""
    low, high = bounds[0] * 100, bounds[1] * 100
    interval = f"95% interval {formatting.number(low)}% to {formatting.number(high)}%"
    if ind.information_only:
        return (low, high), False, ""
    if m.denominator < framework.scoring.min_denominator:
        return (low, high), True, (f"Too few to call: {formatting.number(m.denominator)} in the denominator "
                                  f"(fewer than {framework.scoring.min_denominator}); {interval}.")
    ends = [Fraction(x).limit_denominator(10**6) for x in (low, high)]
    statuses: set[Status] = {tier(framework, ind, judge(ind, x, values, scale=share, previous=previous,
                                           default_amber=framework.scoring.amber, critical_applies=critical_applies),
                     x).status for x in ends}
    if len(statuses) > 1:
        spanned = _boundary(ind, statuses, values, share, previous, framework)
        return (low, high), True, f"Too close to call: the {interval} spans {spanned}."
    return (low, high), False, ""


def _boundary(ind: Indicator, statuses: set[Status], values: Values, share: Fraction, previous: Fraction | None,
              framework: Framework) -> str:
    """Which threshold an interval spans, as the note names it: `the target (>= 50%)`."""
    if "green" in statuses:
        return f"the target ({describe_threshold(ind, ind.target, _bound(ind.target, values, previous, share))})"
    minimum = next((r.minimum for r in framework.payments if isinstance(r, LinearPayment) and r.indicator == ind.ref),
                   None)
    if "part" in statuses and minimum is not None:
        return f"the minimum for payment ({formatting.number(minimum, 2)}{'%' if ind.kind == 'percentage' else ''})"
    if ind.critical is not None:
        bound = _bound(ind.critical, values, previous, share)
        return f"the critical level ({describe_threshold(ind, ind.critical, bound)})"
    return "the line between amber and red"
