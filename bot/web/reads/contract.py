"""A contract's page: its indicators by period (value and status, with a trend chart), the latest return's year to
date, forecast, targets, intervals and benchmarks (the return report's own rows), timeliness and accuracy, and
the payments.

The grid is read set-based (the contract's returns, their versions in force, and all their stored results: three
queries); the latest return's details are its report context (bot/reports/stored.py), so every figure is the one
the PDF prints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from markupsafe import Markup
from sqlmodel import Session, col, select

from bot import config
from bot.assessment.in_context import framework_for, terms_of
from bot.assessment.submission_kpis import submission_kpis
from bot.reports import display
from bot.reports.context import IndicatorRow, PaymentView, ReturnReport, trend_svg
from bot.reports.exception_report import DataKpiRow, data_kpi_row
from bot.reports.status import StatusView, status_view
from bot.reports.stored import ReportError, data_kpis, provider_name, return_report
from bot.reports.trends import TrendPoint, point_from_stored
from bot.storage.files import FileStore
from bot.storage.models import Contract, IndicatorResultRow, Obligation, Submission
from kpi_core import formatting
from kpi_core.calendar import parse_period
from kpi_core.escalation import escalation_rule_for

PERIODS = 8


@dataclass(frozen=True)
class PeriodColumn:
    obligation_id: int
    label: str  # `Q2 2025-26`
    span: str  # `July to September 2025`


@dataclass(frozen=True)
class ValueCell:
    value: str  # the value judged (the year to date for a cumulative indicator), as the report prints it
    status: StatusView


@dataclass(frozen=True)
class IndicatorLine:
    ref: str
    name: str
    cells: tuple[ValueCell | None, ...]  # one per period: None when no version is in force
    chart: Markup  # the trend, as in the report
    latest: IndicatorRow | None  # the latest return's row of the report: target, year to date, forecast, notes


@dataclass(frozen=True)
class ContractPage:
    contract_id: str
    contract_name: str
    provider_name: str
    framework_name: str
    value: str  # `£720,000.00 a year`
    periods: tuple[PeriodColumn, ...]
    lines: tuple[IndicatorLine, ...]
    latest: ReturnReport | None
    latest_obligation: int | None
    data_kpis: tuple[DataKpiRow, ...]
    payments: tuple[PaymentView, ...]
    year_id: str = ""  # the reporting year of the latest period shown: its payments' page

    def csv_rows(self) -> list[list[str]]:
        out = [["indicator", "name", *[p.label for p in self.periods]]]
        for line in self.lines:
            out.append([line.ref, line.name, *[f"{c.value} ({c.status.word})" if c else "" for c in line.cells]])
        return out


def contract_page(session: Session, files: FileStore, settings: config.Settings, contract: Contract,
                  today: date, return_type: str = "quarterly") -> ContractPage:
    obligations = session.exec(select(Obligation).where(Obligation.contract_id == contract.id,
                                                        Obligation.return_type == return_type,
                                                        col(Obligation.period_start) <= today)
                               .order_by(col(Obligation.period_start))).all()[-PERIODS:]
    ids = [o.id for o in obligations]
    accepted = {s.obligation_id: s for s in session.exec(select(Submission).where(
        col(Submission.obligation_id).in_(ids), Submission.status == "accepted"))} if ids else {}
    results: dict[int, dict[str, Mapping[str, Any]]] = {}
    if accepted:
        by_sub = {s.id: o for o, s in accepted.items() if o is not None}
        for sub_id, ref, detail in session.exec(select(IndicatorResultRow.submission_id, IndicatorResultRow.ref,
                                                       IndicatorResultRow.detail)
                                                .where(col(IndicatorResultRow.submission_id).in_(list(by_sub)))):
            results.setdefault(by_sub[sub_id], {})[ref] = detail
    periods = [parse_period(o.period_id, contract.year_start_month) for o in obligations]
    columns = tuple(PeriodColumn(o.id or 0, p.label.split(" (")[0], f"{p.start:%B} to {p.end:%B %Y}")
                    for o, p in zip(obligations, periods))
    latest_done = next((o for o in reversed(obligations) if o.id in accepted), None)
    report = None
    if latest_done is not None:
        try:
            report = return_report(session, files, settings, contract.id, latest_done.period_id)
        except ReportError:
            report = None
    rows = {r.ref: r for s in report.sections for r in s.rows} if report else {}
    anchor = periods[-1] if periods else None
    framework = framework_for(contract, anchor) if anchor else None
    lines = []
    for ind in framework.indicators_for(return_type) if framework else []:
        points: list[TrendPoint] = []
        cells: list[ValueCell | None] = []
        for o, period in zip(obligations, periods):
            stored = results.get(o.id or 0, {}).get(ind.ref)
            if stored is None:
                cells.append(None)
                continue
            point = point_from_stored(period.id, stored)
            points.append(point)
            shown = display.value_text(point.value, ind) if point.value is not None else "–"
            cells.append(ValueCell(shown, status_view(point.status)))
        coloured = [p for p in points if p.status in ("red", "amber", "green")]
        chart = trend_svg(ind, points, contract.year_start_month) if coloured else Markup("")
        lines.append(IndicatorLine(ind.ref, ind.name, tuple(cells), chart, rows.get(ind.ref)))
    terms = terms_of(settings, contract, anchor)
    kpis = submission_kpis(session, contract.id, today, settings.timezone, rule=escalation_rule_for(terms))
    labels = {key: spec.label for key, spec in terms.returns.items()}
    timeliness, accuracy = data_kpis(terms, kpis, labels, contract.year_start_month)
    shown_kpis = tuple(data_kpi_row(contract.name, k) for k in (timeliness, accuracy) if k is not None)
    return ContractPage(contract.id, contract.name, provider_name(session, contract),
                        framework.name if framework else contract.framework_id,
                        f"{formatting.money(contract.value)} a year", columns, tuple(lines), report,
                        latest_done.id if latest_done else None, shown_kpis, report.payments if report else (),
                        anchor.year.id if anchor else "")
