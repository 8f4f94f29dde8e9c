"""From which due date the scheduler chases returns, and why.

`[scheduler] chase_from` when it is set (an earlier day is how someone asks kpibot to chase what was due before it
existed); else the day this deployment started, recorded by the first `kpibot init` (bot/storage/deployment.py);
else, for a database an earlier kpibot loaded, every return, as before. Returns due before that day are not
reminded, chased or escalated, never count in a run of late periods, and get no exception report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, func, select

from bot import config
from bot.storage.deployment import started_on
from bot.storage.models import Obligation
from jobs.messages import short_day
from jobs.owed import not_accepted
from jobs.timing import Clock


@dataclass(frozen=True)
class ChaseFrom:
    day: date | None  # None: every return is chased
    why: str  # where the day comes from, for people

    def sentence(self) -> str:
        """`Returns due before 7 December 2026 are not chased (...)`, or that every return is."""
        if self.day is None:
            return ("Every return is chased, however long ago it was due (this database was loaded by a kpibot "
                    "that did not record when it started); set [scheduler] chase_from to leave older ones alone.")
        return f"Returns due before {short_day(self.day)} are not chased ({self.why})."


def chase_from(session: Session, settings: config.Settings) -> ChaseFrom:
    """The day the scheduler chases returns from, and why."""
    if settings.scheduler.chase_from is not None:
        return ChaseFrom(settings.scheduler.chase_from, "[scheduler] chase_from in config.toml")
    day = started_on(session)
    if day is not None:
        return ChaseFrom(day, "the day `kpibot init` first loaded this database; set [scheduler] chase_from to an "
                              "earlier day to chase older returns")
    return ChaseFrom(None, "")


def clock_at(session: Session, now: datetime, settings: config.Settings) -> Clock:
    """The scheduler's clock at `now`, chasing returns from the day `chase_from` says."""
    return Clock.of(now, settings, chase_from(session, settings).day)


def left_alone(session: Session, since: date | None, now: datetime) -> int:
    """How many returns due before `since` have no accepted version by `now` (they are not chased)."""
    if since is None:
        return 0
    return session.exec(select(func.count()).select_from(Obligation).where(
        col(Obligation.due_date) < since, not_accepted(now))).one()
