"""Replay the scheduler over simulated days: what `kpibot run` would have sent, and when, in seconds.

Every notice is due at the start of the sending hours of a working day, so one sweep per working day at that time
sees all of them: the replay runs the notices sweep and the exception reports for each
working day up to a moment, delivers what they queued through the given transports (by default files in the local
outbox folder: no network), and reports each message as it fires. `kpibot demo` interleaves it with the returns it
replays, so each sweep sees exactly what had arrived by its day.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.app import App
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.local import LocalTransport
from bot.outbox.transport import Transport
from bot.storage.models import Contact, OutboxMessage
from jobs.meetings import meeting_sweep
from jobs.reports import report_sweep
from jobs.status import NOTICE_KINDS
from jobs.sweep import sweep
from kpi_core.duedates import is_working_day


@dataclass(frozen=True)
class Fired:
    """A notice the scheduler queued during the replay, with everyone it went to."""

    at: datetime
    kind: str  # reminder | overdue | escalation | report | digest
    key: str  # the notice's key, e.g. reminder:o12:d3
    subject: str  # the email subject, or a Telegram message's first line
    to: tuple[str, ...]  # the recipients' names
    attachment: str | None


class Replay:
    """The scheduler on a simulated clock that only moves forward, from the morning of `first`."""

    def __init__(self, app: App, first: date, progress: Callable[[Fired], None] = lambda fired: None,
                 transports: Mapping[str, Transport] | None = None, reports: bool = True,
                 deliver: bool = True) -> None:
        """`reports`: draw the exception reports (a second or so each); `deliver`: send what is queued."""
        self.app, self.progress, self.day = app, progress, first
        self.reports, self.deliver = reports, deliver
        self.zone = ZoneInfo(app.settings.timezone)
        local = LocalTransport(app.settings.storage.outbox_dir)
        self.dispatcher = Dispatcher(app.engine, transports or {"email": local, "telegram": local, "local": local},
                                     app.files)
        self.seen = 0  # the last outbox message reported
        self.fired: list[Fired] = []

    def sweep_time(self, day: date) -> datetime:
        return datetime.combine(day, self.app.settings.scheduler.send_from, self.zone).astimezone(UTC)

    def until(self, moment: datetime) -> list[Fired]:
        """Run each working day's sweep due by `moment`; return what fired."""
        fired: list[Fired] = []
        while self.sweep_time(self.day) <= moment:
            if is_working_day(self.day):
                fired += self.step(self.sweep_time(self.day))
            self.day += timedelta(days=1)
        return fired

    def step(self, now: datetime) -> list[Fired]:
        """One sweep at `now`, and the delivery of what it queued."""
        app = self.app
        sweep(app.engine, app.settings, app.files, now)
        if self.reports:
            report_sweep(app.engine, app.settings, app.files, now)
            meeting_sweep(app.engine, app.settings, app.files, now)
        with Session(app.engine) as session:
            rows = session.exec(select(OutboxMessage, Contact.name)
                                .outerjoin(Contact, col(Contact.id) == OutboxMessage.contact_id)
                                .where(col(OutboxMessage.id) > self.seen, col(OutboxMessage.kind).in_(NOTICE_KINDS))
                                .order_by(col(OutboxMessage.id))).all()
        notices: dict[str, list[tuple[OutboxMessage, str]]] = {}
        for message, name in rows:  # one per notice: its messages' keys add the recipient and channel
            notices.setdefault(message.dedupe_key.rsplit(":", 2)[0], []).append(
                (message, name or f"{message.address} (Teams)"))
        fired = [Fired(now, sent[0][0].kind, key, sent[0][0].subject or sent[0][0].body_text.split("\n", 1)[0],
                       tuple(name for _, name in sent), sent[0][0].attachment_name) for key, sent in notices.items()]
        self.seen = max([self.seen] + [m.id or 0 for m, _ in rows])
        if self.deliver:
            self.dispatcher.run_once(now, limit=10_000)
        for item in fired:
            self.progress(item)
        self.fired += fired
        return fired
