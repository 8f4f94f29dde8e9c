"""The scheduler's tasks for `kpibot run`: the notices sweep and the exception reports, every few minutes (the run
loop, bot/service/loop.py, runs each on one APScheduler interval job)."""

from __future__ import annotations

import sqlalchemy as sa

from bot import config
from bot.processes.tasks import Task
from bot.storage.files import FileStore
from jobs.evidence import open_evidence
from jobs.meetings import meeting_sweep
from jobs.reports import report_sweep
from jobs.status import SWEEP
from jobs.sweep import sweep


def scheduler_tasks(engine: sa.Engine, settings: config.Settings, files: FileStore) -> list[Task]:
    """The notices sweep, the exception reports, the meeting packs and the evidence documents to ask for, every
    `[scheduler] sweep_seconds`."""
    every = settings.scheduler.sweep_seconds
    return [
        Task(SWEEP, lambda now: sweep(engine, settings, files, now), every),
        Task("reports", lambda now: report_sweep(engine, settings, files, now), every),
        Task("meetings", lambda now: meeting_sweep(engine, settings, files, now), every),
        Task("evidence", lambda now: open_evidence(engine, settings, now), every),
    ]
