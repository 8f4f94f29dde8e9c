"""`kpibot run`: one long-running process for the whole service.

It runs the periodic tasks it is given (bot/app.py chooses them: resume interrupted submissions, draw PDFs, deliver
the outbox, purge restricted files, and the scheduler's sweeps of reminders, overdue notices, escalations and
reports) from one APScheduler (jobs/scheduler.py), and each configured channel (Telegram when a token is set,
email when a mailbox is set) on the same asyncio loop. Everything a task does is decided from the database, so a
restart, or a second process on the same PostgreSQL database, neither repeats nor loses work. Each task records a
heartbeat, so `kpibot status` shows when it last ran and a stopped service is visible.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.clock import utc_now
from bot.processes.heartbeats import beat
from bot.processes.tasks import Channel, Task
from bot.service.parts import Parts
from bot.storage.db import retrying
from jobs.scheduler import build_scheduler

log = logging.getLogger("kpibot.service")
STOP_WAIT_TICKS = 1200  # at most a minute's wait for running tasks at shutdown


class Service:
    def __init__(self, app: Parts, tasks: Sequence[Task], channels: Sequence[Channel] = (),
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.app = app
        self.tasks = list(tasks)
        self.channels = list(channels)
        self.clock = clock
        self._busy = 0  # tasks running now (in the scheduler's threads)
        self._busy_lock = threading.Lock()

    def tick(self, task: Task) -> int:
        """Run one task now, record its heartbeat, and never let its fault stop the service."""
        with self._busy_lock:
            self._busy += 1
        try:
            return self._tick(task)
        finally:
            with self._busy_lock:
                self._busy -= 1

    def _tick(self, task: Task) -> int:
        now = self.clock()
        try:
            found = task.run(now)
        except Exception:  # noqa: BLE001 - logged; the next tick tries again
            log.exception("task %s failed", task.name)
            found = -1
        try:
            retrying(lambda: beat(self.app.engine, task.name, now, {"found": found}))
        except Exception:  # noqa: BLE001 - a heartbeat must not take the task down
            log.exception("recording the %s heartbeat failed", task.name)
        if found > 0:
            log.info("%s: %d done", task.name, found)
        return found

    def run_once(self) -> dict[str, int]:
        """Each task once, in order (`kpibot run --once`, e.g. from cron)."""
        return {task.name: self.tick(task) for task in self.tasks}

    async def serve(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set: the tasks on the scheduler, the channels on this loop."""
        scheduler = build_scheduler(self.tasks, self.tick, ZoneInfo(self.app.settings.timezone), self.clock())
        for channel in self.channels:
            await channel.start()
            log.info("channel %s started", channel.name)
        scheduler.start()
        log.info("kpibot running: %s; channels: %s", ", ".join(t.name for t in self.tasks),
                 ", ".join(c.name for c in self.channels) or "none (command line only)")
        try:
            await stop.wait()
        finally:
            log.info("stopping")
            scheduler.pause()  # no new runs; the ones under way finish (a send is never cut off mid-way)
            for _ in range(STOP_WAIT_TICKS):
                if not self._busy:
                    break
                await asyncio.sleep(0.05)
            scheduler.shutdown(wait=False)
            for channel in reversed(self.channels):
                try:
                    await channel.stop()
                except Exception:  # noqa: BLE001 - stop the others regardless
                    log.exception("stopping channel %s failed", channel.name)
            log.info("stopped")

    def run_forever(self) -> None:
        """Serve until SIGTERM or SIGINT, then stop cleanly."""
        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            await self.serve(stop)

        asyncio.run(main())
