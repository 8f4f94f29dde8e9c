"""The scheduler's tasks for `kpibot run` (bot/service.py runs each on one APScheduler interval job)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jobs.reports import report_sweep
from jobs.status import SWEEP
from jobs.sweep import sweep

if TYPE_CHECKING:
    from bot.app import App
    from bot.service import Task


def scheduler_tasks(app: App) -> list[Task]:
    """The notices sweep and the exception reports, every few minutes."""
    from bot.service import Task

    every = app.settings.scheduler.sweep_seconds
    return [
        Task(SWEEP, lambda now: sweep(app.engine, app.settings, app.files, now), every),
        Task("reports", lambda now: report_sweep(app.engine, app.settings, app.files, now), every),
    ]
