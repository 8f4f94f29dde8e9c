"""The commissioners' exception report: every contract for one period, what is off target or missing first.

Storage fills one `ContractPeriodStatus` per contract (the return received, if any, how late, the escalation
reached, and the data-submission KPIs); this module turns them into values ready to print. Indicators marked
`exception_report = true` in their framework (Solihull: "where 4-week success rates fall outside target, an
exception report is required") are listed in their own section when outside target.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from fractions import Fraction

from bot.reports import display
from bot.reports.context import CountView, counts_of, indicator_row, payment_view
from bot.reports.review_view import WaitingRow
from bot.reports.status import StatusView, status_view
from kpi_core import formatting
from kpi_core.assess import Assessment
from kpi_core.calendar import Period


@dataclass(frozen=True)
class DataKpi:
    """A data-submission KPI (timeliness or accuracy of returns): `achieved` of `out_of` against a % target."""

    name: str  # `Timeliness of returns`
    achieved: int  # e.g. returns received on time this year
    out_of: int  # returns due so far this year
    target_percent: Fraction = Fraction(95)
    when_none: str = "no returns due yet"  # what to print when `out_of` is 0 (accuracy: none received yet)
    reasons: tuple[str, ...] = ()  # each return that counts against it, and why

    @property
    def percent(self) -> Fraction | None:
        return Fraction(self.achieved * 100, self.out_of) if self.out_of else None

    @property
    def status(self) -> str:
        percent = self.percent
        if percent is None:
            return "no_data"
        return "green" if percent >= self.target_percent else "red"


@dataclass(frozen=True)
class OverdueReturn:
    """Another return of the contract that is past its due date with no accepted version: any return type, so an
    annual return missing since 30 April is listed beside the quarter the report is about."""

    return_label: str  # `Annual return`
    period_label: str  # `2025-26 (April 2025 to March 2026)`
    due_date: date
    days_overdue: int
    state: str  # `Not received`, `Rejected and not yet sent again`
    escalation_level: int
    escalation_label: str


@dataclass(frozen=True)
class ContractPeriodStatus:
    """One contract's standing for the period, as storage knows it."""

    contract_id: str
    contract_name: str
    provider_name: str
    period: Period  # the contract's own period (calendars differ between contracts)
    due_date: date
    received_at: datetime | None  # None: no return received
    on_time: bool | None
    days_late: int | None  # days after the due date it arrived, or is overdue by when missing
    escalation_level: int  # 0: none
    escalation_label: str  # `Reminder sent to the provider manager`
    assessment: Assessment | None  # the latest return's assessment, None when missing
    timeliness: DataKpi | None = None
    accuracy: DataKpi | None = None
    return_label: str = "Quarterly return"  # the return the period's row is about
    overdue: tuple[OverdueReturn, ...] = ()  # the contract's other returns still owed, oldest first
    waiting: tuple[WaitingRow, ...] = ()  # returns whose review waits on the council or the provider
    confirmed: dict[str, str] = field(default_factory=dict)  # who confirmed each payment of the period, by rule


@dataclass(frozen=True)
class ContractSummary:
    contract_name: str
    provider_name: str
    period_label: str
    due: str
    return_state: str  # `Received on time`, `Received 3 days late`, `Not received: 5 days overdue`
    verdict: str  # `Accepted`, `Rejected (2 errors)` or `–`
    counts: tuple[CountView, ...]
    escalation: str


@dataclass(frozen=True)
class ExceptionRow:
    contract_name: str
    ref: str
    name: str
    value: str  # the value judged (year to date when cumulative)
    value_label: str
    target: str  # the bound: `≥ 44.2%`, `≥ 1,200 by now`
    target_basis: str  # where it comes from: a benchmark's name, `≥ 1,600 for the year`, or ''
    status: StatusView
    gap: str
    notes: tuple[str, ...]
    exception_required: bool


@dataclass(frozen=True)
class ExceptionGroup:
    """One contract's red and amber indicators, red first."""

    contract_name: str
    provider_name: str
    rows: tuple[ExceptionRow, ...]


@dataclass(frozen=True)
class LateRow:
    contract_name: str
    provider_name: str
    return_name: str  # `Annual return, 2025-26 (April 2025 to March 2026)`
    due: str
    state: str
    escalation_level: int
    escalation_label: str


@dataclass(frozen=True)
class CriticalRow:
    contract_name: str
    ref: str
    name: str
    value: str
    critical_level: str
    what: str


@dataclass(frozen=True)
class PaymentRow:
    contract_name: str
    name: str
    indicator: str
    basis: str
    amount: str
    maximum: str
    state: str
    critical_failure: bool


@dataclass(frozen=True)
class DataKpiRow:
    contract_name: str
    name: str
    value: str  # `95% (19 of 20)`
    target: str
    status: StatusView
    reasons: tuple[str, ...] = ()  # why returns count against it


@dataclass(frozen=True)
class ExceptionReport:
    title_period: str
    generated: str
    contracts: tuple[ContractSummary, ...]
    exceptions: tuple[ExceptionRow, ...]  # red first, then amber
    exception_groups: tuple[ExceptionGroup, ...]  # the same rows by contract, red first within each
    required_by_contract: tuple[ExceptionRow, ...]
    late: tuple[LateRow, ...]
    critical: tuple[CriticalRow, ...]
    payments: tuple[PaymentRow, ...]
    data_kpis: tuple[DataKpiRow, ...]
    totals: tuple[CountView, ...]
    notes: tuple[str, ...]
    at_risk: tuple[CriticalRow, ...] = ()  # in-year: forecast past an annual critical level, not yet a failure
    waiting: tuple[WaitingRow, ...] = ()  # returns waiting for review, overdue queries first

    @property
    def summary(self) -> str:
        """`3 red or amber indicators · 1 missing or late return · 0 critical failures · 2 returns waiting for
        review · 1 query overdue` (the last two only when there are any)."""
        parts = [display.plural(len(self.exceptions), "red or amber indicator"),
                 display.plural(len(self.late), "missing or late return"),
                 display.plural(len(self.critical), "critical failure")]
        on_council = sum(1 for row in self.waiting if row.on.startswith("The council"))
        overdue = sum(1 for row in self.waiting if row.overdue)
        parts += [display.plural(on_council, "return") + " waiting for review"] if on_council else []
        parts += [display.plural(overdue, "query", "queries") + " overdue"] if overdue else []
        return " · ".join(parts)


def return_state(status: ContractPeriodStatus, timezone: str) -> str:
    """`Received 14 October 2025 at 10:30, 3 days late`, `Not received: 5 days overdue`, `Not received yet`,
    `Received 14 October 2025 at 10:30, not accepted: 5 days overdue`."""
    days = display.plural(status.days_late, "day") if status.days_late else ""
    if status.received_at is None:
        return f"Not received: {days} overdue" if days else "Not received yet"
    when = display.moment(status.received_at, timezone)
    if status.on_time is False:
        return f"Received {when}, {days} late" if days else f"Received {when}, late"
    if status.on_time:
        return f"Received {when}, on time"
    return f"Received {when}, not accepted: {days} overdue" if days else f"Received {when}"


def is_missing_or_late(status: ContractPeriodStatus) -> bool:
    """Accepted after its due date, or past its due date with nothing accepted (missing, or sent and rejected)."""
    return status.on_time is False or (status.on_time is None and bool(status.days_late))


def escalation_text(status: ContractPeriodStatus) -> str:
    if status.escalation_level <= 0:
        return "None"
    label = f": {status.escalation_label}" if status.escalation_label else ""
    return f"Level {status.escalation_level}{label}"


def data_kpi_row(contract_name: str, kpi: DataKpi) -> DataKpiRow:
    percent = kpi.percent
    value = (f"{formatting.number(percent)}% ({kpi.achieved:,} of {kpi.out_of:,})" if percent is not None
             else kpi.when_none)
    return DataKpiRow(contract_name, kpi.name, value, f"≥ {formatting.number(kpi.target_percent)}%",
                      status_view(kpi.status), kpi.reasons)


@dataclass
class _Sections:
    """The report's rows as they are gathered, contract by contract."""

    contracts: list[ContractSummary] = field(default_factory=list)
    groups: list[ExceptionGroup] = field(default_factory=list)
    late: list[LateRow] = field(default_factory=list)
    critical: list[CriticalRow] = field(default_factory=list)
    at_risk: list[CriticalRow] = field(default_factory=list)
    payments: list[PaymentRow] = field(default_factory=list)
    data_kpis: list[DataKpiRow] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=dict)


def _add_results(out: _Sections, status: ContractPeriodStatus, assessment: Assessment) -> None:
    """The contract's red and amber indicators, critical failures and payments."""
    name, framework = status.contract_name, assessment.framework
    rows: list[ExceptionRow] = []
    for result in assessment.scorecard.indicators:
        out.totals[result.status] = out.totals.get(result.status, 0) + 1
        row = indicator_row(result, framework)
        if result.status in ("red", "amber"):
            rows.append(ExceptionRow(name, row.ref, row.name, row.judged, row.judged_label, row.target_bound,
                                     row.target_basis, row.status, row.gap, row.notes, row.exception_required))
        if result.judgement.critical_failure:
            level = display.threshold_only(result.indicator, framework, bound=result.judgement.critical)
            out.critical.append(CriticalRow(name, row.ref, row.name, row.judged, level,
                                            "Critical performance failure"))
        elif result.judgement.at_risk:
            level = display.threshold_only(result.indicator, framework, bound=result.judgement.critical)
            out.at_risk.append(CriticalRow(name, row.ref, row.name, f"forecast {row.forecast}", level,
                                           "Off trajectory: at risk of critical failure (judged on the full year)"))
    rows.sort(key=lambda r: r.status.key != "red")  # stable: the framework's order within each colour
    if rows:
        out.groups.append(ExceptionGroup(name, status.provider_name, tuple(rows)))
    for payment in assessment.scorecard.payments:
        view = payment_view(payment, framework, confirmed=status.confirmed.get(payment.rule.id, ""))
        out.payments.append(PaymentRow(name, view.name, view.indicator, view.basis, view.amount, view.maximum,
                                       view.state, view.critical_failure))
        if payment.critical_failure and not any(c.contract_name == name and c.ref == payment.indicator
                                                for c in out.critical):
            out.critical.append(CriticalRow(name, payment.indicator, payment.rule.name, view.basis, "",
                                            "Critical performance failure on the full year"))


def build_exception_report(statuses: list[ContractPeriodStatus], period_label: str, *,
                           generated_at: datetime | None = None,
                           timezone: str = "Europe/London") -> ExceptionReport:
    """Build the exception report for `statuses` (one per contract, for returns that are due);
    `period_label` titles it (`2025-26 Q3`)."""
    out = _Sections()
    for status in statuses:
        name, assessment = status.contract_name, status.assessment
        verdict = "–"
        if assessment is not None:
            _add_results(out, status, assessment)
            errors = display.plural(len(assessment.errors), "error")
            verdict = "Accepted" if assessment.accepted else f"Rejected ({errors})"
        if is_missing_or_late(status):
            out.late.append(LateRow(name, status.provider_name, f"{status.return_label}, {status.period.label}",
                                    display.day(status.due_date), return_state(status, timezone),
                                    status.escalation_level, escalation_text(status)))
        for owed in status.overdue:
            out.late.append(LateRow(
                name, status.provider_name, f"{owed.return_label}, {owed.period_label}", display.day(owed.due_date),
                f"{owed.state}: {display.plural(owed.days_overdue, 'day')} overdue", owed.escalation_level,
                escalation_text(replace(status, escalation_level=owed.escalation_level,
                                        escalation_label=owed.escalation_label))))
        out.data_kpis += [data_kpi_row(name, kpi) for kpi in (status.timeliness, status.accuracy) if kpi is not None]
        counts = counts_of(assessment.scorecard.indicators) if assessment is not None else ()
        out.contracts.append(ContractSummary(name, status.provider_name, status.period.label,
                                             display.day(status.due_date), return_state(status, timezone), verdict,
                                             counts, escalation_text(status)))
    exceptions = [row for group in out.groups for row in group.rows]
    exceptions.sort(key=lambda r: r.status.key != "red")  # stable: contract order within each colour
    waiting = sorted((row for status in statuses for row in status.waiting), key=lambda r: not r.overdue)
    order = ("red", "amber", "part", "green", "no_data", "info")
    notes = ("Values of cumulative indicators are the year to date, judged against the share of the annual target "
             "expected by the end of the period.",
             "Payments marked Forecast are worked out on the year so far; Calculated ones on the full year, until "
             "the council confirms them once every return they rest on is signed off (then Confirmed); Provisional "
             "ones lack figures for some periods of the year and are never final until they are in.",
             "An annual critical failure level is judged on the full year; in-year, a year-end forecast past it is "
             "listed as at risk of critical failure.")
    return ExceptionReport(
        title_period=period_label,
        generated=display.moment(generated_at, timezone) if generated_at else "",
        contracts=tuple(out.contracts),
        exceptions=tuple(exceptions),
        exception_groups=tuple(out.groups),
        required_by_contract=tuple(r for r in exceptions if r.exception_required),
        late=tuple(sorted(out.late, key=lambda r: -r.escalation_level)),
        critical=tuple(out.critical),
        at_risk=tuple(out.at_risk),
        payments=tuple(out.payments),
        data_kpis=tuple(out.data_kpis),
        totals=tuple(CountView(status_view(s), out.totals[s]) for s in order if out.totals.get(s)),
        notes=notes,
        waiting=tuple(waiting),
    )
