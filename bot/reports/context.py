"""The return report's context: one assessed return turned into values ready to print.

Storage fills `ReturnMeta` (who, when, which version) and passes the Assessment and the trend series; the
stateless `kpibot score --pdf` fills what a file can tell. Templates only loop over and test what is built here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from markupsafe import Markup

from bot.reports import display
from bot.reports.action_plans import ActionPlan
from bot.reports.breakdowns import DisaggregationTable, disaggregation_tables
from bot.reports.charts import ChartPoint, trend_chart
from bot.reports.payment_view import PaymentView, part_payment_note, payment_view
from bot.reports.review_view import ReviewView
from bot.reports.status import ATTENTION_ORDER, StatusView, status_view
from bot.reports.trends import TrendPoint, Trends, short_labels, trends_from_history
from kpi_core import formatting
from kpi_core.assess import Assessment
from kpi_core.duedates import due_date
from kpi_core.findings import Finding
from kpi_core.framework.indicators import Indicator
from kpi_core.framework.model import Framework
from kpi_core.results import STATUS_ORDER, IndicatorResult, PaymentResult

MAX_TREND_POINTS = 8
COLOURED = ("red", "amber", "part", "green")


@dataclass(frozen=True)
class ReturnMeta:
    """What storage knows about a return beyond its figures."""

    contract_id: str
    contract_name: str
    provider_name: str
    received_at: datetime | None = None  # None: scored from a file, not submitted
    version: int | None = None  # 1 for the first submission for the period, 2 for a resubmission...
    on_time: bool | None = None  # None: not judged
    due: date | None = None  # None: worked out from the framework's due rule
    source: str = ""  # the file name as received


@dataclass(frozen=True)
class IndicatorRow:
    ref: str
    name: str
    section: str
    value: str  # this period
    fraction: str  # `840 of 1,600` for a percentage, else ''
    ytd: str  # '' unless cumulative
    judged: str  # the value the status is judged on (the year to date when cumulative)
    judged_label: str  # `this period` or `year to date`
    target: str  # on one line: `≥ 1,200 by now (≥ 1,600 for the year)`
    target_bound: str  # the short part for a table column: `≥ 1,200 by now`, `≥ 44.2%`
    target_basis: str  # where it comes from, printed small below: `≥ 1,600 for the year`, a benchmark's name
    status: StatusView
    gap: str  # `2.5 percentage points off target`, `on target` or ''
    forecast: str
    forecast_status: StatusView | None
    notes: tuple[str, ...]
    low_confidence: bool
    critical_failure: bool
    exception_required: bool  # the contract asks for an exception report when this is outside target
    at_risk: bool = False  # in-year: the year-end forecast is past an annual critical failure level
    critical_level: str = ""  # `< 7 out of 10`: the critical failure level, when the indicator has one

    @property
    def comparison(self) -> str:
        """The value against the target it is judged on, as every message says it: `144 year to date, target
        ≥ 150 by now (≥ 600 for the year): 6 off target`."""
        when = " year to date" if self.judged_label == "year to date" else ""
        return f"{self.judged}{when}, target {self.target}" + (f": {self.gap}" if self.gap else "")

    @property
    def critical_text(self) -> str:
        """The line every summary leads with: `WM.6 User feedback score...: 6.9 out of 10, below the critical
        failure level (< 7 out of 10)`, or for an indicator at risk its year-end forecast."""
        if self.critical_failure:
            return f"{self.ref} {self.name}: {self.judged}, past the critical failure level ({self.critical_level})"
        return (f"{self.ref} {self.name}: heading for {self.forecast} at the year end, past the annual critical "
                f"failure level ({self.critical_level})")


@dataclass(frozen=True)
class Section:
    name: str
    rows: tuple[IndicatorRow, ...]


@dataclass(frozen=True)
class ChartView:
    ref: str
    name: str
    status: StatusView
    svg: Markup
    target: str


@dataclass(frozen=True)
class FindingView:
    severity: str  # `Error` or `Warning`
    is_error: bool
    where: str  # `Data!D7`, `line 5`, or '' when the finding is about the whole return
    message: str
    fix: str


@dataclass(frozen=True)
class CountView:
    status: StatusView
    count: int


@dataclass(frozen=True)
class ReturnReport:
    contract_id: str
    contract_name: str
    provider_name: str
    framework_name: str
    framework_version: str
    return_label: str
    period_id: str
    period_label: str
    received: str
    version: str
    due: str
    timeliness: str
    late: bool
    source: str
    accepted: bool  # False: rejected, so nothing is judged or paid: no colours, counts, payments or plans
    has_figures: bool  # False: nothing could be read from the file, so nothing is judged or paid
    verdict: str  # `Accepted` or `Rejected`
    verdict_detail: str  # `2 errors, 1 warning`
    counts: tuple[CountView, ...]
    sections: tuple[Section, ...]
    with_ytd: bool  # some row has a year to date: the table shows that column
    with_forecast: bool  # some row has a year-end forecast
    critical: tuple[IndicatorRow, ...]  # critical failures, said first everywhere
    at_risk: tuple[IndicatorRow, ...]  # in-year, heading past an annual critical failure level (not critical)
    attention: tuple[IndicatorRow, ...]  # the rest: red, then amber, then no data
    on_target: tuple[IndicatorRow, ...]
    charts: tuple[ChartView, ...]
    payments: tuple[PaymentView, ...]
    findings: tuple[FindingView, ...]
    disaggregations: tuple[DisaggregationTable, ...]
    action_plans: tuple[ActionPlan, ...]
    notes: tuple[str, ...]
    generated: str
    not_applicable: str = ""  # `DS.1 Timeliness ..., DS.2 Accuracy ...`: not terms of this contract
    review: ReviewView | None = None  # the council's review of the version and its history (stored returns)
    on_target_refs: tuple[str, ...] = ()  # the refs of `on_target`, also when a summary built no row for them


def indicator_row(result: IndicatorResult, framework: Framework, payment: PaymentResult | None = None) -> IndicatorRow:
    """The row of one indicator; `payment`, the payment worked out on it, says what a payment tier earns."""
    ind, j = result.indicator, result.judgement
    cumulative = ind.cumulative and result.ytd is not None
    measure = result.period_value
    fraction = ""
    if ind.kind == "percentage" and measure.numerator is not None and measure.denominator is not None:
        fraction = f"{formatting.number(measure.numerator)} of {formatting.number(measure.denominator)}"
    notes = [result.confidence_note] if result.confidence_note else []
    if j.critical_failure:
        level = display.threshold_only(ind, framework, bound=j.critical)
        notes.append(f"Critical failure: at or past the critical level ({level}).")
    if j.stretch_met:
        notes.append(f"Stretch target met ({display.threshold_only(ind, framework, 'stretch', j.stretch)}).")
    if j.status == "part" and payment is not None:
        notes.append(part_payment_note(payment, ind))
    notes += [n for n in result.notes if n]
    if j.note:
        notes.append(j.note)
    forecast = result.forecast if cumulative else None
    near = display.bounds(j)
    target = display.target_view(result, framework)
    at_risk = j.at_risk and not j.critical_failure
    level = ""
    if j.critical_failure:
        level = display.threshold_only(ind, framework, bound=j.critical)
    elif at_risk and ind.critical is not None and ind.critical.bound is not None:  # the year's (pro-rated) level
        level = display.threshold_only(ind, framework, bound=ind.critical.bound * result.year_share)
    return IndicatorRow(
        ref=ind.ref,
        name=ind.name,
        section=ind.section,
        value=display.value_text(measure.value, ind, near if not cumulative else None),
        fraction=fraction,
        ytd=display.value_text(result.ytd.value, ind, near) if cumulative and result.ytd else "",
        judged=display.value_text(result.judged_value.value, ind, near),
        judged_label="year to date" if cumulative else "this period",
        target=target.text,
        target_bound=target.bound,
        target_basis=target.basis,
        status=status_view(result.status),
        gap=result.gap_text,
        forecast=(display.value_text(forecast, ind, display.bounds(result.forecast_judgement))
                  if forecast is not None else ""),
        forecast_status=(status_view(result.forecast_judgement.status)
                         if forecast is not None and result.forecast_judgement else None),
        notes=tuple(notes),
        low_confidence=result.low_confidence,
        critical_failure=j.critical_failure,
        exception_required=ind.exception_report,
        at_risk=at_risk,
        critical_level=level,
    )


def sections_of(rows: list[IndicatorRow]) -> tuple[Section, ...]:
    """Rows grouped by section, in the framework's order."""
    order: dict[str, list[IndicatorRow]] = {}
    for row in rows:
        order.setdefault(row.section or "Indicators", []).append(row)
    return tuple(Section(name, tuple(group)) for name, group in order.items())


def attention_rows(rows: list[IndicatorRow]) -> tuple[IndicatorRow, ...]:
    """Red first, then amber, then no data; the framework's order within each. Critical failures and indicators
    at risk of one are left to their own lists, said before these."""
    rest = [r for r in rows if not (r.critical_failure or r.at_risk)]
    return tuple(r for status in ATTENTION_ORDER for r in rest if r.status.key == status)


def chart_view(result: IndicatorResult, row: IndicatorRow, series: tuple[TrendPoint, ...], start_month: int) -> ChartView:
    return ChartView(result.ref, result.indicator.name, row.status, trend_svg(result.indicator, series, start_month),
                     row.target)


def trend_svg(ind: Indicator, series: Sequence[TrendPoint], start_month: int) -> Markup:
    """The indicator's trend chart over the last MAX_TREND_POINTS points (the report's and the workspace's)."""
    points = list(series)[-MAX_TREND_POINTS:]
    labels = short_labels([p.period_id for p in points], start_month)
    chart_points = [ChartPoint(label=label,
                               value=None if p.value is None else float(p.value),
                               target=None if p.target is None else float(p.target),
                               status=p.status,
                               value_text=display.value_text(p.value, ind) if p.value is not None else "")
                    for label, p in zip(labels, points)]
    percentage = ind.kind == "percentage"
    return trend_chart(chart_points, title=f"{ind.ref} {ind.name}: trend", suffix="%" if percentage else "",
                       cap=100 if percentage else None)


def series_with_current(result: IndicatorResult, period_id: str, series: tuple[TrendPoint, ...]) -> tuple[TrendPoint, ...]:
    """The supplied series with this period's point last (storage may supply only earlier periods)."""
    earlier = tuple(p for p in series if p.period_id != period_id)
    now = TrendPoint(period_id, result.judged_value.value, result.judgement.target, result.status)
    return earlier + (now,)


def finding_view(finding: Finding) -> FindingView:
    return FindingView(finding.severity.capitalize(), finding.is_error, finding.where, finding.message, finding.fix)


def counts_of(results: tuple[IndicatorResult, ...]) -> tuple[CountView, ...]:
    counts = {status: 0 for status in STATUS_ORDER}
    for result in results:
        counts[result.status] += 1
    order = ("red", "amber", "part", "green", "no_data", "info")
    return tuple(CountView(status_view(s), counts[s]) for s in order if counts[s])


def report_notes(assessment: Assessment) -> tuple[str, ...]:
    results = assessment.scorecard.indicators
    notes = []
    if any(r.indicator.cumulative and r.ytd is not None for r in results):
        notes.append("Cumulative indicators are judged on the year to date against the share of the annual target "
                     "expected by the end of this period; the forecast is the year-end figure at the rate so far.")
    if any(r.low_confidence for r in results):
        notes.append("? marks a colour that is too uncertain to call: the numbers are small or the 95% interval "
                     "spans a threshold (the note under the indicator names it).")
    part = ("◐ PART PAYMENT past a payment's minimum and short of its stretch target (paid in part, not a failure), "
            if any(r.status == "part" for r in results) else "")
    notes.append("Status is shown by shape and word as well as colour: ● GREEN on target, ▲ AMBER close to "
                 f"target, {part}■ RED off target, ○ NO DATA, ◇ INFO (not judged).")
    if not assessment.accepted:  # only the findings and the figures as read: nothing is judged
        return ("The return is rejected: nothing is judged or paid until a corrected return is accepted. The "
                "figures read are shown for checking.",)
    return tuple(notes) + tuple(assessment.scorecard.notes)


def build_return_report(assessment: Assessment, meta: ReturnMeta, trends: Trends | None = None, *,
                        generated_at: datetime | None = None, timezone: str = "Europe/London",
                        charts: bool = True, confirmed: Mapping[str, str] | None = None,
                        only: Callable[[IndicatorResult], bool] | None = None) -> ReturnReport:
    """Turn an assessed return and what storage knows about it into the return report's context.

    `trends` maps indicator refs to earlier points (oldest first; this period's point is added when missing);
    when None, only this period is plotted (a file's own earlier figures never count). Without `charts` (for a
    chat or email summary, which shows neither) no trend is scored, no chart drawn and no breakdown tabled.
    `confirmed` names, by payment rule, who confirmed this very figure and when (from storage). `only` (for a
    summary, never a PDF) builds rows only for the indicators it picks: the rows' fields leave out the others.
    """
    framework, card = assessment.framework, assessment.scorecard
    spec = framework.returns[assessment.return_id]
    if trends is None and charts:
        trends = trends_from_history(assessment)
    results = card.indicators
    shown = tuple(r for r in results if only(r)) if only else results
    paid = {p.indicator: p for p in card.payments} if assessment.accepted else {}  # nothing is paid on a rejection
    rows = [indicator_row(r, framework, paid.get(r.ref)) for r in shown]
    judged = assessment.accepted  # nothing is judged on a rejected return: no colour, count, payment or plan
    drawn = []
    for result, row in zip(shown, rows):
        if judged and charts and trends is not None and result.status in COLOURED:
            series = series_with_current(result, card.period.id, tuple(trends.get(result.ref, ())))
            drawn.append(chart_view(result, row, series, card.period.year.start.month))
    due = meta.due or due_date(assessment.period, spec.due)
    received_day = display.local_day(meta.received_at, timezone)
    errors, warnings = len(assessment.errors), len(assessment.warnings)
    report = ReturnReport(
        contract_id=meta.contract_id,
        contract_name=meta.contract_name,
        provider_name=meta.provider_name,
        framework_name=framework.name,
        framework_version=framework.version,
        return_label=spec.label,
        period_id=card.period.id,
        period_label=card.period.label,
        received=display.moment(meta.received_at, timezone) if meta.received_at else "not submitted (scored from a file)",
        version=str(meta.version) if meta.version is not None else "–",
        due=display.day(due),
        timeliness=display.lateness(meta.on_time, received_day, due),
        late=meta.on_time is False,
        source=meta.source,
        accepted=assessment.accepted,
        has_figures=bool(assessment.interpretation.values),
        verdict="Accepted" if assessment.accepted else "Rejected",
        verdict_detail=f"{display.plural(errors, 'error')}, {display.plural(warnings, 'warning')}",
        counts=counts_of(results) if judged else (),
        sections=sections_of(rows),
        with_ytd=judged and any(r.ytd for r in rows),
        with_forecast=judged and any(r.forecast for r in rows),
        critical=tuple(r for r in rows if r.critical_failure) if judged else (),
        at_risk=tuple(r for r in rows if r.at_risk) if judged else (),
        attention=attention_rows(rows) if judged else (),
        on_target=tuple(r for r in rows if r.status.key == "green") if judged else (),
        charts=tuple(drawn),
        payments=tuple(payment_view(p, framework, (confirmed or {}).get(p.rule.id, ""))
                       for p in card.payments) if judged else (),
        findings=tuple(finding_view(f) for f in sorted(assessment.findings, key=lambda f: not f.is_error)),
        disaggregations=disaggregation_tables(framework, assessment.return_id, assessment.interpretation.values)
        if charts else (),
        action_plans=(),
        notes=report_notes(assessment),
        generated=display.moment(generated_at, timezone) if generated_at else "",
        not_applicable=", ".join(framework.not_applicable),
        on_target_refs=tuple(r.ref for r in results if r.status == "green") if judged else (),
    )
    return replace(report, action_plans=action_plans_for(report)) if judged else report


def action_plans_for(report: ReturnReport) -> tuple[ActionPlan, ...]:
    """A draft plan for each red indicator of the report, in the framework's order."""
    charts = {c.ref: c.svg for c in report.charts}
    plans = []
    for section in report.sections:
        for row in section.rows:
            if row.status.key != "red":
                continue
            performance = row.judged + (" (year to date)" if row.judged_label == "year to date" else "")
            plans.append(ActionPlan(
                contract_name=report.contract_name,
                provider_name=report.provider_name,
                return_label=report.return_label,
                period_label=report.period_label,
                ref=row.ref,
                title=row.name,
                section=row.section,
                target=row.target,
                performance=performance,
                off_target=row.gap,
                status=row.status,
                critical_failure=row.critical_failure,
                notes=row.notes,
                chart=charts.get(row.ref),
            ))
    return tuple(plans)
