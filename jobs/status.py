"""What `kpibot status` says about the scheduler: when its sweep last ran, so a stopped scheduler is visible."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot import config
from bot.storage.models import Heartbeat, OutboxMessage
from jobs.chase import chase_from
from kpi_core.formatting import ago, plural

SWEEP = "sweep"  # the task (and heartbeat) name of the notices sweep
NOTICE_KINDS = ("reminder", "overdue", "escalation", "report", "digest", "query_reminder", "query_overdue",
                "meeting")


def scheduler_lines(engine: sa.Engine, settings: config.Settings, now: datetime) -> list[str]:
    """One or two lines: the last sweep (and a warning when it is overdue), and the notices waiting to be sent."""
    with Session(engine) as session:
        beat = session.get(Heartbeat, SWEEP)
        waiting = session.exec(select(func.count()).select_from(OutboxMessage).where(
            col(OutboxMessage.kind).in_(NOTICE_KINDS), col(OutboxMessage.status) == "pending")).one()
    if beat is None:
        return ["Scheduler: has never run on this database; reminders, overdue notices, escalations and reports "
                "go out only while `kpibot run` is running (`kpibot run --dry-run` shows what it would send)."]
    at = beat.at.astimezone(ZoneInfo(settings.timezone))
    found = beat.detail.get("found")
    what = "failed (see the service's log)" if found == -1 else f"queued {plural(int(found or 0), 'message')}"
    lines = [f"Scheduler: last sweep {ago(now - beat.at)} ({at:%d %b %Y %H:%M}, {beat.owner}), {what}; "
             f"{plural(waiting, 'notice')} waiting to be sent."]
    if now - beat.at > timedelta(seconds=3 * settings.scheduler.sweep_seconds + 60):
        lines.append(f"WARNING: the scheduler should sweep every {settings.scheduler.sweep_seconds} seconds and "
                     "has not: is `kpibot run` running?")
    return lines


def chasing_line(engine: sa.Engine, settings: config.Settings) -> str:
    """From which due date returns are chased, and why (jobs/chase.py)."""
    with Session(engine) as session:
        return f"Scheduler: {chase_from(session, settings).sentence()}"
