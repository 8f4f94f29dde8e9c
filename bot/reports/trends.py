"""Each indicator's judged value over the periods so far, with the target it was judged against.

Storage may supply the series from the results it saved; `trends_from_history` rebuilds them from earlier
periods' accepted figures (what storage passes to `assess` as `history`) by scoring each
period with kpi_core, so a cumulative count is plotted as its year to date against the share of the annual target
expected by then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from kpi_core.assess import Assessment
from kpi_core.calendar import MONTH_NAMES, Period, PeriodError, parse_period
from kpi_core.results import Scorecard
from kpi_core.scoring import score
from kpi_core.values import Values


@dataclass(frozen=True, slots=True)
class TrendPoint:
    period_id: str  # `2025-26-Q1`
    value: Fraction | None  # the judged value: the year to date for a cumulative indicator
    target: Fraction | None  # the bound it was judged against (None when there was nothing to judge)
    status: str  # red, amber, green, info, no_data


Trends = Mapping[str, tuple[TrendPoint, ...]]


def points_from(card: Scorecard) -> dict[str, TrendPoint]:
    """One point per indicator of a scored period."""
    return {r.ref: TrendPoint(card.period.id, r.judged_value.value, r.judgement.target, r.status)
            for r in card.indicators}


def point_from_stored(period_id: str, result: Mapping[str, object]) -> TrendPoint:
    """A trend point from a stored `IndicatorResult.as_dict()` (what storage keeps for each indicator of a return)."""
    judged = result.get("year_to_date") if result.get("year_to_date") is not None else result.get("value")
    target = result.get("target_value")
    return TrendPoint(period_id, None if judged is None else Fraction(str(judged)),
                      None if target is None else Fraction(str(target)), str(result["status"]))


def trends_from_history(assessment: Assessment, history: Mapping[str, Values] | None = None, *,
                        max_points: int = 8) -> dict[str, tuple[TrendPoint, ...]]:
    """Score the earlier periods of the assessed return's frequency (the accepted `history`) and add this one.

    `history` maps period ids to figures, as given to `kpi_core.assess.assess`: only accepted returns count for
    their periods, so figures a file carries for other periods are never plotted. Periods of another frequency,
    later periods and unreadable ids are left out.
    """
    merged: dict[str, Values] = dict(history or {})
    current = assessment.period
    earlier: list[Period] = []
    for period_id in merged:
        try:
            period = parse_period(period_id, current.year.start.month)
        except PeriodError:
            continue
        if period.frequency == current.frequency and period < current:
            earlier.append(period)
    earlier = sorted(earlier)[-(max_points - 1):] if max_points > 1 else []
    series: dict[str, list[TrendPoint]] = {r.ref: [] for r in assessment.scorecard.indicators}
    for period in earlier:
        card = score(assessment.framework, assessment.return_id, period, merged[period.id], history=merged)
        for ref, point in points_from(card).items():
            series.setdefault(ref, []).append(point)
    for ref, point in points_from(assessment.scorecard).items():
        series.setdefault(ref, []).append(point)
    return {ref: tuple(points) for ref, points in series.items()}


def short_labels(period_ids: list[str], start_month: int) -> list[str]:
    """`Q1`, `Apr`, `2025-26` for each period; with the year (`Q4 24-25`) when the periods span more than one."""
    periods: list[Period | None] = []
    for period_id in period_ids:
        try:
            periods.append(parse_period(period_id, start_month))
        except PeriodError:
            periods.append(None)
    with_year = len({p.year for p in periods if p is not None}) > 1
    return [period_id if p is None else _short(p, with_year) for period_id, p in zip(period_ids, periods)]


def _short(period: Period, with_year: bool) -> str:
    year = period.year.id
    if period.frequency == "annual":
        return year
    own = f"Q{period.index}" if period.frequency == "quarterly" else MONTH_NAMES[period.start.month - 1][:3]
    return f"{own} {year[2:] if len(year) > 4 else year}" if with_year else own
