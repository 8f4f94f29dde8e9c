"""`kpibot demo`: a year of monitoring on the embedded database, with no accounts or tokens.

1. Start a fresh SQLite database in the demo folder and load config.toml (the example council).
2. Replay a year of returns through the one intake, with a simulated clock: each provider fills in the workbook
   kpibot generates; most arrive on time, one late, one rejected and then corrected, one never arrives.
   The scheduler runs on the same clock (jobs/simulate.py): its reminders, overdue notices, escalations and
   exception reports fire on their days and go to the outbox folder with the replies.
3. Deliver the replies through the local channel (files in the demo folder), print where every contract stands,
   and write the commissioners' exception report and each contract's latest return report as PDFs.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot import config
from bot.app import App
from bot.intake import IntakeResult, Received
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.local import LocalTransport
from bot.reporting import render_stored_exception_report, render_stored_return_report
from bot.status import ContractStatus, contract_status
from bot.storage.models import Contact, Contract, Obligation
from bot.workbooks import build_template
from bot.workbooks.fill import fill
from jobs.simulate import Fired, Replay
from kpi_core import loader, samples
from kpi_core.calendar import parse_period

AS_OF = date(2026, 5, 20)  # after the 2025-26 financial year's last quarterly return


@dataclass(frozen=True)
class Step:
    contract_id: str
    period_id: str
    received_at: datetime
    result: IntakeResult


def demo_settings(settings: config.Settings, folder: Path) -> config.Settings:
    storage = settings.storage.model_copy(update={"database_url": f"sqlite:///{folder / 'kpibot.db'}",
                                                  "files_dir": folder / "files", "outbox_dir": folder / "outbox"})
    return settings.model_copy(update={"storage": storage})


def _moment(day: date, zone: str, hour: int = 11) -> datetime:
    return datetime.combine(day, time(hour), ZoneInfo(zone)).astimezone(timezone.utc)


def _plan(obligation: Obligation, index: int) -> list[tuple[int, float, dict[tuple[str, str], Fraction]]]:
    """(days before the due date, performance level, overrides) for each submission of an obligation."""
    level = 0.95 if index % 3 else 0.55  # every third return under-performs, so reds and ambers show
    if obligation.contract_id == "ch-stop-smoking" and index == 2:
        return [(-6, level, {})]  # six days late
    if obligation.contract_id == "solihull-stop-smoking" and index == 1:
        return [(4, level, {("quit_dates", ""): Fraction(-12)}), (1, level, {})]  # rejected, then corrected
    if obligation.contract_id == "ch-substance-misuse" and index == 3:
        return []  # never arrives
    return [(3, level, {})]


def run(settings: config.Settings, folder: Path, as_of: date = AS_OF,
        progress: Callable[[Step], None] = lambda step: None,
        notices: Callable[[Fired], None] = lambda fired: None) -> tuple[list[Step], list[ContractStatus]]:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    app = App(demo_settings(settings, folder))
    try:
        return _replay(app, settings.timezone, as_of, progress, notices)
    finally:
        app.close()


def _replay(app: App, zone: str, as_of: date, progress: Callable[[Step], None],
            notices: Callable[[Fired], None]) -> tuple[list[Step], list[ContractStatus]]:
    app.init(_moment(as_of, zone))
    steps: list[Step] = []
    with Session(app.engine) as session:
        submitters = {c.organisation_id: c for c in session.exec(
            select(Contact).where(Contact.role == "provider_submitter").order_by(Contact.id))}
        plans = []
        for contract in session.exec(select(Contract).order_by(Contract.id)):
            obligations = session.exec(select(Obligation).where(
                Obligation.contract_id == contract.id, Obligation.return_type == "quarterly",
                Obligation.due_date <= as_of).order_by(Obligation.due_date)).all()
            for index, obligation in enumerate(obligations):
                plans.append((contract, obligation, index, submitters[contract.provider_id]))
    providers = {o.id: o.name for o in app.settings.organisations}
    moments = []
    for contract, obligation, index, contact in plans:
        framework = loader.get(contract.framework_id)
        period = parse_period(obligation.period_id, contract.year_start_month)
        template = build_template(framework, contract_id=contract.id, contract_name=contract.name,
                                  provider_name=providers[contract.provider_id], period=period)
        for attempt, (days_early, level, overrides) in enumerate(_plan(obligation, index)):
            values = samples.sample_values(framework, obligation.return_type, seed=index, level=level)
            values.update(overrides)
            moments.append((_moment(obligation.due_date - timedelta(days=days_early), zone, 10 + attempt),
                            contract, obligation, contact, fill(template, values, framework), attempt))
    # Replies in the demo are written to the outbox folder, never sent to a mail server or Telegram.
    local = LocalTransport(app.settings.storage.outbox_dir)
    dispatcher = Dispatcher(app.engine, {"email": local, "telegram": local, "local": local}, app.files)
    scheduler = Replay(app, min((c.start for c in app.settings.contracts), default=as_of), notices)  # on the same clock
    for at, contract, obligation, contact, data, attempt in sorted(moments, key=lambda m: (m[0], m[1].id)):
        scheduler.until(at)
        received = Received(channel="email", message_id=f"demo-{contract.id}-{obligation.period_id}-{attempt}",
                            sender=contact.email, filename=f"{contract.id}-{obligation.period_id}.xlsx", data=data,
                            received_at=at, caption="Quarterly monitoring return attached")
        steps.append(Step(contract.id, obligation.period_id, at, app.intake.submit(received)))
        progress(steps[-1])
        app.render_queue.run_once()  # the PDF the reply waits for
        dispatcher.run_once(at)
    scheduler.until(_moment(as_of, zone, 18))
    with Session(app.engine, expire_on_commit=False) as session:  # the statuses are read after it closes
        statuses = [contract_status(session, c, as_of, zone) for c in session.exec(select(Contract).order_by(Contract.id))]
        _write_reports(app, session, _moment(as_of, zone, 9))
        session.commit()
    return steps, statuses


def _write_reports(app: App, session: Session, now: datetime) -> None:
    """The commissioners' exception report, and the latest return report of each contract that has one."""
    folder = Path(app.settings.storage.outbox_dir).parent / "reports"
    folder.mkdir(exist_ok=True)
    pdf, _, _ = render_stored_exception_report(session, app.files, app.settings, None, now)
    (folder / "exception-report.pdf").write_bytes(pdf)
    for contract in session.exec(select(Contract).order_by(Contract.id)):
        latest = session.exec(select(Obligation).where(
            Obligation.contract_id == contract.id, Obligation.first_accepted_at != None)  # noqa: E711
            .order_by(Obligation.due_date.desc())).first()  # type: ignore[attr-defined]
        if latest is not None:
            pdf = render_stored_return_report(session, app.files, app.settings, contract.id, latest.period_id, now)
            (folder / f"{contract.id}-{latest.period_id}.pdf").write_bytes(pdf)
