"""ASGI guards around the workspace: a cap on request bodies (before anything buffers them), security headers on
every response, and a sliding-window limit on sign-in requests per client address."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                 b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),  # a sign-in link's token is in its path: never pass it on
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
NO_STORE = (b"cache-control", b"no-store")  # pages hold people's figures: never kept by a shared cache


class TooLarge(Exception):
    """The request body passed the cap while it was being read."""


class Guard:
    """Refuse bodies over `max_body` bytes with `refuse` (by Content-Length at once, or as they stream in), and add
    the security headers to every response."""

    def __init__(self, app: ASGIApp, max_body: int,
                 refuse: Callable[[Scope, Receive, Send], Awaitable[None]], hsts: bool = False) -> None:
        self.app, self.max_body, self.refuse = app, max_body, refuse
        self.headers = SECURITY_HEADERS + ([(b"strict-transport-security", b"max-age=31536000")] if hsts else [])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [h for h in self.headers if h[0] not in names]
                if b"cache-control" not in names:
                    extra.append(NO_STORE)
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await self.refuse(scope, receive, send_with_headers)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise TooLarge
            return message

        async def tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send_with_headers(message)

        try:
            await self.app(scope, counted, tracking)
        except TooLarge:
            if not started:
                await self.refuse(scope, receive, send_with_headers)


class Throttle:
    """At most `limit` events per key in any `window` seconds (e.g. sign-in requests per client address), in this
    process. The per-person limit is kept in the database (bot/web/signin.py), so it holds across processes."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self.seen: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = self.clock()
        with self.lock:
            if len(self.seen) > 10_000:  # a flood of addresses: forget the quiet ones
                self.seen = {k: v for k, v in self.seen.items() if v and v[-1] > now - self.window}
            times = self.seen.setdefault(key, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True
