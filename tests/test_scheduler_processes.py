"""The scheduler under real processes, on SQLite and PostgreSQL: two schedulers on one database, and a scheduler
SIGKILLed mid-year and restarted, each queue every notice of the year exactly once.

The returns of the April-start year are in the database first (the sweep judges "accepted" as of its own `now`,
so they count only from the moment they arrived); then forked processes replay the year's sweeps, exception
reports included, each with its own database connections.
"""

from __future__ import annotations

import os
import random
import signal
import time
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from scheduler_fixtures import (
    APRIL_END,
    APRIL_RETURNS,
    APRIL_START,
    CAROL,
    CH_STOP_SMOKING,
    app_on,
    april_year_expected,
    at,
    brief,
    notices,
    received,
    return_file,
    scheduler_deployment,
)
from sqlmodel import Session, col, func, select
from test_intake_concurrency import in_child, wait_all

from bot import config
from bot.app import App
from bot.demo.simulate import Replay
from bot.storage.models import Notice, OutboxMessage

REPORT_DEADLINES = ["2021-07-15", "2021-10-15", "2022-01-15", "2022-04-15"]
# The schedulers start on 1 September (a shorter year, for speed): July's exception report is caught up then.
FIRST = date(2021, 9, 1)


def year_with_returns(engine: sa.Engine, tmp_path: Path) -> tuple[config.Settings, str]:
    """The deployment with the year's returns received; returns the settings and the database URL."""
    url = str(engine.url.render_as_string(hide_password=False))
    settings = scheduler_deployment(tmp_path, url, CH_STOP_SMOKING)
    app = app_on(settings, engine, APRIL_START)
    for n, (sender, framework, return_type, period, day, good) in enumerate(APRIL_RETURNS):
        app.intake.submit(received(sender, return_file(framework, return_type, seed=n, good=good), period, at(day),
                                   f"m{n}"))
    engine.dispose()  # no connection crosses a fork
    return settings, url


class Tracked(Replay):
    """A replay that writes the day of each sweep to `progress_file` before running it."""

    def __init__(self, app: App, first: date, progress_file: Path) -> None:
        super().__init__(app, first, deliver=False)
        self.progress_file = progress_file

    def step(self, now):  # type: ignore[no-untyped-def]
        partial = self.progress_file.with_suffix(".partial")  # a kill never leaves half a date
        partial.write_text(now.date().isoformat())
        partial.replace(self.progress_file)
        return super().step(now)


def scheduler_process(settings: config.Settings, first: date, progress_file: Path):  # type: ignore[no-untyped-def]
    def work() -> None:
        app = App(settings)  # its own engine and connections
        Tracked(app, first, progress_file).until(at(APRIL_END, 18))
        app.close()
    return work


def assert_the_year_queued_once(engine: sa.Engine) -> None:
    assert brief(notices(engine)) == [n for n in april_year_expected() if n[0] >= FIRST]
    with Session(engine) as session:
        keys = session.exec(select(OutboxMessage.dedupe_key).where(col(OutboxMessage.kind) != "reply")).all()
        assert len(keys) == len(set(keys))
        reports = session.exec(select(OutboxMessage.dedupe_key).where(OutboxMessage.kind == "report")).all()
        decisions = session.exec(select(func.count()).select_from(Notice).where(col(Notice.outbox_id).is_(None))).one()
        linked = session.exec(select(func.count()).select_from(Notice).where(col(Notice.outbox_id).is_not(None))).one()
    assert [key.split(":")[3] for key in sorted(reports)] == REPORT_DEADLINES  # each to Carol, once
    assert linked == len(keys)  # every message has its notice, and every notice its message
    assert decisions > 0


@pytest.mark.long
def test_two_schedulers_on_one_database_queue_each_notice_once(engine: sa.Engine, tmp_path: Path) -> None:
    settings, _ = year_with_returns(engine, tmp_path)
    pids = [in_child(scheduler_process(settings, FIRST, tmp_path / f"progress-{n}")) for n in range(2)]
    assert wait_all(pids) == [0, 0]
    assert_the_year_queued_once(engine)
    assert all(n.to == CAROL for n in notices(engine, ("report", "digest")))


@pytest.mark.long
def test_a_scheduler_killed_mid_year_and_restarted_loses_and_repeats_nothing(engine: sa.Engine,
                                                                            tmp_path: Path) -> None:
    """SIGKILL at random moments (mid-sweep, mid-transaction, while drawing a report); each restart resumes at the
    day the killed process was sweeping, as a restarted `kpibot run` would with the real clock."""
    settings, _ = year_with_returns(engine, tmp_path)
    rng = random.Random(8)
    progress = tmp_path / "progress"
    first, kills, longest = FIRST, 0, 1.2
    while True:
        pid = in_child(scheduler_process(settings, first, progress))
        time.sleep(rng.uniform(0.2, longest))  # a random point in its life, not a wait for anything
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            break
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        kills += 1
        before, first = first, date.fromisoformat(progress.read_text()) if progress.exists() else first
        # A day whose work outlasts every life (a meeting pack drawn on a busy machine) would be killed for ever:
        # a life that did not get past its first day lives longer next time, up to a minute; one that did, resets.
        longest = min(longest * 2, 60.0) if first == before else 1.2
    assert kills >= 3, "the year finished before it could be killed often enough"
    assert_the_year_queued_once(engine)
