"""Small display helpers shared by the report contexts: targets, dates, times, counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from kpi_core import expressions, formatting
from kpi_core.formatting import plural
from kpi_core.framework.indicators import Indicator
from kpi_core.framework.model import Framework
from kpi_core.results import IndicatorResult, Judgement, describe_threshold

_OPERATORS = {">=": "≥", "<=": "≤"}


def pretty(threshold_text: str) -> str:
    """`>= 50%` -> `≥ 50%`: the printed sign reads better than its ASCII spelling."""
    for ascii_op, sign in _OPERATORS.items():
        if threshold_text.startswith(ascii_op):
            return sign + threshold_text[len(ascii_op):]
    return threshold_text


@dataclass(frozen=True, slots=True)
class TargetView:
    """A target in two parts, so a table column holds the short one: `≥ 1,200 by now` and `≥ 1,600 for the year`,
    or `≥ 44.2%` and the benchmark it came from."""

    bound: str
    basis: str = ""

    @property
    def text(self) -> str:
        """Both parts on one line, for chat and plain text."""
        return f"{self.bound} ({self.basis})" if self.basis else self.bound


def target_view(result: IndicatorResult, framework: Framework) -> TargetView:
    """The target as the reader should compare it with the value judged this period.

    A cumulative count is judged on the share of its annual target expected by now, so both are shown; a target
    taken from a benchmark or the previous period shows the bound it worked out to and where it came from (the
    benchmark's name, never its formula).
    """
    ind, j = result.indicator, result.judgement
    if ind.information_only or ind.target is None:
        return TargetView(ind.target_text or "information only")
    if j.target is None:
        if ind.target.expression is not None:  # the benchmark was not given: name it
            return TargetView(f"{pretty(ind.target.op)} benchmark",
                              f"{benchmark_name(ind.target.expression, framework)}: not given")
        if ind.target.previous:
            return TargetView(f"{pretty(ind.target.op)} previous period", "no earlier figure")
        return TargetView(pretty(describe_threshold(ind, ind.target)))
    now = pretty(describe_threshold(ind, ind.target, j.target))
    if ind.target.previous:
        return TargetView(now, "previous period")
    if ind.target.expression is not None:
        return TargetView(now, benchmark_name(ind.target.expression, framework))
    if result.expected_share != 1:
        return TargetView(f"{now} by now", f"{pretty(describe_threshold(ind, ind.target))} for the year")
    return TargetView(now)


def target_text(result: IndicatorResult, framework: Framework) -> str:
    """The target on one line: `≥ 1,200 by now (≥ 1,600 for the year)`."""
    return target_view(result, framework).text


def benchmark_name(node: expressions.Node, framework: Framework) -> str:
    """What a benchmark target refers to, in the framework's words: the data item's label (and categories), or
    for a formula the labels of the figures it is worked out from."""
    if isinstance(node, expressions.Ref):
        label = framework.item(node.item).label
        if node.breakdown:
            cats = [framework.disaggregations[d].categories[c] for d, c in node.breakdown]
            label += f", {', '.join(cats)}"
        return label
    names = list(dict.fromkeys(benchmark_name(ref, framework) for ref in expressions.refs(node)))
    return "worked out from " + "; ".join(names) if names else expressions.to_text(node)


def threshold_only(ind: Indicator, framework: Framework, which: str = "critical",
                   bound: Fraction | None = None) -> str:
    """A threshold of the indicator as printed, e.g. the critical failure level `< 40%`; a benchmark is named
    (`≥ Top quartile completion rate (%), Opiate`), with the figure it came to when `bound` is known."""
    threshold = getattr(ind, which)
    if threshold is None:
        return ""
    if threshold.expression is not None:
        name = benchmark_name(threshold.expression, framework)
        if bound is None:
            return f"{pretty(threshold.op)} {name}"
        return f"{pretty(describe_threshold(ind, threshold, bound))} ({name})"
    return pretty(describe_threshold(ind, threshold, bound))


def value_text(value: formatting.Number | None, ind: Indicator, near: formatting.Near = None) -> str:
    """A value in the indicator's unit; `near`: the bounds it is judged against, which it never prints equal to
    unless it is (1.99% against a 2% target is `1.99%`)."""
    return formatting.value(value, ind.kind, ind.per, near)


def bounds(judgement: Judgement | None) -> tuple[Fraction | None, ...]:
    """The thresholds a judgement used: target, critical level, stretch."""
    if judgement is None:
        return ()
    return judgement.target, judgement.critical, judgement.stretch


def day(value: date | None) -> str:
    """`15 July 2025`; a dash when unknown."""
    if value is None:
        return "–"
    return f"{value.day} {value:%B %Y}"


def local_day(value: datetime | None, timezone: str) -> date | None:
    """The council's calendar day of a moment (a naive time is taken as already local)."""
    if value is None:
        return None
    return (value.astimezone(ZoneInfo(timezone)) if value.tzinfo is not None else value).date()


def moment(value: datetime | None, timezone: str) -> str:
    """`15 July 2025 at 14:05` in the council's time zone (a naive time is taken as already local)."""
    if value is None:
        return "–"
    if value.tzinfo is not None:
        value = value.astimezone(ZoneInfo(timezone))
    return f"{day(value.date())} at {value:%H:%M}"


def lateness(on_time: bool | None, received: date | None, due: date | None) -> str:
    """`On time`, `Late: 3 days after the due date`, or `Not judged` when nobody said."""
    if on_time is None:
        return "Not judged"
    if on_time:
        return "On time"
    if received is not None and due is not None and received > due:
        return f"Late: {plural((received - due).days, 'day')} after the due date"
    return "Late"
