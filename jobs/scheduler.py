"""The only APScheduler wiring in kpibot: one interval job per service task, nothing else.

APScheduler only triggers; it holds no business state. What is due (reminders, overdue notices, escalations,
reports, messages, drawings) lives in the database and every task is an idempotent sweep over it, so the job store
is the in-memory one: a restart loses nothing, and two processes on one database do not double anything.
(APScheduler 3.x: `coalesce` collapses a backlog into one run, `max_instances=1` never overlaps a task with itself,
`misfire_grace_time=None` never skips a late run, and the zone is London's, not the host's.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.processes.tasks import Task


def build_scheduler(tasks: Sequence[Task], tick: Callable[[Task], object], zone: ZoneInfo,
                    start: datetime) -> AsyncIOScheduler:
    """An asyncio scheduler calling `tick(task)` for each task at its interval, the first time at `start` (sync
    calls run in the scheduler's threads)."""
    scheduler = AsyncIOScheduler(timezone=zone, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": None})
    for task in tasks:
        scheduler.add_job(tick, "interval", args=[task], seconds=task.every_seconds, id=task.name,
                          name=task.name, next_run_time=start.astimezone(zone))
    return scheduler
