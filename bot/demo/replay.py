"""`kpibot demo`: a year of monitoring on the embedded database, with no accounts or tokens.

1. Make the demo folder, or empty one an earlier demo made (it holds MARKER; any other folder with files in it
   is refused, never emptied), start a fresh SQLite database there and load config.toml (the example council).
2. Replay a year of returns through the one intake, with a simulated clock: each provider fills in the workbook
   kpibot generates; most arrive on time, one late, one rejected and then corrected, one never arrives.
   The council reviews them on the same clock (council.py): it queries one return, which the provider corrects,
   signs off the rest, and confirms the year's payment by results at the end.
   The scheduler runs on the same clock (simulate.py): its reminders, overdue notices, escalations and
   exception reports fire on their days and go to the outbox folder with the replies.
3. Deliver the replies through the local channel (files in the demo folder; each Teams card as the JSON it would
   be posted as, for every [[teams]] entry, with no tenant needed), print where every contract stands,
   and write the commissioners' exception report, each contract's latest return report and the queried return's
   report as PDFs, with the review history, and the pack for the lifestyle contract's next performance meeting.
"""

from __future__ import annotations

import heapq
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot import config
from bot.app import App
from bot.assessment.contract_status import ContractStatus, contract_status
from bot.assessment.in_context import terms_of
from bot.channels.teams.folder import TeamsFolder
from bot.demo.council import QUERIED, Council, Later
from bot.demo.simulate import Fired, Replay
from bot.intake.received import IntakeResult, Received
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.local import LocalTransport
from bot.outbox.transport import Transport
from bot.reports.meeting_stored import meeting_day, render_stored_meeting_pack
from bot.reports.stored import ReportError, render_stored_exception_report, render_stored_return_report
from bot.storage.models import Contact, Contract, Obligation
from bot.workbooks.fill import fill
from bot.workbooks.template import build_template
from kpi_core import loader, sample_comparators, samples
from kpi_core.calendar import parse_period
from kpi_core.framework.model import Framework
from kpi_core.sample_breakdowns import resplit
from kpi_core.sample_rules import keep_rules
from kpi_core.values import Key

AS_OF = date(2026, 5, 20)  # after the 2025-26 financial year's last quarterly return
MARKER = ".kpibot-demo"  # in every folder the demo made: only such a folder is ever emptied
Plan = tuple[Contract, Obligation, int, Contact]  # a return the demo sends: contract, period owed, its index, sender


class DemoFolderError(ValueError):
    """The demo folder cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class Step:
    contract_id: str
    period_id: str
    received_at: datetime
    result: IntakeResult


def demo_settings(settings: config.Settings, folder: Path) -> config.Settings:
    storage = settings.storage.model_copy(update={"database_url": f"sqlite:///{folder / 'kpibot.db'}",
                                                  "files_dir": folder / "files", "outbox_dir": folder / "outbox"})
    # Every Teams channel is on (its cards go to the folder), whatever the environment holds: never the real URL.
    urls = {t.name: f"https://teams.invalid/demo/{t.name}" for t in settings.teams}
    # The replay is a year of kpibot running since the contracts began, so it chases from their start (a real
    # deployment chases from the day it was set up, unless chase_from says otherwise).
    first = min((c.start for c in settings.contracts), default=None)
    scheduler = settings.scheduler.model_copy(update={"chase_from": settings.scheduler.chase_from or first})
    return settings.model_copy(update={"storage": storage, "scheduler": scheduler, "teams_urls": urls})


def _moment(day: date, zone: str, hour: int = 11) -> datetime:
    return datetime.combine(day, time(hour), ZoneInfo(zone)).astimezone(UTC)


def _plan(obligation: Obligation, index: int) -> list[tuple[int, float, dict[tuple[str, str], Fraction]]]:
    """(days before the due date, performance level, overrides) for each submission of an obligation."""
    level = 0.92 if index % 3 else 0.7  # every third return under-performs, so reds and ambers show
    if obligation.contract_id == "ch-stop-smoking" and index == 2:
        return [(-6, level, {})]  # six days late
    if obligation.contract_id == "solihull-stop-smoking" and index == 1:
        return [(4, level, {("quit_dates", ""): Fraction(-12)}), (1, level, {})]  # rejected, then corrected
    if obligation.contract_id == "ch-substance-misuse" and index == 3:
        return []  # never arrives
    return [(3, level, {})]


def _counted_once(framework: Framework, return_id: str, values: dict[Key, Fraction]) -> dict[Key, Fraction]:
    """The queried return corrected as the council's query asks: the 4-week quitters counted twice taken out
    (about one in twelve), the breakdowns and the rules kept."""
    corrected = dict(values)
    quits = ("quits_4wk", "")
    corrected[quits] -= max(Fraction(3), Fraction(int(corrected[quits] / 12)))
    resplit(framework, corrected, "quits_4wk")
    keep_rules(framework, return_id, corrected, 1.0)
    return corrected


def prepare(folder: Path) -> None:
    """Make `folder` an empty demo folder: create it, use it if empty, or empty it if an earlier demo made it.

    Anything else is refused: `kpibot demo --dir .` in a checkout must never delete the user's files."""
    if folder.exists() and not folder.is_dir():
        raise DemoFolderError(f"{folder} is a file, not a folder; choose a new folder, e.g. --dir var/demo")
    if folder.is_dir() and any(folder.iterdir()):
        if not (folder / MARKER).is_file():
            raise DemoFolderError(f"{folder} already holds files and was not made by `kpibot demo`, which only "
                                  "empties folders it made; choose a new or empty folder, e.g. --dir var/demo")
        for entry in folder.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            elif entry.name != MARKER:
                entry.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("Made by `kpibot demo`: running the demo again empties this folder.\n",
                                 encoding="utf-8")


def run(settings: config.Settings, folder: Path, as_of: date = AS_OF,
        progress: Callable[[Step], None] = lambda step: None,
        notices: Callable[[Fired], None] = lambda fired: None,
        write_reports: bool = True,
        reviewed: Callable[[datetime, str], None] = lambda at, text: None) -> tuple[list[Step], list[ContractStatus]]:
    """Replay the year into `folder`; `write_reports` also writes the PDF reports of step 3; `reviewed` hears each
    of the council's review acts."""
    prepare(folder)
    app = App(demo_settings(settings, folder))
    try:
        return _replay(app, settings.timezone, as_of, progress, notices, write_reports, reviewed)
    finally:
        app.close()


def _replay(app: App, zone: str, as_of: date, progress: Callable[[Step], None],
            notices: Callable[[Fired], None], write_reports: bool,
            reviewed: Callable[[datetime, str], None]) -> tuple[list[Step], list[ContractStatus]]:
    app.init(_moment(as_of, zone))
    council = Council(app, zone, reviewed)
    steps: list[Step] = []
    with Session(app.engine) as session:
        submitters = {c.organisation_id: c for c in session.exec(
            select(Contact).where(Contact.role == "provider_submitter").order_by(col(Contact.id)))}
        plans: list[Plan] = []
        for contract in session.exec(select(Contract).order_by(Contract.id)):
            obligations = session.exec(select(Obligation).where(
                Obligation.contract_id == contract.id, Obligation.return_type == "quarterly",
                Obligation.due_date <= as_of).order_by(col(Obligation.due_date))).all()
            for index, obligation in enumerate(obligations):
                plans.append((contract, obligation, index, submitters[contract.provider_id]))
    providers = {o.id: o.name for o in app.settings.organisations}
    moments = []
    corrections = {}  # the provider's corrected file for the return the council queries
    _load_benchmarks(app, plans, _moment(as_of, zone))
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
        if (contract.id, obligation.period_id) == QUERIED:  # the figures as they should have been
            corrections[QUERIED] = (contract, obligation, contact,
                                    fill(template, _counted_once(framework, obligation.return_type, values), framework),
                                    9)
    # Replies in the demo are written to the outbox folder, never sent to a mail server or Telegram.
    local = LocalTransport(app.settings.storage.outbox_dir)
    transports: dict[str, Transport] = {"email": local, "telegram": local, "local": local,
                                        "teams": TeamsFolder(app.settings.storage.outbox_dir)}
    dispatcher = Dispatcher(app.engine, transports, app.files)
    scheduler = Replay(app, min((c.start for c in app.settings.contracts), default=as_of), notices,
                       transports)  # on the same clock
    # One timeline: the providers' returns and the council's review acts, in the order they happen.
    timeline: list[tuple[datetime, int, object]] = []
    for at, contract, obligation, contact, data, attempt in sorted(moments, key=lambda m: (m[0], m[1].id)):
        heapq.heappush(timeline, (at, len(timeline), (contract, obligation, contact, data, attempt)))
    for later in council.year_end(as_of):
        heapq.heappush(timeline, (later.at, len(timeline) + 10_000, later))
    count = len(timeline) + 10_000
    while timeline:
        at, _, item = heapq.heappop(timeline)
        scheduler.until(at)
        if isinstance(item, Later) and item.what == "correct":  # the provider answers with a corrected file
            heapq.heappush(timeline, (item.at, count, corrections[(item.contract_id, item.period_id)]))
            count, follows = count + 1, []
        elif isinstance(item, Later):
            follows = council.act(item)
        else:
            contract, obligation, contact, data, attempt = item  # type: ignore[misc]
            received = Received(channel="email", message_id=f"demo-{contract.id}-{obligation.period_id}-{attempt}",
                                sender=contact.email, filename=f"{contract.id}-{obligation.period_id}.xlsx",
                                data=data, received_at=at, caption="Quarterly monitoring return attached")
            steps.append(Step(contract.id, obligation.period_id, at, app.intake.submit(received)))
            progress(steps[-1])
            follows = council.after(steps[-1].result, contract, at)
        for later in follows:
            heapq.heappush(timeline, (later.at, count, later))
            count += 1
        dispatcher.run_once(at)  # Telegram-style texts at once; emailed replies wait for their PDFs
    scheduler.until(_moment(as_of, zone, 18))
    app.render_queue.run_once(limit=len(steps))  # the replies' PDFs, as many at once as there are cores
    dispatcher.run_once(_moment(as_of, zone, 18))
    with Session(app.engine, expire_on_commit=False) as session:  # the statuses are read after it closes
        statuses = [contract_status(session, c, as_of, zone, terms_of(app.settings, c))
                    for c in session.exec(select(Contract).order_by(Contract.id))]
        if write_reports:
            _write_reports(app, session, _moment(as_of, zone, 9))
            session.commit()
    return steps, statuses


def _load_benchmarks(app: App, plans: list[Plan], now: datetime) -> None:
    """The commissioner loads each period's national and regional figures (illustrative ones in the demo)."""
    from bot.assessment.comparators import save_benchmarks
    from kpi_core.comparators import Benchmark

    loaded = []
    for contract, obligation, index, _ in plans:
        framework = loader.get(contract.framework_id)
        for (item, breakdown), value in sample_comparators.sample_benchmarks(framework, obligation.return_type, index).items():
            loaded.append(Benchmark(framework.id, obligation.period_id, item, breakdown, value,
                                    "Illustrative national figures (demo)", obligation.period_end))
    if loaded:
        with Session(app.engine) as session:
            save_benchmarks(session, loaded, now, "demo-benchmarks.csv")
            session.commit()


def _write_reports(app: App, session: Session, now: datetime) -> None:
    """The commissioners' exception report, the latest return report of each contract that has one, and the report
    of the return the council queried (its review history shows the query and the correction). They are drawn
    anew: the reports drawn for the replies were drawn before the council reviewed the returns."""
    folder = Path(app.settings.storage.outbox_dir).parent / "reports"
    folder.mkdir(exist_ok=True)
    pdf, _, _ = render_stored_exception_report(session, app.files, app.settings, None, now)
    (folder / "exception-report.pdf").write_bytes(pdf)
    wanted = [QUERIED]
    for contract in session.exec(select(Contract).order_by(Contract.id)):
        latest = session.exec(select(Obligation).where(
            Obligation.contract_id == contract.id, Obligation.first_accepted_at != None)  # noqa: E711
            .order_by(col(Obligation.due_date).desc())).first()
        if latest is not None and (contract.id, latest.period_id) not in wanted:
            wanted.append((contract.id, latest.period_id))
    for contract_id, period_id in wanted:
        try:
            pdf = render_stored_return_report(session, app.files, app.settings, contract_id, period_id, now)
        except ReportError:  # a demo run to an earlier date: the queried return has not arrived yet
            continue
        (folder / f"{contract_id}-{period_id}.pdf").write_bytes(pdf)
    _write_meeting_pack(app, session, folder, now)


def _write_meeting_pack(app: App, session: Session, folder: Path, now: datetime) -> None:
    """The pack for the next performance meeting of each contract whose schedule sets one (the lifestyle contract's:
    its latest return, the last meeting's notes and agreed actions, its plans and the request still outstanding)."""
    for contract in session.exec(select(Contract).order_by(Contract.id)):
        latest = session.exec(select(Obligation).where(
            Obligation.contract_id == contract.id, Obligation.return_type == "quarterly",
            Obligation.due_date <= now.date()).order_by(col(Obligation.due_date).desc())).first()
        if latest is None or meeting_day(app.settings, contract, parse_period(latest.period_id,
                                                                               contract.year_start_month),
                                         latest.return_type) is None:
            continue
        _, pdf = render_stored_meeting_pack(session, app.files, app.settings, contract.id, latest.period_id, now)
        (folder / f"meeting-pack-{contract.id}-{latest.period_id}.pdf").write_bytes(pdf)
