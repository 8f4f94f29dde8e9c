"""Reports from the database: a contract's return report for a period, and the commissioners' exception report.

A stored return is re-assessed from its raw file with the history accepted since, so a report always shows the
figures in force; reports are kept in the file store like every other file.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from fractions import Fraction

from sqlmodel import Session, col, select

from bot import config
from bot.assessment.in_context import assess_in_context, framework_for, terms_of
from bot.assessment.plans import plan_views
from bot.assessment.reviews import confirmations, waiting
from bot.assessment.submission_kpis import SubmissionKpis, local_date, submission_kpis, trailing_late
from bot.reports import display
from bot.reports.action_plans import with_stored
from bot.reports.context import ReturnMeta, ReturnReport, build_return_report
from bot.reports.exception_report import ContractPeriodStatus, DataKpi, OverdueReturn, build_exception_report
from bot.reports.render import render_exception_report, render_return_report
from bot.reports.review_view import review_view, waiting_rows
from bot.reports.trends import trends_from_history
from bot.storage.db import insert_ignore, retrying, write_session
from bot.storage.files import FileStore
from bot.storage.models import (
    Contact,
    Contract,
    FindingRow,
    Obligation,
    Organisation,
    RenderedReport,
    StoredFile,
    Submission,
)
from bot.storage.queries import obligation_for
from kpi_core.assess import Assessment, return_type_for
from kpi_core.calendar import Period, PeriodError, parse_period
from kpi_core.escalation import ServiceFailureRule, escalation_for, escalation_rule_for
from kpi_core.formatting import plural
from kpi_core.returns.reader import read_return
from kpi_core.terms import ContractTerms
from kpi_core.values import Key

# How an overdue return stands, from its latest submission (none: not received).
OWED_STATE = {"rejected": "Rejected and not yet sent again", "held": "Received, waiting for the provider to say "
              "which return it is", "failed": "Received; kpibot could not process it"}


class ReportError(ValueError):
    """The report cannot be made; the message says why and what to do."""


@dataclass(frozen=True)
class Located:
    contract: Contract
    period: Period
    obligation: Obligation
    submission: Submission | None  # the accepted version in force, else the latest attempt, else None


def locate(session: Session, contract: Contract, period: Period) -> Located:
    framework = framework_for(contract, period)
    obligation = obligation_for(session, contract.id, return_type_for(framework, period), period.id)
    if obligation is None:
        raise ReportError(f"{contract.name} owes no return for {period.label} (run `kpibot init` if the period has "
                          "started since)")
    subs = session.exec(select(Submission).where(Submission.obligation_id == obligation.id,
                                                 Submission.version != None)  # noqa: E711
                        .order_by(col(Submission.received_at).desc(), col(Submission.id).desc())).all()
    current = next((s for s in subs if s.status == "accepted"), subs[0] if subs else None)
    return Located(contract, period, obligation, current)


def stored_assessment(session: Session, files: FileStore, settings: config.Settings,
                      found: Located) -> tuple[Assessment, dict[str, dict[Key, Fraction]]]:
    """Re-assess a stored submission from its raw file, as of when it was received."""
    submission = found.submission
    assert submission is not None and submission.sha256 is not None
    parsed = read_return(files.get(submission.sha256), submission.filename, limits=config.read_limits(settings))
    assessed = assess_in_context(session, found.contract, found.period, parsed, submission.received_at,
                                 settings.timezone, terms=terms_of(settings, found.contract, found.period),
                                 submission_id=submission.id)
    return assessed.assessment, assessed.history


def provider_name(session: Session, contract: Contract) -> str:
    org = session.get(Organisation, contract.provider_id)
    return org.name if org else contract.provider_id


def return_report(session: Session, files: FileStore, settings: config.Settings, contract_id: str,
                  period_text: str, generated_at: datetime | None = None) -> ReturnReport:
    contract = _contract(session, contract_id)
    period = _period(period_text, contract)
    found = locate(session, contract, period)
    if found.submission is None:
        raise ReportError(f"no return has been received from {contract.name} for {period.label} "
                          f"(due {found.obligation.due_date:%d %B %Y})")
    return report_of(session, files, settings, found, generated_at)


def report_of(session: Session, files: FileStore, settings: config.Settings, found: Located,
              generated_at: datetime | None = None) -> ReturnReport:
    """The return report of the submission `found` names (the version in force, or any other version)."""
    assessment, history = stored_assessment(session, files, settings, found)
    sub, contract = found.submission, found.contract
    assert sub is not None
    meta = ReturnMeta(contract.id, contract.name, provider_name(session, contract), sub.received_at, sub.version,
                      sub.on_time, found.obligation.due_date, sub.filename)
    report = build_return_report(assessment, meta, trends_from_history(assessment, history),
                                 generated_at=generated_at, timezone=settings.timezone,
                                 confirmed=confirmed_payments(session, settings, contract, assessment, sub.id))
    if sub.status != "accepted":
        return report
    today = local_date(generated_at or sub.received_at, settings.timezone)
    plans = plan_views(session, today, [contract.id], include_closed=True)
    return replace(report, review=review_view(session, found.obligation.id, settings.timezone),
                   action_plans=with_stored(report.action_plans, plans))


def confirmed_payments(session: Session, settings: config.Settings, contract: Contract, assessment: Assessment,
                       submission_id: int | None) -> dict[str, str]:
    """Who confirmed each payment of the assessment, when the confirmation rests on this version and is of this
    very figure: `by Carol on 20 May 2026 at 10:00`, by payment rule. Any other figure stays as kpibot calculated
    it."""
    kept = confirmations(session, contract.id, assessment.period.year.id)
    found = {}
    for payment in assessment.scorecard.payments:
        confirmation = kept.get(payment.rule.id)
        if confirmation is None or submission_id not in confirmation.rests_on \
                or confirmation.amount != payment.amount:
            continue
        who = session.get(Contact, confirmation.confirmed_by)
        found[payment.rule.id] = (f"by {who.name if who else 'the council'} on "
                                  f"{display.moment(confirmation.confirmed_at, settings.timezone)}")
    return found


def contract_period_status(session: Session, files: FileStore, settings: config.Settings, contract: Contract,
                           period: Period, today: date) -> ContractPeriodStatus:
    found = locate(session, contract, period)
    obligation, sub = found.obligation, found.submission
    terms = terms_of(settings, contract, period)
    rule = escalation_rule_for(terms)
    kpis = submission_kpis(session, contract.id, today, settings.timezone, rule=rule)
    run = trailing_late([r for r in kpis.records if r.obligation.return_type == obligation.return_type
                         and r.obligation.due_date <= obligation.due_date])
    escalation = escalation_for(run, rule)
    if obligation.first_accepted_at is not None:
        late = (local_date(obligation.first_accepted_at, settings.timezone) - obligation.due_date).days
        on_time: bool | None = late <= 0
        days_late = late if late > 0 else None
    else:
        on_time = None
        days_late = (today - obligation.due_date).days if today > obligation.due_date else None
    assessment = stored_assessment(session, files, settings, found)[0] if sub is not None else None
    returns = terms.returns
    label = returns[obligation.return_type].label if obligation.return_type in returns else obligation.return_type
    labels = {key: spec.label for key, spec in returns.items()}
    return ContractPeriodStatus(
        contract.id, contract.name, provider_name(session, contract), period, obligation.due_date,
        sub.received_at if sub else None, on_time, days_late, escalation.level, escalation.label, assessment,
        *data_kpis(terms, kpis, labels, contract.year_start_month), return_label=label,
        overdue=overdue_returns(session, contract, obligation, kpis, today, terms, rule),
        waiting=waiting_rows(waiting(session, [contract.id]), {contract.id: contract.year_start_month}, labels,
                             today, settings.timezone),
        confirmed=confirmed_payments(session, settings, contract, assessment, sub.id if sub else None)
        if assessment is not None else {},
        data_kpis_apply=terms.data_submission is not None,
        disagreements=annual_disagreements(session, contract, period),
        plans=tuple(plan_views(session, today, [contract.id])))


def data_kpis(terms: ContractTerms, kpis: SubmissionKpis, labels: dict[str, str],
               start_month: int) -> tuple[DataKpi | None, DataKpi | None]:
    """Timeliness and accuracy, only for a contract whose terms have data-submission KPIs; accuracy says why each
    return that counts against it does."""
    spec = terms.data_submission
    if spec is None:
        return None, None
    none_received = f"none received of {plural(kpis.due, 'return')} due" if kpis.due else "no returns due yet"
    why = tuple(f"{labels.get(r.obligation.return_type, r.obligation.return_type)}, "
                f"{parse_period(r.obligation.period_id, start_month).label}: {'; '.join(r.why_inaccurate)}"
                for r in kpis.records if r.accurate is False)
    late = tuple(f"Request {r.request_id} ({r.what}), due by {r.due.day} {r.due:%B %Y}: "
                 f"{'answered after its deadline' if r.answered else 'not answered'}"
                 for r in kpis.requests if not r.timely)
    name = "Timeliness of returns and requests" if kpis.requests else "Timeliness of returns"
    return (DataKpi(name, kpis.timely_all, kpis.due_all, Fraction(str(spec.timeliness_target)), reasons=late),
            DataKpi("Accuracy of returns", kpis.accurate, kpis.submitted, Fraction(str(spec.accuracy_target)),
                    when_none=none_received, reasons=why))


def annual_disagreements(session: Session, contract: Contract, period: Period) -> tuple[str, ...]:
    """What the accepted annual returns (in force) of the period's year, and of the year before (whose annual
    return falls due after it ends), found differing from their accepted quarterly returns."""
    years = {period.year.id: period.year, period.year.previous().id: period.year.previous()}
    rows = session.exec(select(Obligation.period_id, FindingRow.message)
                        .join(Submission, Submission.obligation_id == Obligation.id)  # type: ignore[arg-type]
                        .join(FindingRow, FindingRow.submission_id == Submission.id)  # type: ignore[arg-type]
                        .where(Obligation.contract_id == contract.id, Obligation.period_id.in_(list(years)),  # type: ignore[attr-defined]
                               Submission.status == "accepted", FindingRow.code == "annual_differs")
                        .order_by(Obligation.period_id, FindingRow.id)).all()  # type: ignore[arg-type]
    return tuple(f"Annual return, {parse_period(period_id, contract.year_start_month).label}: {message}"
                 for period_id, message in rows)


def overdue_returns(session: Session, contract: Contract, shown: Obligation, kpis: SubmissionKpis,
                    today: date, terms: ContractTerms, rule: ServiceFailureRule | None) -> tuple[OverdueReturn, ...]:
    """The contract's other returns, of every type, past their due date with no accepted version, oldest first."""
    owed = session.exec(select(Obligation).where(
        Obligation.contract_id == contract.id, Obligation.due_date < today, Obligation.id != shown.id,
        col(Obligation.first_accepted_at).is_(None)).order_by(col(Obligation.due_date), col(Obligation.id))).all()
    found = []
    for obligation in owed:
        latest = session.exec(select(Submission).where(Submission.obligation_id == obligation.id)
                              .order_by(col(Submission.received_at).desc())).first()
        run = trailing_late([r for r in kpis.records if r.obligation.return_type == obligation.return_type
                             and r.obligation.due_date <= obligation.due_date])
        escalation = escalation_for(max(run, 1), rule)
        spec = terms.returns.get(obligation.return_type)
        found.append(OverdueReturn(
            spec.label if spec else obligation.return_type,
            parse_period(obligation.period_id, contract.year_start_month).label, obligation.due_date,
            (today - obligation.due_date).days, OWED_STATE.get(latest.status if latest else "", "Not received"),
            escalation.level, escalation.label))
    return tuple(found)


def exception_statuses(session: Session, files: FileStore, settings: config.Settings, period_text: str | None,
                       today: date, only: set[str] | None = None) -> tuple[list[ContractPeriodStatus], list[str]]:
    """Each contract's standing (of the contracts in `only`, when given) for `period_text` (read in its own
    calendar), or, without one, for its latest quarterly return due by `today`. Returns the statuses and notes on
    contracts left out."""
    statuses, notes = [], []
    for contract in session.exec(select(Contract).order_by(Contract.id)):
        if only is not None and contract.id not in only:
            continue
        if period_text is not None:
            try:
                period = parse_period(period_text, contract.year_start_month)
            except PeriodError as exc:
                notes.append(f"{contract.name}: {exc}")
                continue
        else:
            latest = session.exec(select(Obligation).where(
                Obligation.contract_id == contract.id, Obligation.return_type == "quarterly",
                Obligation.due_date <= today).order_by(col(Obligation.due_date).desc())).first()
            if latest is None:
                notes.append(f"{contract.name}: no quarterly return due yet")
                continue
            period = parse_period(latest.period_id, contract.year_start_month)
        try:
            statuses.append(contract_period_status(session, files, settings, contract, period, today))
        except ReportError as exc:
            notes.append(str(exc))
    return statuses, notes


def keep_report(session: Session, files: FileStore, pdf: bytes, kind: str, period_id: str, now: datetime,
                contract_id: str | None = None, submission_id: int | None = None) -> str:
    """Store a rendered report in the file store and record it, in a short write transaction of its own (the
    caller's session only read: its transaction is ended first, so no lock is held across the drawing)."""
    session.commit()
    digest = files.put(pdf)

    def write() -> None:
        with write_session(session.get_bind()) as writing:
            insert_ignore(writing, StoredFile, dict(sha256=digest, size=len(pdf), first_seen_at=now))
            writing.add(RenderedReport(kind=kind, contract_id=contract_id, period_id=period_id,
                                       submission_id=submission_id, sha256=digest, created_at=now))
            writing.commit()
    retrying(write)
    return digest


def render_stored_return_report(session: Session, files: FileStore, settings: config.Settings, contract_id: str,
                                period_text: str, now: datetime) -> bytes:
    report = return_report(session, files, settings, contract_id, period_text, generated_at=now)
    session.commit()  # reading is done: no transaction stays open while the PDF is drawn
    pdf = render_return_report(report)
    keep_report(session, files, pdf, "return", report.period_id, now, contract_id)
    return pdf


def render_stored_exception_report(session: Session, files: FileStore, settings: config.Settings,
                                   period_text: str | None, now: datetime) -> tuple[bytes, list[str], int]:
    today = local_date(now, settings.timezone)
    statuses, notes = exception_statuses(session, files, settings, period_text, today)
    if not statuses:
        raise ReportError("no contract has a return for that period: " + "; ".join(notes))
    label = period_text or f"latest returns due by {today:%d %B %Y}"
    session.commit()  # reading is done: no transaction stays open while the PDF is drawn
    pdf = render_exception_report(build_exception_report(statuses, label, generated_at=now,
                                                         timezone=settings.timezone))
    keep_report(session, files, pdf, "exceptions", period_text or today.isoformat(), now)
    return pdf, notes, len(statuses)


def _contract(session: Session, contract_id: str) -> Contract:
    contract = session.get(Contract, contract_id)
    if contract is None:
        known = ", ".join(c.id for c in session.exec(select(Contract))) or "none (run `kpibot init`)"
        raise ReportError(f"unknown contract {contract_id!r}; in the database: {known}")
    return contract


def _period(text: str, contract: Contract) -> Period:
    try:
        return parse_period(text, contract.year_start_month)
    except PeriodError as exc:
        raise ReportError(str(exc)) from None
