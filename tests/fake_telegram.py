"""A fake Telegram Bot API on 127.0.0.1 for the real python-telegram-bot client (see RECIPES.md).

It records every call with its parameters and the status it answered, answers the methods kpibot uses, serves
updates to `getUpdates` as Telegram does (long polling; an update is forgotten once a later offset confirms it),
serves files to download (which can be made to hang, or fail like a method), and can be told to fail a method
with a given Bot API error (403 blocked, 429 retry after, 502, a migrated group...). Tests wait for what they
expect with `wait_for` (no sleeping).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from services import free_port

TOKEN = "123456:TEST-token"
BOT_ID = 123456
BOT_USERNAME = "kpibot_test_bot"
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "kpibot", "username": BOT_USERNAME}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    status: int = 200
    filenames: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def chat_id(self) -> int | None:
        return int(self.params["chat_id"]) if "chat_id" in self.params else None

    @property
    def markup(self) -> dict[str, Any] | None:
        raw = self.params.get("reply_markup")
        return json.loads(raw) if raw else None


class FakeBotApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, list[list[Any]]] = {}  # method -> [successes to let through, status, body]
        self.port = free_port()
        self._message_id = 1000
        self._update_id = 0
        self._updates: list[dict[str, Any]] = []
        self._files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, data)
        self._changed = threading.Condition()
        self._new_update: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._downloads_open: asyncio.Event | None = None  # cleared: a download starts, then hangs until opened
        self.closing = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -- what tests tell it ----------------------------------------------------------------------------------

    def fail(self, method: str, status: int, description: str, retry_after: int | None = None,
             migrate_to: int | None = None, after: int = 0) -> None:
        """Make a call of `method` fail as the real Bot API would: the next one, or the one after `after` more
        successful calls (failures queue up in order)."""
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        parameters = {k: v for k, v in (("retry_after", retry_after), ("migrate_to_chat_id", migrate_to)) if v}
        if parameters:
            body["parameters"] = parameters
        self.failures.setdefault(method, []).append([after, status, body])

    def add_file(self, data: bytes, name: str = "return.xlsx", size: int | None = None) -> dict[str, Any]:
        """Make `data` downloadable; return the `document` of a message carrying it (its size may be faked)."""
        file_id = f"F{len(self._files) + 1}"
        self._files[file_id] = (f"documents/file_{len(self._files)}{name[name.rfind('.'):]}", data)
        return {"file_id": file_id, "file_unique_id": f"U{file_id}", "file_name": name,
                "file_size": len(data) if size is None else size}

    def hold_downloads(self) -> None:
        """From now on a file download starts (it is recorded as a call) and then hangs, until released."""
        assert self._loop is not None and self._downloads_open is not None
        self._loop.call_soon_threadsafe(self._downloads_open.clear)

    def release_downloads(self) -> None:
        assert self._loop is not None and self._downloads_open is not None
        self._loop.call_soon_threadsafe(self._downloads_open.set)

    def push(self, message: dict[str, Any] | None = None, callback: dict[str, Any] | None = None) -> int:
        """Queue an update (a message or a callback query) for getUpdates; return its update_id."""
        with self._changed:
            self._update_id += 1
            update: dict[str, Any] = {"update_id": self._update_id}
            if message is not None:
                update["message"] = message
            if callback is not None:
                update["callback_query"] = callback
            self._updates.append(update)
            update_id = self._update_id
        if self._loop is not None and self._new_update is not None:
            self._loop.call_soon_threadsafe(self._new_update.set)
        return update_id

    def wait_for(self, predicate: Callable[[list[Call]], bool], timeout: float = 20.0) -> list[Call]:
        """Block until `predicate(calls)` holds (checked on every new call); fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(list(self.calls)):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("the fake Bot API did not see what was expected; calls: "
                                         + "; ".join(f"{c.method} {c.status} {c.params}"[:300] for c in self.calls))
                self._changed.wait(left)
            return list(self.calls)

    def sent(self, method: str, chat_id: int | None = None) -> list[Call]:
        """Successful calls of `method` (to `chat_id`)."""
        return [c for c in self.calls if c.method == method and c.ok and (chat_id is None or c.chat_id == chat_id)]

    def texts(self, chat_id: int) -> list[str]:
        return [c.params["text"] for c in self.sent("sendMessage", chat_id)]

    # -- the Bot API -----------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        filenames: dict[str, str] = {}
        if request.content_type.startswith("multipart/"):
            async for part in await request.multipart():
                data = await part.read()  # type: ignore[union-attr]
                if part.filename:  # type: ignore[union-attr]
                    files[part.name] = data  # type: ignore[union-attr,index]
                    filenames[part.name] = part.filename  # type: ignore[union-attr,index]
                else:
                    params[part.name] = data.decode()  # type: ignore[union-attr,index]
        elif request.can_read_body:
            params = dict(await request.post())
        if method == "getUpdates":
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        status, body = self._answer(token, method, params)
        self._record(Call(method, params, files, status, filenames))
        return web.json_response(body, status=status)

    def _answer(self, token: str, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if token != TOKEN:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        if self.failures.get(method):
            failure = self.failures[method][0]
            if failure[0] > 0:
                failure[0] -= 1
            else:
                self.failures[method].pop(0)
                return failure[1], failure[2]
        result = self._result(method, params)
        if result is None:
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: no method {method}"}
        return 200, {"ok": True, "result": result}

    def _record(self, call: Call) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Telegram's long polling: updates from `offset` on, waiting up to `timeout` seconds for one."""
        offset = int(params.get("offset") or 0)
        with self._changed:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]  # confirmed: forgotten
        deadline = time.monotonic() + float(params.get("timeout") or 0)
        while True:
            with self._changed:
                ready = list(self._updates)
            left = deadline - time.monotonic()
            if ready or left <= 0 or self.closing:
                return ready
            assert self._new_update is not None
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), left)
            except TimeoutError:
                pass

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in ("sendMessage", "sendDocument", "editMessageText", "editMessageReplyMarkup"):
            return self._message(method, params)
        if method == "getFile":
            path, data = self._files[params["file_id"]]
            return {"file_id": params["file_id"], "file_unique_id": f"U{params['file_id']}", "file_size": len(data),
                    "file_path": path}
        if method in ("deleteWebhook", "setWebhook", "close", "logOut", "setMyCommands", "deleteMyCommands",
                      "answerCallbackQuery", "sendChatAction", "deleteMessage"):
            return True
        return None

    def _message(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method.startswith("edit"):
            message_id = int(params.get("message_id", 0))
        else:
            self._message_id += 1
            message_id = self._message_id
        message: dict[str, Any] = {"message_id": message_id, "date": int(time.time()), "from": BOT_USER,
                                   "chat": {"id": int(params.get("chat_id", 0)), "type": "private"}}
        if "text" in params:
            message["text"] = params["text"]
        if method == "sendDocument":
            message["document"] = {"file_id": f"D{message_id}", "file_unique_id": f"UD{message_id}"}
        return message

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        for file_path, data in self._files.values():
            if file_path == path and request.match_info["token"] == TOKEN:
                failures = self.failures.get("download")  # fail("download", 502, "Bad Gateway"), as any method
                if failures:
                    if failures[0][0] > 0:
                        failures[0][0] -= 1
                    else:
                        _, status, body = failures.pop(0)
                        self._record(Call("download", {"path": path}, status=status))
                        return web.Response(status=status, text=body["description"])
                self._record(Call("download", {"path": path}))
                assert self._downloads_open is not None
                await self._downloads_open.wait()
                return web.Response(body=data)
        return web.Response(status=404)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        return app


# -- updates as Telegram sends them --------------------------------------------------------------------------

def user(chat_id: int, name: str = "Ann") -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": name}


def message(chat_id: int, message_id: int, date: int | None = None, text: str | None = None,
            document: dict[str, Any] | None = None, caption: str | None = None,
            reply_to: dict[str, Any] | None = None, chat_type: str = "private", **extra: Any) -> dict[str, Any]:
    """A message from the person in chat `chat_id`; a text starting with / carries its command entity."""
    found: dict[str, Any] = {"message_id": message_id, "date": date or int(time.time()),
                             "chat": {"id": chat_id, "type": chat_type}, "from": user(abs(chat_id)), **extra}
    if text is not None:
        found["text"] = text
        if text.startswith("/"):
            found["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    if document is not None:
        found["document"] = document
    if caption is not None:
        found["caption"] = caption
    if reply_to is not None:
        found["reply_to_message"] = reply_to
    return found


def button_press(chat_id: int, data: str, message_id: int, query_id: str = "Q1") -> dict[str, Any]:
    return {"id": query_id, "from": user(chat_id), "chat_instance": f"ci{chat_id}", "data": data,
            "message": {"message_id": message_id, "date": int(time.time()), "chat": {"id": chat_id, "type": "private"},
                        "from": BOT_USER, "text": "Which return is this?"}}


@contextmanager
def running_fake_bot_api() -> Iterator[FakeBotApi]:
    """Serve a FakeBotApi in a background thread for the duration of the block."""
    api = FakeBotApi()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner = web.AppRunner(api.app())

    def serve() -> None:
        asyncio.set_event_loop(loop)
        api._loop, api._new_update, api._downloads_open = loop, asyncio.Event(), asyncio.Event()
        api._downloads_open.set()
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
        api.closing = True  # end any long poll and any held download, so the server stops at once
        loop.call_soon_threadsafe(api._new_update.set)  # type: ignore[union-attr]
        loop.call_soon_threadsafe(api._downloads_open.set)  # type: ignore[union-attr]
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
