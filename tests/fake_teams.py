"""A fake Power Automate Workflows webhook on 127.0.0.1, for the real httpx client of the Teams transport.

It answers as the "Post to a channel when a webhook request is received" trigger does: 202 Accepted with an empty
body by default. A test queues other answers, one per request in order: any status with headers and a Workflows
error body (200, 400, 404, 410, 413, 429 with Retry-After, 500, 502...), a slow answer, no answer at all (held until
the server stops, so the client's read timeout fires), or the connection closed after the request was read. Every
request is recorded with what it was answered, so a test can count the cards that reached the channel.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from services import free_port

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")  # httpx honours proxy variables: never for the fake
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")

PATH = "/workflows/0f1e2d3c4b5a/triggers/manual/paths/invoke"
SIGNATURE = "s3cretSIGNATUREvalue0123456789"


@dataclass(frozen=True)
class Answer:
    """How the fake answers one request: a status (with headers and body), after `delay` seconds; or `hold`
    (never answer); or `close` (cut the connection once the request is read)."""

    status: int = 202
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    delay: float = 0.0
    hold: bool = False
    close: bool = False


def error(status: int, code: str, **headers: str) -> Answer:
    """An error as Workflows words it: `{"error": {"code": ..., "message": ...}}`."""
    body = json.dumps({"error": {"code": code, "message": f"The request failed: {code}."}})
    return Answer(status, {"Content-Type": "application/json", **headers}, body)


@dataclass
class Post:
    path: str
    query: dict[str, str]
    content_type: str
    body: bytes
    answered: str  # "202", "429", "held", "closed"

    @property
    def payload(self) -> dict[str, Any]:
        return json.loads(self.body)

    @property
    def card(self) -> dict[str, Any]:
        """The Adaptive Card the message carried."""
        [attachment] = self.payload["attachments"]
        return attachment["content"]

    @property
    def delivered(self) -> bool:
        """Taken by the workflow: it posts the card to the channel."""
        return self.answered.isdigit() and 200 <= int(self.answered) < 300


class FakeWorkflows:
    def __init__(self) -> None:
        self.port = free_port()
        self.posts: list[Post] = []
        self.answers: dict[str, list[Answer]] = {}  # by path: queued answers, used in order
        self._lock = threading.Lock()
        self._stopping: asyncio.Event | None = None

    def url(self, path: str = PATH) -> str:
        """A webhook URL shaped like a real one: the signature in the query is the credential."""
        return (f"http://127.0.0.1:{self.port}{path}?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun"
                f"&sv=1.0&sig={SIGNATURE}")

    def answer(self, *answers: Answer, path: str = PATH) -> None:
        """Answer the next requests to `path` so, in order (then 202 again)."""
        with self._lock:
            self.answers.setdefault(path, []).extend(answers)

    def delivered(self, path: str = PATH) -> list[Post]:
        """The posts the workflow took (their cards are in the channel)."""
        return [p for p in self.posts if p.path == path and p.delivered]

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        with self._lock:
            queued = self.answers.get(request.path, [])
            answer = queued.pop(0) if queued else Answer()
        post = Post(request.path, dict(request.query), request.headers.get("Content-Type", ""), body, "")
        if answer.close:
            post.answered = "closed"
            self.posts.append(post)
            assert request.transport is not None
            request.transport.abort()  # read, then cut off: the client gets no answer
            raise asyncio.CancelledError
        if answer.hold:
            post.answered = "held"
            self.posts.append(post)
            assert self._stopping is not None
            await self._stopping.wait()
            return web.Response(status=202)
        if answer.delay:
            await asyncio.sleep(answer.delay)
        post.answered = str(answer.status)
        self.posts.append(post)
        return web.Response(status=answer.status, headers=answer.headers, text=answer.body)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app


@contextmanager
def running_fake_workflows() -> Iterator[FakeWorkflows]:
    """Serve a FakeWorkflows in a background thread for the duration of the block."""
    fake = FakeWorkflows()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner = web.AppRunner(fake.app(), access_log=None)  # the fake's own log would show the URL it was sent

    def serve() -> None:
        asyncio.set_event_loop(loop)
        fake._stopping = asyncio.Event()
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", fake.port).start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield fake
    finally:
        loop.call_soon_threadsafe(fake._stopping.set)  # type: ignore[union-attr]
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
