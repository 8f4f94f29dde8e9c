"""Serving the workspace with uvicorn: on its own (`kpibot web`) or beside the channels on the service's event
loop (`kpibot run` with `[web] enabled = true`), where it is one more channel that starts and stops with it.

Behind a reverse proxy, X-Forwarded-For and X-Forwarded-Proto are believed only from `[web] forwarded_allow_ips`.
`kpibot web` on its own also delivers the outbox (sign-in links go through it) and tidies sign-in messages; under
`kpibot run` the service's own tasks do.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Callable, Generator
from datetime import datetime

import uvicorn

from bot.clock import utc_now
from bot.processes.tasks import Task
from bot.service.parts import Parts
from bot.web.app import create_app
from bot.web.signin import scrub

log = logging.getLogger("kpibot.web")


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handlers: the process that runs it owns SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def config_for(parts: Parts, host: str | None = None, port: int | None = None,
               clock: Callable[[], datetime] = utc_now) -> uvicorn.Config:
    web = parts.settings.web
    return uvicorn.Config(create_app(parts, clock), host=host or web.host, port=port or web.port,
                          proxy_headers=True, forwarded_allow_ips=web.forwarded_allow_ips, log_level="warning",
                          access_log=False, server_header=False, date_header=True, lifespan="off")


class WebChannel:
    """The workspace as a channel of `kpibot run`: started and stopped with the service, on its event loop."""

    name = "web"

    def __init__(self, parts: Parts, host: str | None = None, port: int | None = None) -> None:
        self.server = _Server(config_for(parts, host, port))
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():  # e.g. the port is taken: say so rather than wait for ever
                self.task.result()
                raise RuntimeError("the web workspace stopped as it started (is the port already in use?)")
            await asyncio.sleep(0.05)
        settle_heap()
        config = self.server.config
        log.info("web workspace on http://%s:%s (people open %s)", config.host, config.port,
                 "the [web] base_url address")

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task


def settle_heap() -> None:
    """Collect once, then move everything alive (modules, settings, frameworks, mappers: what the process keeps
    for its whole life) out of the garbage collector's sight. Its full collections then walk only what requests
    made: on the overview of 50 contracts they had paused one request in twenty by 130-150 ms (gc.freeze's own
    advice for long-running servers)."""
    gc.collect()
    gc.freeze()


def web_tasks(parts: Parts) -> list[Task]:
    """What the workspace needs done in the background: sign-in messages emptied of their links once delivered."""
    return [Task("web-links", lambda now: scrub(parts.engine, now), 30)]


async def serve_alone(parts: Parts, host: str, port: int, stop: asyncio.Event,
                      on_started: Callable[[], None] = lambda: None) -> None:
    """`kpibot web`: the workspace, and the outbox delivered every two seconds (sign-in links go through it)."""
    channel = WebChannel(parts, host, port)
    await channel.start()
    on_started()
    dispatcher = parts.dispatcher()
    try:
        while not stop.is_set():
            now = utc_now()
            try:
                await asyncio.to_thread(dispatcher.run_once, now)
                await asyncio.to_thread(scrub, parts.engine, now)
            except Exception:  # noqa: BLE001 - logged; the next round tries again
                log.exception("delivering the outbox from the web workspace failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 2)
    finally:
        await channel.stop()
