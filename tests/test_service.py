"""`kpibot run`: the service's tasks, heartbeats and clean shutdown, on a real database."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import sqlalchemy as sa
from intake_fixtures import NOW, received, sample_csv
from sqlmodel import Session, select

from bot import config
from bot.app import App, core_tasks
from bot.intake.service import Intake
from bot.processes.heartbeats import heartbeats
from bot.processes.tasks import Task
from bot.service.loop import Service
from bot.storage.models import OutboxMessage, RenderJob


def test_one_pass_draws_the_pdf_and_delivers_the_reply(intake: Intake, settings: config.Settings) -> None:
    app = App(settings.model_copy(update={"reports": settings.reports.model_copy(update={"attach_pdf": True})}))
    app.__dict__["engine"] = intake.engine
    result = app.intake.submit(received(sample_csv(), caption="2025-26-Q2", channel="cli"))  # the local channel
    assert result.outcome == "accepted"
    clock = [NOW + timedelta(minutes=1)]
    # The scheduler's own tasks (jobs/) would queue the day's reminders too: tested in tests/test_scheduler*.py.
    service = Service(app, tasks=core_tasks(app),
                      clock=lambda: clock[0])
    done = service.run_once()
    assert done["render"] == 1 and done["outbox"] == 1
    with Session(app.engine) as session:
        assert session.exec(select(RenderJob)).one().status == "done"
        assert session.exec(select(OutboxMessage)).one().status == "sent"
    beats = heartbeats(app.engine)
    assert set(beats) == {"resume", "render", "outbox", "purge"} and beats["outbox"].at == clock[0]
    clock[0] += timedelta(minutes=5)
    assert service.run_once()["outbox"] == 0  # nothing twice
    assert heartbeats(app.engine)["outbox"].at == clock[0]
    app.close()


def test_a_failing_task_is_logged_and_the_others_go_on(engine: sa.Engine, settings: config.Settings) -> None:
    app = App(settings)
    app.__dict__["engine"] = engine

    def broken(now: datetime) -> int:
        raise RuntimeError("boom")

    ran: list[datetime] = []
    service = Service(app, tasks=[Task("broken", broken, 1), Task("fine", lambda now: ran.append(now) or 1, 1)],
                      clock=lambda: NOW)
    assert service.run_once() == {"broken": -1, "fine": 1}
    assert ran == [NOW] and heartbeats(engine)["broken"].detail == {"found": -1}


def test_the_service_serves_its_tasks_until_told_to_stop(engine: sa.Engine, settings: config.Settings) -> None:
    app = App(settings)
    app.__dict__["engine"] = engine
    stop = asyncio.Event()

    async def main() -> None:
        loop = asyncio.get_running_loop()

        def once(now: datetime) -> int:
            loop.call_soon_threadsafe(stop.set)  # the task's first run (in a worker thread) ends the service
            return 1

        await asyncio.wait_for(Service(app, tasks=[Task("once", once, 3600)]).serve(stop), timeout=60)

    asyncio.run(main())
    assert "once" in heartbeats(engine)
