"""`kpibot run --dry-run`: what the next sweep would send, to whom and why, queueing nothing.

It asks the sweep's own decision code (jobs/sweep.py `planned`, jobs/reports.py `planned_reports`) at the moment
the next sweep would queue anything: now, inside the sending hours, or else when they next begin. So what it shows
is what `kpibot run` would queue then, not a second reading of the rules. It may bring the returns owed up to date
(as `kpibot init` does) and keep a reminder's workbook in the file store, but records no notice and queues nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from bot import config
from bot.storage.files import FileStore
from bot.storage.models import ServiceFailureRow
from jobs.chase import ChaseFrom, chase_from, left_alone
from jobs.meetings import planned_packs
from jobs.messages import day_text, short_day
from jobs.queueing import Decision
from jobs.reports import planned_reports
from jobs.sweep import planned
from jobs.timing import Clock, next_sending
from kpi_core.formatting import plural

KIND = {"reminder": "Reminder", "overdue": "Overdue notice", "ladder": "Escalation", "digest": "Weekly digest",
        "report": "Exception report", "meeting": "Meeting pack"}


@dataclass(frozen=True)
class Preview:
    now: datetime
    at: datetime  # the sweep previewed: `now`, or when the sending hours next begin
    chase: ChaseFrom
    left_alone: int  # returns due before the chase day with no accepted version
    decisions: tuple[Decision, ...]  # those that send something or record a service failure

    @property
    def messages(self) -> int:
        return sum(len(d.outgoing) for d in self.decisions)


def preview(engine: sa.Engine, settings: config.Settings, files: FileStore, now: datetime) -> Preview:
    """What the next sweep would queue, found by the sweep's own code, with nothing queued."""
    at = next_sending(Clock.of(now, settings))
    found = [*planned(engine, settings, files, at), *planned_reports(engine, settings, at),
             *planned_packs(engine, settings, at)]
    with Session(engine) as session:
        chase = chase_from(session, settings)
        alone = left_alone(session, chase.day, at)
    shown = tuple(d for d in found if d.outgoing or _records_failure(d))
    return Preview(now, at, chase, alone, shown)


def lines(p: Preview, settings: config.Settings) -> list[str]:
    """The preview for a person: when, what is left alone and why, then each notice with its recipients."""
    zone = ZoneInfo(settings.timezone)
    when = p.at.astimezone(zone)
    moment = f"{when:%H:%M} on {day_text(when.date())}"
    if p.at == p.now:
        out = [f"Dry run: nothing is queued or sent. A sweep now ({moment}) would queue "
               f"{plural(p.messages, 'message')}."]
    else:
        s = settings.scheduler
        out = [f"Dry run: nothing is queued or sent. Notices go out on working days from {s.send_from:%H:%M} to "
               f"{s.send_until:%H:%M}, so the next sweep that may send is at {moment}; it would queue "
               f"{plural(p.messages, 'message')}."]
    out += ["", p.chase.sentence()]
    if p.left_alone and p.chase.day is not None:
        out.append(f"{plural(p.left_alone, 'return')} due before {short_day(p.chase.day)} with nothing accepted "
                   f"{'is' if p.left_alone == 1 else 'are'} left alone: no reminder, overdue notice, escalation or "
                   "exception report.")
    for decision in p.decisions:
        out += ["", f"{KIND.get(decision.kind, decision.kind)}: {decision.why}."]
        if _records_failure(decision):
            out.append("  It records a service failure against the contract.")
        for o in decision.outgoing:
            r = o.recipient
            subject = f": \"{o.message.subject}\"" if o.message.subject else ""
            out.append(f"  to {r.name} ({r.role.replace('_', ' ')}) by {r.channel}, {r.address}{subject}")
    return out


def _records_failure(decision: Decision) -> bool:
    return any(model is ServiceFailureRow for model, _ in decision.rows)
