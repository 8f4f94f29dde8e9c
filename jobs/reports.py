"""The commissioners' exception report, sent a few working days after each quarterly deadline.

For each council and each date its contracts' quarterly returns fell due, the report (PDF) on those contracts goes
`report_working_days` working days later (5 by default) to the council's commissioners, each seeing only the
contracts they may see (a commissioner limited to some contracts gets a report on those). It is drawn outside any
transaction, then recorded and queued once under its key; a kill while drawing leaves nothing, and the next sweep
draws it again. After downtime only the latest deadline's report is sent: an older one is out of date.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.reports.exception_report import build_exception_report
from bot.reports.render import render_exception_report
from bot.reports.stored import ReportError, contract_period_status
from bot.storage.files import FileStore
from bot.storage.models import Contract, Obligation, RenderedReport, StoredFile
from jobs.chase import clock_at
from jobs.messages import render, short_day
from jobs.queueing import Decision, Message, Outgoing, existing, queue
from jobs.recipients import Directory, Recipient
from jobs.timing import Clock, report_day
from kpi_core.calendar import parse_period

log = logging.getLogger("kpibot.scheduler")
LOOKBACK = timedelta(days=120)  # deadlines older than this have a newer report


def report_sweep(engine: sa.Engine, settings: config.Settings, files: FileStore, now: datetime) -> int:
    """Draw and queue each exception report due at `now` and not queued yet; return how many messages."""
    if not Clock.of(now, settings).sending:
        return 0
    with Session(engine) as session:
        clock = clock_at(session, now, settings)
        due = _due(session, settings, clock)
        done = existing(session, list(due))
    queued = 0
    for key, (council, deadline) in due.items():
        if key in done:
            continue
        try:
            decision = _draw(engine, settings, files, clock, key, council, deadline)
        except Exception:  # noqa: BLE001 - one council's report must not hold up the others'; retried next sweep
            log.exception("drawing the exception report %s failed; the next sweep tries again", key)
            continue
        queued += queue(engine, [decision], now)
    return queued


def _due(session: Session, settings: config.Settings, clock: Clock) -> dict[str, tuple[str, date]]:
    """Each council's latest quarterly deadline, when its report day has come, by the report's key (a report
    whose deadline has been followed by another is out of date, and is not sent late; one whose deadline came
    before the scheduler chases returns from is kpibot's pre-history, and is not sent at all)."""
    since = max(clock.today - LOOKBACK, clock.since or date.min)
    rows = session.exec(select(col(Contract.commissioner_id), col(Obligation.due_date)).distinct()
                        .join(Contract, col(Contract.id) == Obligation.contract_id)
                        .where(col(Obligation.return_type) == "quarterly", col(Obligation.due_date) <= clock.today,
                               col(Obligation.due_date) >= since)).all()
    latest: dict[str, date] = {}
    for council, deadline in rows:
        latest[council] = max(deadline, latest.get(council, deadline))
    return {f"report:exceptions:{council}:{deadline.isoformat()}": (council, deadline)
            for council, deadline in sorted(latest.items())
            if report_day(deadline, settings.scheduler.report_working_days) <= clock.today}


def planned_reports(engine: sa.Engine, settings: config.Settings, now: datetime) -> list[Decision]:
    """The exception reports a sweep at `now` would draw and queue, with their recipients and no PDF drawn
    (`kpibot run --dry-run`). Sending hours are the caller's business."""
    planned = []
    with Session(engine) as session:
        clock = clock_at(session, now, settings)
        due = _due(session, settings, clock)
        done = existing(session, list(due))
        for key, (council, deadline) in due.items():
            if key in done:
                continue
            decision = Decision(key, "report", "report", organisations=(council,),
                                why=f"the commissioners' exception report on the quarterly returns due "
                                    f"{short_day(deadline)}, {settings.scheduler.report_working_days} working "
                                    "days after that deadline (its PDF is drawn when it is sent)")
            for people in _audience(session, settings, council, deadline)[1].values():
                decision.outgoing += [Outgoing(person, Message("", "")) for person in people]
            planned.append(decision)
    return planned


def _audience(session: Session, settings: config.Settings, council: str, deadline: date) \
        -> tuple[list[tuple[Contract, str]], dict[tuple[str, ...], list[Recipient]]]:
    """The council's contracts with a quarterly return due on `deadline` (and its period), and its commissioners
    grouped by the contracts of those each may see."""
    due_here = list(session.exec(select(Contract, Obligation.period_id)
                                 .join(Obligation, col(Obligation.contract_id) == Contract.id)
                                 .where(col(Contract.commissioner_id) == council,
                                        col(Obligation.return_type) == "quarterly",
                                        col(Obligation.due_date) == deadline).order_by(col(Contract.id))).all())
    directory = Directory(session, [council], telegram=bool(settings.telegram_token),
                          teams=settings.reachable_teams())
    groups: dict[tuple[str, ...], list[Recipient]] = {}
    for person in directory.everyone(council, "commissioner"):
        visible = directory.visible(person)
        ids = tuple(c.id for c, _ in due_here if visible is None or c.id in visible)
        if ids:
            groups.setdefault(ids, []).append(person)
    return due_here, groups


def _draw(engine: sa.Engine, settings: config.Settings, files: FileStore, clock: Clock, key: str, council: str,
          deadline: date) -> Decision:
    """The report decision, with one PDF per set of contracts the council's commissioners may see."""
    decision = Decision(key, "report", "report", organisations=(council,))
    with Session(engine) as session:
        due_here, groups = _audience(session, settings, council, deadline)
        label = f"quarterly returns due {short_day(deadline)}"
        for ids, people in groups.items():
            statuses, notes = [], []
            for contract, period_id in due_here:
                if contract.id in ids:
                    try:
                        statuses.append(contract_period_status(
                            session, files, settings, contract, parse_period(period_id, contract.year_start_month),
                            clock.today))
                    except ReportError as exc:  # e.g. a return that can no longer be read: the others still go
                        notes.append(str(exc))
                        log.warning("exception report %s: %s left out: %s", key, contract.id, exc)
            if not statuses:
                continue
            report = build_exception_report(statuses, label, generated_at=clock.now, timezone=settings.timezone)
            digest = None
            if any(p.channel != "teams" for p in people):  # a Teams card carries no file: none is drawn for it alone
                pdf = render_exception_report(report)
                digest = files.put(pdf)
                decision.rows += [
                    (StoredFile, dict(sha256=digest, size=len(pdf), first_seen_at=clock.now, restricted=False)),
                    (RenderedReport, dict(kind="exceptions", contract_id=None, period_id=deadline.isoformat(),
                                          submission_id=None, sha256=digest, created_at=clock.now, cache_key=None))]
            name = f"exception-report-{deadline.isoformat()}.pdf"
            red = sum(1 for row in report.exceptions if row.status.key == "red")
            for person in people:
                message = render("exception_report", person, deadline=short_day(deadline),
                                 contracts=[s.contract_name for s in statuses], late=len(report.late), red=red,
                                 notes=notes, report=report)
                if person.channel != "teams":
                    message = replace(message, attachment_sha256=digest, attachment_name=name)
                decision.outgoing.append(Outgoing(person, message))
    return decision

