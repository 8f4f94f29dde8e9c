"""Telegram out through python-telegram-bot: one Bot per process and token, paced, on one event loop.

- One Bot is reused for every message. In `kpibot run` it is the Telegram channel's own bot on the service's
  event loop (the channel attaches it): the dispatcher calls `send` from its worker thread and the delivery runs
  on that loop, never `asyncio.run` inside it. Without a running channel (`kpibot outbox send`) the transport
  starts a private loop in a thread of its own, once, with its own Bot.
- Every message books a slot with the Throttle first (a second per chat, thirty a second overall). A slot too far
  away, or Telegram's own 429, raises TransportError(retry_after=...) so the outbox reschedules that row; the
  process never sleeps it out.
- Long texts are split at Telegram's limit (bot.reports.chat); parts already delivered are skipped on a retry and
  each delivered part is reported (`Outbound.on_part`), so a split reply is never partly repeated.
- A group that became a supergroup is followed: the message goes to the new chat and contacts linked to the old
  one are moved to it. A blocked bot (403) or a chat that does not exist is a permanent failure: the dispatcher
  then disables Telegram for that contact (shown in `kpibot status`). A refused token or a Telegram that cannot
  be reached is the whole channel's failure: the outbox pauses Telegram, blaming no contact.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import json
import logging
import threading
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

import sqlalchemy as sa
from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.channels.telegram.throttle import Throttle
from bot.clock import utc_now
from bot.intake.fetching import FetchError
from bot.intake.saving import REMOVE
from bot.outbox.transport import REPLY_MARKUP, Outbound, TransportError
from bot.reports.chat import split_message

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_WAIT = 5.0  # seconds a delivery may wait for its slot; beyond that the outbox reschedules it
SEND_TIMEOUT = 180.0  # seconds a worker thread waits for one delivery (PTB's own timeouts end it sooner)
DOWNLOAD_WAITS = (1.0, 4.0, 15.0)  # seconds between tries of a file download (then the intake tries again later)


class Later(Exception):
    """The chat's next slot is too far away: send this message later."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"Telegram pacing: the chat's next slot is in {seconds:.1f} s")
        self.seconds = seconds


class TelegramTransport:
    def __init__(self, token: str, base_url: str, base_file_url: str, database_url: str | None = None,
                 throttle: Throttle | None = None) -> None:
        """`database_url` lets a followed chat migration update the contacts linked to the old chat."""
        self.token, self.base_url, self.base_file_url = token, base_url, base_file_url
        self.database_url = database_url
        self.throttle = throttle or Throttle()
        self._lock = threading.Lock()
        self._bot: Bot | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._private: _PrivateLoop | None = None
        self._engine: sa.Engine | None = None
        self._in_flight: set[concurrent.futures.Future[Any]] = set()  # deliveries running on the attached loop
        self.download_waits: tuple[float, ...] = DOWNLOAD_WAITS

    # -- where calls run -------------------------------------------------------------------------------------

    def attach(self, bot: Bot, loop: asyncio.AbstractEventLoop, throttle: Throttle | None = None) -> None:
        """Deliver through `bot` on `loop` (the running channel's), from now on."""
        with self._lock:
            self._bot, self._loop = bot, loop
            if throttle is not None:
                self.throttle = throttle

    def detach(self) -> None:
        """The channel is stopping: deliveries go through the private loop from now on (see `drain`)."""
        with self._lock:
            self._bot = self._loop = None

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait, on the loop being left, for the deliveries already under way on it (call after `detach`)."""
        with self._lock:
            under_way = [asyncio.wrap_future(f) for f in self._in_flight]
        if under_way:
            await asyncio.wait(under_way, timeout=timeout)

    def _runner(self) -> tuple[Bot, asyncio.AbstractEventLoop]:
        """The bot and loop to deliver with (the caller holds the lock)."""
        if self._bot is not None and self._loop is not None:
            return self._bot, self._loop
        if self._private is None:
            self._private = _PrivateLoop(Bot(self.token, base_url=self.base_url, base_file_url=self.base_file_url))
            atexit.register(self._private.close)
        return self._private.bot, self._private.loop

    def _run(self, work: Callable[[Bot], Coroutine[Any, Any, T]]) -> T:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        with self._lock:  # submitted and recorded together: a channel that detaches then drains waits for it
            bot, loop = self._runner()
            if running is loop:
                raise RuntimeError("TelegramTransport.send blocks: call it from a worker thread (asyncio.to_thread)")
            future = asyncio.run_coroutine_threadsafe(_ready_then(bot, work), loop)
            if loop is self._loop:
                self._in_flight.add(future)
                future.add_done_callback(self._in_flight.discard)
        try:
            return future.result(SEND_TIMEOUT)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TransportError(f"Telegram did not answer within {SEND_TIMEOUT:.0f} s", scope="channel") from None
        except concurrent.futures.CancelledError:  # the loop stopped under it before it finished
            raise TransportError("delivery cut short: the service stopped while sending") from None

    def close(self) -> None:
        with self._lock:
            private, self._private = self._private, None
        if private is not None:
            private.close()
        if self._engine is not None:
            self._engine.dispose()

    # -- the outbox's side -----------------------------------------------------------------------------------

    def send(self, message: Outbound) -> None:
        """Deliver `message` (its undelivered parts, then its attachment), or raise TransportError."""
        try:
            chat_id = int(message.address)
        except ValueError:
            raise TransportError(f"{message.address!r} is not a Telegram chat id", permanent=True) from None
        try:
            self._run(lambda bot: self._deliver(bot, chat_id, message))
        except Forbidden as exc:
            raise TransportError(f"Telegram refused: {exc} (the user blocked the bot or left the chat)",
                                 permanent=True) from None
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            raise TransportError(f"Telegram flood control: retry after {wait:g} s", retry_after=wait) from None
        except Later as exc:
            raise TransportError(str(exc), retry_after=exc.seconds) from None
        except BadRequest as exc:
            gone = "chat not found" in str(exc).lower()
            raise TransportError(f"Telegram bad request: {exc}", permanent=gone) from None
        except InvalidToken:  # every message would fail the same way: the channel pauses, no contact is blamed
            raise TransportError("Telegram refused the bot token (KPIBOT_TELEGRAM_TOKEN): check it with "
                                 "@BotFather", scope="channel") from None
        except NetworkError as exc:  # Telegram unreachable, timing out or answering 5xx: the same for every chat
            raise TransportError(f"Telegram cannot be reached: {exc}", scope="channel") from None
        except TelegramError as exc:  # anything else: worth trying this message again
            raise TransportError(f"Telegram delivery failed: {exc}") from None

    async def _deliver(self, bot: Bot, chat_id: int, message: Outbound) -> None:
        if message.kind == REMOVE:
            await self._remove(bot, chat_id, int(message.headers["message_id"]))
            return
        parts = split_message(message.text) if message.text.strip() else []
        markup = keyboard_from(message.headers, bot)
        for index, part in enumerate(parts):
            if index < message.parts_sent:
                continue  # delivered before an interruption or a retry: never repeated
            last = index == len(parts) - 1

            def text(chat: int, part: str = part, last: bool = last) -> Awaitable[Message]:
                return bot.send_message(chat, part, reply_markup=markup if last else None)

            chat_id = await self._call(chat_id, text)
            if message.on_part is not None:
                await asyncio.to_thread(message.on_part, index + 1)  # a database write: off the loop
        if message.attachment is not None:
            attachment, name = message.attachment, message.attachment_name or "report"
            await self._call(chat_id, lambda chat: bot.send_document(chat, attachment, filename=name))

    async def _remove(self, bot: Bot, chat_id: int, message_id: int) -> None:
        """Delete a message a person sent the bot (a file refused as personal data); one already gone is done."""
        await self._pace(chat_id)
        try:
            await bot.delete_message(chat_id, message_id)
        except BadRequest as exc:
            if "not found" in str(exc).lower():
                return
            raise TransportError(f"the message could not be removed from the chat (ask the sender to delete it): "
                                 f"{exc}", permanent=True, scope="message") from None

    async def _call(self, chat_id: int, make: Callable[[int], Awaitable[Message]]) -> int:
        """Send one message when its slot comes; return the chat it went to (the new one after a migration)."""
        await self._pace(chat_id)
        try:
            await make(chat_id)
            return chat_id
        except ChatMigrated as exc:
            new_id = int(exc.new_chat_id)
            await asyncio.to_thread(self._follow, chat_id, new_id)
            await self._pace(new_id)
            await make(new_id)
            return new_id

    async def _pace(self, chat_id: int) -> None:
        wait = self.throttle.book(chat_id, max_wait=MAX_WAIT)
        if wait > MAX_WAIT:
            raise Later(wait)
        if wait > 0:  # booked: the slot is a moment away
            await self.throttle.sleep(wait)

    def _follow(self, old: int, new: int) -> None:
        """Move the contacts linked to chat `old` to its supergroup `new` (when the database is known)."""
        log.warning("Telegram chat %s became supergroup %s: following it", old, new)
        if self.database_url is None:
            return
        from bot.channels.telegram.linking import follow_migration

        if self._engine is None:
            from bot.storage.db import make_engine

            self._engine = make_engine(self.database_url)
        follow_migration(self._engine, old, new, utc_now())

    # -- the intake's side: files sent to the bot ---------------------------------------------------------------

    def download(self, file_id: str, limit: int) -> bytes:
        """The document `file_id` sent to the bot (getFile, then the download, each tried again on a 5xx, a
        time-out or flood control); raises FetchError, permanent when Telegram refuses the file itself. The intake
        calls it (bot/intake/fetching.py), from a worker thread."""
        try:
            return self._run(lambda bot: self._download(bot, file_id, limit))
        except FetchError:
            raise
        except InvalidToken:
            raise FetchError("Telegram refused the bot token (KPIBOT_TELEGRAM_TOKEN)") from None
        except (TelegramError, TransportError) as exc:
            raise FetchError(f"Telegram did not give the file: {exc}") from None

    async def _download(self, bot: Bot, file_id: str, limit: int) -> bytes:
        for wait in (*self.download_waits, None):
            try:
                found = await bot.get_file(file_id)
                if found.file_size and found.file_size > limit:
                    raise FetchError(f"the file is {found.file_size:,} bytes; the limit is {limit:,}", permanent=True)
                return bytes(await found.download_as_bytearray())
            except RetryAfter as exc:
                if wait is None:
                    raise FetchError(f"Telegram flood control: retry after {retry_after_seconds(exc):g} s") from None
                await asyncio.sleep(max(wait, retry_after_seconds(exc)))
            except BadRequest as exc:  # e.g. "file is too big", "wrong file_id": the same every time
                raise FetchError(f"Telegram refused the file: {exc}", permanent=True) from None
            except NetworkError as exc:  # a 5xx, a time-out, Telegram unreachable: worth another go
                if wait is None:
                    raise FetchError(f"Telegram did not give the file: {exc}") from None
                log.info("downloading a file from Telegram failed (%s); trying again in %g s", exc, wait)
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    def username(self) -> str:
        """The bot's @username, from getMe (for invite links); raises TelegramError when Telegram is not reached."""
        async def get(bot: Bot) -> str:
            return bot.username

        return self._run(get)

    # -- the channel's side ----------------------------------------------------------------------------------

    async def say(self, chat_id: int, text: str, **options: Any) -> Message | None:
        """Send a short answer now, on the loop of the channel that attached its bot, paced like every message;
        a failure is logged, never raised (what must arrive goes through the outbox)."""
        bot = self._bot
        if bot is None:
            raise RuntimeError("say() needs a running channel (attach its bot first)")
        await self.throttle.wait(chat_id)
        try:
            return await bot.send_message(chat_id, text, **options)
        except TelegramError as exc:
            log.warning("answer to chat %s not sent: %s", chat_id, exc)
            return None


def retry_after_seconds(exc: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds (PTB 22 gives an int or a timedelta, with a deprecation warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def keyboard_from(headers: dict[str, str], bot: Bot) -> InlineKeyboardMarkup | None:
    raw = headers.get(REPLY_MARKUP)
    if not raw:
        return None
    return InlineKeyboardMarkup.de_json(json.loads(raw), bot)


async def _ready_then(bot: Bot, work: Callable[[Bot], Coroutine[Any, Any, T]]) -> T:
    await bot.initialize()  # once: later calls return at once
    return await work(bot)


class _PrivateLoop:
    """An event loop in a thread of its own, for a process without a running channel (the command line)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="telegram-transport", daemon=True)
        self.thread.start()

    def close(self) -> None:
        if self.loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(self.bot.shutdown(), self.loop).result(10)
        except Exception:  # noqa: BLE001 - closing on the way out: nothing left to tell
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


_shared: dict[tuple[str, str, str, str | None], TelegramTransport] = {}
_shared_lock = threading.Lock()


def shared_transport(token: str, base_url: str, base_file_url: str,
                     database_url: str | None = None) -> TelegramTransport:
    """This process's transport for a bot token: the outbox dispatchers and the channel share it, so there is
    one Bot and one Throttle whoever sends."""
    key = (token, base_url, base_file_url, database_url)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = TelegramTransport(token, base_url, base_file_url, database_url)
        return _shared[key]
