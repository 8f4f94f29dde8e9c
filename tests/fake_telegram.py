"""A fake Telegram Bot API on 127.0.0.1 for the real python-telegram-bot client (see RECIPES.md).

It records every call with its parameters, answers the methods kpibot uses, and can be told to fail a method
with a given Bot API error (403 blocked, 429 retry after, ...).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from services import free_port

TOKEN = "123456:TEST-token"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


class FakeBotApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.port = free_port()
        self._message_id = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def fail(self, method: str, status: int, description: str, retry_after: int | None = None) -> None:
        """Make the next call of `method` fail as the real Bot API would."""
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self.failures.setdefault(method, []).append((status, body))

    def sent(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def _handle(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        if request.content_type.startswith("multipart/"):
            async for part in await request.multipart():
                data = await part.read()  # type: ignore[union-attr]
                if part.filename:  # type: ignore[union-attr]
                    files[part.name] = data  # type: ignore[union-attr,index]
                else:
                    params[part.name] = data.decode()  # type: ignore[union-attr,index]
        elif request.can_read_body:
            params = dict(await request.post())
        self.calls.append(Call(method, params, files))
        if token != TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        if self.failures.get(method):
            status, body = self.failures[method].pop(0)
            return web.json_response(body, status=status)
        return web.json_response({"ok": True, "result": self._result(method, params)})

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {"id": 42, "is_bot": True, "first_name": "kpibot", "username": "kpibot_test_bot"}
        if method in ("sendMessage", "sendDocument"):
            self._message_id += 1
            message: dict[str, Any] = {"message_id": self._message_id, "date": int(time.time()),
                                       "chat": {"id": int(params.get("chat_id", 0)), "type": "private"}}
            if method == "sendMessage":
                message["text"] = params.get("text", "")
            else:
                message["document"] = {"file_id": f"D{self._message_id}", "file_unique_id": f"U{self._message_id}"}
            return message
        if method == "getUpdates":
            return []
        if method in ("deleteWebhook", "close", "logOut"):
            return True
        return True

    def app(self) -> web.Application:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        return app


@contextmanager
def running_fake_bot_api() -> Iterator[FakeBotApi]:
    """Serve a FakeBotApi in a background thread for the duration of the block."""
    api = FakeBotApi()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner = web.AppRunner(api.app())

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", api.port).start())
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield api
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
