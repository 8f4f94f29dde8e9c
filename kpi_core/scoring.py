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
forecast at or past it makes the indicator "at risk of critical failure" (`Judgement.at_risk`). A contract that runs
for part of a year (`ContractSpan`) owes only the periods it overlaps: its year is complete with the last of them,
and its annual levels of counts are pro-rated to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from fractions import Fraction

from kpi_core import expressions, formatting
from kpi_core.calendar import PERIODS_PER_YEAR, Frequency, Period, ReportingYear
from kpi_core.cohorts import cohort_size
from kpi_core.cohorts import numerator as cohort_numerator
from kpi_core.compiled import compiled
from kpi_core.confidence import confidence
from kpi_core.framework.indicators import Indicator
from kpi_core.framework.model import Framework
from kpi_core.judging import judge, tier
from kpi_core.part_year import WHOLE, ContractSpan, parts_of
from kpi_core.payments import pay
from kpi_core.results import (
    IndicatorResult,
    Measure,
    Scorecard,
    describe_threshold,
)
from kpi_core.values import Values


def measure(ind: Indicator, values: Values) -> Measure:
    """The indicator's value from one period's figures (its expressions compiled once, kpi_core/compiled.py)."""
    if ind.numerator and ind.denominator:
        num = compiled(ind.numerator)(values)
        den = compiled(ind.denominator)(values)
        if not isinstance(num, Fraction) or not isinstance(den, Fraction) or den == 0:
            return Measure(None, num if isinstance(num, Fraction) else None,
                           den if isinstance(den, Fraction) else None)
        m = ind.multiplier  # multiplier * num / den as one fraction, normalised once
        return Measure(Fraction(m.numerator * num.numerator * den.denominator,
                                m.denominator * num.denominator * den.numerator), num, den)
    value = compiled(ind.expression or "")(values)
    return Measure(value if isinstance(value, Fraction) else None)


def additive(ind: Indicator) -> bool:
    """Counts and sums add up over periods, so an annual target is shared out over the year."""
    return ind.kind == "count"


def part_frequency(framework: Framework) -> Frequency:
    """The periods a year is made of in this framework (a part year is measured in them)."""
    return parts_of(r.frequency for r in framework.returns.values())


def _shares(ind: Indicator, frequency: Frequency) -> list[Fraction]:
    """Each period's share of the annual target: the trajectory's, or even."""
    count = PERIODS_PER_YEAR[frequency]
    if isinstance(ind.trajectory, tuple) and len(ind.trajectory) == count:
        return [Fraction(str(s)) for s in ind.trajectory]
    return [Fraction(1, count)] * count


def year_share(ind: Indicator, year: ReportingYear, frequency: Frequency, span: ContractSpan = WHOLE) -> Fraction:
    """The share of an annual target of a count that the periods the contract owes stand for (1 for a whole
    year); other kinds of indicator are not pro-rated."""
    if not (ind.cumulative and additive(ind)) or span.whole_year(year):
        return Fraction(1)
    shares = _shares(ind, frequency)
    return sum((shares[p.index - 1] for p in span.owed(year, frequency)), Fraction(0))


def expected_share(ind: Indicator, period: Period, span: ContractSpan = WHOLE,
                   parts: Frequency = "quarterly") -> Fraction:
    """The share of an annual target expected by the end of `period` (the owed share of the year for the annual
    period, whose periods are `parts`)."""
    if not (ind.cumulative and additive(ind)):
        return Fraction(1)
    if period.frequency == "annual":
        return year_share(ind, period.year, parts, span)
    shares = _shares(ind, period.frequency)
    upto = period.year.periods(period.frequency)[: period.index]
    return sum((shares[p.index - 1] for p in upto if span.owes(p)), Fraction(0))


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


def score(
    framework: Framework,
    return_id: str,
    period: Period,
    values: Values,
    *,
    history: Mapping[str, Values] | None = None,
    contract_value: object = None,
    span: ContractSpan = WHOLE,
) -> Scorecard:
    """Score a return. `history` holds earlier returns of the same type by period id (for the year to date and
    'previous' thresholds); `contract_value` (pounds a year) turns payment shares into amounts; `span` is when the
    contract runs (a part year owes fewer periods, and its annual levels of counts are pro-rated)."""
    history = history or {}
    parts = period.frequency if period.frequency != "annual" else part_frequency(framework)
    results = []
    previous_values = history.get(period.previous().id)
    for ind in framework.indicators_for(return_id):
        results.append(_score_one(framework, ind, period, values, history, previous_values, span, parts))
    notes: tuple[str, ...] = ()
    if not span.whole_year(period.year):
        notes = (f"{span.describe(period.year, parts)}. Annual targets of counts, incentive tiers and the "
                 "contract's value for the year are pro-rated to those periods.",)
    card = Scorecard(framework, return_id, period, tuple(results), notes=notes, span=span)
    payments = tuple(pay(rule, card, contract_value) for rule in framework.payments
                     if any(r.ref == rule.indicator for r in results))
    return replace(card, payments=payments)


def _score_one(framework: Framework, ind: Indicator, period: Period, values: Values,
               history: Mapping[str, Values], previous_values: Values | None, span: ContractSpan,
               parts: Frequency) -> IndicatorResult:
    notes: list[str] = []
    if ind.cohort is not None:
        cohort = cohort_size(ind, period, values, history)
        current = _cohort_measure(ind, values, cohort.size)
        notes.append(cohort.describe(framework, ind))
    else:
        current = measure(ind, values)
    previous = measure(ind, previous_values).value if previous_values is not None and ind.cohort is None else None
    amber = framework.scoring.amber
    ytd = None
    ytd_periods: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    share = Fraction(1)
    whole = year_share(ind, period.year, parts, span)  # of the annual target: the periods the contract owes
    forecast = forecast_judgement = None
    judged = current
    critical_applies = True
    at_risk = False
    by_previous = ind.target is not None and ind.target.previous
    if ind.cumulative and period.frequency == "annual" and not by_previous:
        share = whole  # a part year's annual return: judged against the pro-rated annual level
    if ind.cumulative and period.frequency != "annual" and ind.cohort is None:
        owed = span.earlier_owed(period)
        earlier = {p.id: (measure(ind, history[p.id]), history[p.id]) for p in owed if p.id in history}
        # A return that lacks this indicator's figures leaves the same gap as a missing return.
        counted = tuple(pid for pid, (m, _) in earlier.items() if m.value is not None or m.numerator is not None)
        missing = tuple(p.id for p in owed if p.id not in counted)
        pooled = [earlier[pid] for pid in counted] + [(current, values)]
        ytd_periods = counted + (period.id,)
        has_figures = current.value is not None or current.numerator is not None
        ytd = year_to_date(ind, framework, pooled) if has_figures else Measure(None)
        # "Quarter on quarter" compares like with like: this period with the last. Otherwise the year to date is
        # judged against the share of the annual target expected by now.
        if not by_previous:
            judged = ytd
            share = expected_share(ind, period, span)
        if missing:
            notes.append("Year to date leaves out " + ", ".join(missing) + " (no accepted return or no figures).")
        # An annual level is failed on the full year only: every period the contract owes counted.
        critical_applies = not additive(ind) or (span.completes_year(period) and not missing)
        # A trajectory that expects nothing yet (a share of 0) gives nothing to extrapolate from.
        present_share = _share_of(ind, period, len(ytd_periods), span)
        if ytd.value is not None and not ind.information_only and (present_share > 0 or not additive(ind)):
            forecast = ytd.value / present_share * whole if additive(ind) else ytd.value
            forecast_judgement = tier(framework, ind, judge(ind, forecast, values, scale=whole, previous=None,
                                                            default_amber=amber, critical_applies=False), forecast)
            level = None if ind.critical is None or ind.critical.bound is None else ind.critical.bound * whole
            at_risk = (not critical_applies and ind.critical is not None and level is not None
                       and ind.critical.met(forecast, level))
            if at_risk:
                forecast_judgement = replace(forecast_judgement, at_risk=True)
                notes.append(f"Off trajectory, at risk of critical failure: the year-end forecast "
                             f"({formatting.value(forecast, ind.kind, ind.per)}) is past the annual critical level "
                             f"({describe_threshold(ind, ind.critical, level)}). The critical failure itself is "
                             "judged on the full year.")
    judgement = tier(framework, ind, judge(ind, judged.value, values, scale=share, previous=previous,
                                           default_amber=amber, critical_applies=critical_applies), judged.value)
    if at_risk:
        judgement = replace(judgement, at_risk=True)
    interval, low, note = confidence(framework, ind, judged, judgement, values, share, previous, critical_applies)
    return IndicatorResult(ind, current, judged, judgement, ytd, ytd_periods, missing, share, forecast,
                           forecast_judgement, interval, low, note, tuple(notes), year_share=whole)


def _cohort_measure(ind: Indicator, values: Values, size: Fraction | None) -> Measure:
    """The numerator over the size of the earlier cohort it follows up."""
    num = cohort_numerator(ind, values)
    if num is None or not size:
        return Measure(None, num, size)
    return Measure(ind.multiplier * num / size, num, size)


def _share_of(ind: Indicator, period: Period, counted: int, span: ContractSpan) -> Fraction:
    """The share of the annual target the counted periods stand for (the forecast extrapolates from them); on a
    custom trajectory the counted periods are taken at the average share of the owed periods so far."""
    if not additive(ind):
        return Fraction(1)
    full = expected_share(ind, period, span)
    owed = len(span.earlier_owed(period)) + 1
    return full * counted / owed
