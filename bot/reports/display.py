"""Small display helpers shared by the report contexts: targets, dates, times, counts."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from kpi_core import expressions, formatting
from kpi_core.framework import Framework, Indicator
from kpi_core.scoring import IndicatorResult, describe_threshold

_OPERATORS = {">=": "≥", "<=": "≤"}


def pretty(threshold_text: str) -> str:
    """`>= 50%` -> `≥ 50%`: the printed sign reads better than its ASCII spelling."""
    for ascii_op, sign in _OPERATORS.items():
        if threshold_text.startswith(ascii_op):
            return sign + threshold_text[len(ascii_op):]
    return threshold_text


def target_text(result: IndicatorResult, framework: Framework) -> str:
    """The target as the reader should compare it with the value judged this period.

    A cumulative count is judged on the share of its annual target expected by now, so both are shown; a target
    taken from a benchmark or the previous period shows the bound it worked out to and where it came from.
    """
    ind, j = result.indicator, result.judgement
    if ind.information_only or ind.target is None:
        return ind.target_text or "information only"
    annual = pretty(describe_threshold(ind, ind.target))
    if j.target is None:
        if ind.target.expression is not None:  # the benchmark was not given: name it, not its formula
            return f"{pretty(ind.target.op)} {benchmark_name(ind.target.expression, framework)}"
        return annual
    now = pretty(describe_threshold(ind, ind.target, j.target))
    if ind.target.previous:
        return f"{now} (previous period)"
    if ind.target.expression is not None:
        return f"{now} ({benchmark_name(ind.target.expression, framework)})"
    if result.expected_share != 1:
        return f"{now} by now ({annual} for the year)"
    return now


def benchmark_name(node: expressions.Node, framework: Framework) -> str:
    """The label of the data item a benchmark target refers to, else the expression as written."""
    if isinstance(node, expressions.Ref):
        label = framework.item(node.item).label
        if node.breakdown:
            cats = [framework.disaggregations[d].categories[c] for d, c in node.breakdown]
            label += f" ({', '.join(cats)})"
        return label
    return expressions.to_text(node)


def threshold_only(ind: Indicator, which: str = "critical") -> str:
    """A threshold of the indicator as printed, e.g. the critical failure level `< 40%`."""
    threshold = getattr(ind, which)
    return pretty(describe_threshold(ind, threshold)) if threshold is not None else ""


def value_text(value: object, ind: Indicator) -> str:
    return formatting.value(value, ind.kind, ind.per)  # type: ignore[arg-type]


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


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """`1 error`, `3 errors`."""
    return f"{count:,} {noun if count == 1 else (plural_form or noun + 's')}"


def lateness(on_time: bool | None, received: date | None, due: date | None) -> str:
    """`On time`, `Late: 3 days after the due date`, or `Not judged` when nobody said."""
    if on_time is None:
        return "Not judged"
    if on_time:
        return "On time"
    if received is not None and due is not None and received > due:
        return f"Late: {plural((received - due).days, 'day')} after the due date"
    return "Late"
