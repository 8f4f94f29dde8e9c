"""The Telegram channel: python-telegram-bot's Application on the service's event loop (`kpibot run`).

- Runs with `Application.initialize/start` and `updater.start_polling` (long polling: outbound HTTPS only, what
  council firewalls allow) or `start_webhook` with a secret token, never `run_polling`, which would own the loop.
- Handlers (handlers.py for commands, uploads.py for files) are thin: they find the chat's contact, ask
  bot/authz, hand files to the one intake and queue answers in the outbox. Updates of different chats are
  handled at once; one chat's in order. A return file is recorded before its update is confirmed to Telegram
  (receipts.py: the application's queue records it as it is queued), so none is lost to a kill.
- The channel's bot is the outbox's too (attached to the shared TelegramTransport, with its Throttle), and after
  queueing anything the channel delivers at once (the outbox, then the PDFs it waits for) instead of waiting for
  the service's next outbox run.
- A token Telegram refuses, or a Telegram that cannot be reached, never stops the service: the first is logged
  and shown in `kpibot status`; the second is retried in the background.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlparse
from weakref import WeakValueDictionary

from telegram import BotCommandScopeChat, Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from bot.channels.telegram import confirming as confirming
from bot.channels.telegram import handlers as h
from bot.channels.telegram import linking as linking
from bot.channels.telegram import meeting as mt
from bot.channels.telegram import plan_chat as pc
from bot.channels.telegram import plan_council as pcl
from bot.channels.telegram import plans as p
from bot.channels.telegram import review as r
from bot.channels.telegram import uploads as u
from bot.channels.telegram.kit import KIT, Kit
from bot.channels.telegram.receipts import RecordingQueue, record_upload
from bot.channels.telegram.request_command import request_command
from bot.channels.telegram.texts import COMMANDS, COMMISSIONER_COMMANDS
from bot.channels.telegram.throttle import Throttle
from bot.channels.telegram.transport import TelegramTransport, shared_transport
from bot.clock import utc_now
from bot.processes.heartbeats import beat
from bot.service.parts import Parts
from bot.storage.db import retrying

log = logging.getLogger(__name__)
RECONNECT_SECONDS = (5, 15, 60, 300)  # waits between attempts to reach Telegram, the last repeated
UPDATES = ["message", "callback_query"]
# The application as TelegramChannel builds it: python-telegram-bot's default context types, no job queue.
BotApplication = Application[ExtBot[None], ContextTypes.DEFAULT_TYPE, dict[Any, Any], dict[Any, Any], dict[Any, Any],
                             None]
NOT_RETURNS = (filters.PHOTO | filters.Sticker.ALL | filters.VOICE | filters.AUDIO | filters.VIDEO
               | filters.VIDEO_NOTE | filters.ANIMATION | filters.LOCATION | filters.CONTACT)


def webhook_secret(token: str) -> str:
    """The webhook's secret token, derived from the bot token: only who holds the token can post updates."""
    return hmac.new(token.encode(), b"kpibot telegram webhook", hashlib.sha256).hexdigest()


class InOrderPerChat(BaseUpdateProcessor):
    """Updates of different chats run at once; a chat's own updates run one after another, in order."""

    def __init__(self, max_concurrent_updates: int = 16) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: WeakValueDictionary[int, asyncio.Lock] = WeakValueDictionary()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.get(chat.id)
        if lock is None:
            lock = self._locks[chat.id] = asyncio.Lock()
        async with lock:
            await coroutine

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def add_handlers(application: BotApplication) -> None:
    """Every command and kind of message, each to its own small handler."""
    new = filters.UpdateType.MESSAGE  # an edited message is not sent again
    application.add_handler(CommandHandler("start", h.start_with_code, new, has_args=True))
    for name, handler in (("start", h.start), ("help", h.help_command), ("status", h.status),
                          ("template", h.template), ("report", h.report), ("check", h.check_command),
                          ("late", h.late), ("exceptions", h.exceptions), ("review", r.review_command),
                          ("plans", p.plans_command), ("plan", pc.plan_command), ("cancel", pc.cancel_command),
                          ("requests", p.requests_command), ("meeting", mt.meeting_command),
                          ("request", request_command), ("agree", pcl.agree_command),
                          ("sendback", pcl.send_back_command), ("closeplan", pcl.close_command)):
        application.add_handler(CommandHandler(name, handler, new))
    application.add_handler(MessageHandler(new & filters.COMMAND, h.unknown_command))
    application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, h.migrated))
    application.add_handler(MessageHandler(new & filters.Document.ALL, u.document))
    application.add_handler(MessageHandler(new & NOT_RETURNS, u.not_a_file))
    application.add_handler(MessageHandler(new & filters.TEXT, h.plain_text))
    application.add_handler(CallbackQueryHandler(confirming.choice, pattern=confirming.PATTERN))
    application.add_handler(CallbackQueryHandler(r.pressed, pattern=r"^rv:"))  # the review's buttons
    application.add_handler(CallbackQueryHandler(u.choice))
    application.add_error_handler(h.on_error)


class TelegramChannel:
    name = "telegram"

    def __init__(self, app: Parts, clock: Callable[[], datetime] = utc_now, throttle: Throttle | None = None,
                 poll_seconds: int = 10) -> None:
        """`clock` dates what the channel decides (invite expiry, `today`); `throttle` paces every message."""
        settings = app.settings
        t = settings.telegram
        self.app, self.clock, self.throttle, self.poll_seconds = app, clock, throttle, poll_seconds
        self.settings = t
        self.transport: TelegramTransport = shared_transport(settings.telegram_token, t.base_url, t.base_file_url,
                                                             settings.storage.database_url)
        self.dispatcher = app.dispatcher()
        self.application = (Application.builder().token(settings.telegram_token).base_url(t.base_url)
                            .base_file_url(t.base_file_url).concurrent_updates(InOrderPerChat())
                            .update_queue(RecordingQueue(self._record)).job_queue(None).build())
        self.kit = Kit(app, self.transport, clock, settings.telegram_token.split(":")[0], self.deliver_soon,
                       self.show_commissioner_menu)
        self.application.bot_data[KIT] = self.kit
        add_handlers(self.application)
        self._wake = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []  # the deliverer first

    # -- running ---------------------------------------------------------------------------------------------

    async def start(self) -> None:
        self._wake, self._stopping = asyncio.Event(), False
        self._tasks.append(asyncio.create_task(self._deliver_when_woken()))
        try:
            await self._connect()
        except InvalidToken:  # its message quotes the token: never shown, stored or logged
            self._noted({"error": "Telegram refused the bot token (KPIBOT_TELEGRAM_TOKEN): check it with @BotFather"})
            log.error("Telegram refused the bot token (KPIBOT_TELEGRAM_TOKEN): the Telegram channel is off")
        except TelegramError as exc:
            log.warning("Telegram cannot be reached (%s); trying again in the background", exc)
            self._tasks.append(asyncio.create_task(self._connect_later()))

    async def _connect(self) -> None:
        application = self.application
        await application.initialize()  # getMe: a refused token or an unreachable Telegram raises here
        self.transport.attach(application.bot, asyncio.get_running_loop(), self.throttle)
        await self._menus()
        if not application.running:
            await application.start()
        assert application.updater is not None
        if not application.updater.running:
            if self.settings.mode == "webhook":
                await application.updater.start_webhook(
                    listen=self.settings.webhook_listen, port=self.settings.webhook_port,
                    url_path=urlparse(self.settings.webhook_url).path.lstrip("/"),
                    webhook_url=self.settings.webhook_url, secret_token=webhook_secret(application.bot.token),
                    allowed_updates=UPDATES)
            else:
                await application.updater.start_polling(timeout=self.poll_seconds, allowed_updates=UPDATES)
        self._noted({"bot": application.bot.username, "mode": self.settings.mode})
        log.info("Telegram: @%s receiving by %s", application.bot.username, self.settings.mode)
        self.deliver_soon()  # whatever waited while the channel was down

    async def _connect_later(self) -> None:
        attempt = 0
        while True:
            await asyncio.sleep(RECONNECT_SECONDS[min(attempt, len(RECONNECT_SECONDS) - 1)])
            attempt += 1
            try:
                await self._connect()
                return
            except InvalidToken:
                log.error("Telegram refused the bot token (KPIBOT_TELEGRAM_TOKEN): the Telegram channel is off")
                return
            except TelegramError as exc:
                log.warning("Telegram still cannot be reached (%s)", exc)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()  # the deliverer finishes what it is sending, then ends
        for task in self._tasks[1:]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        self.transport.detach()
        await self.transport.drain()  # a delivery under way finishes, so it is recorded as sent
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()

    def _record(self, update: object) -> None:
        """Record an upload before its update is queued, so before it is confirmed to Telegram (receipts.py)."""
        record_upload(self.kit, self.application.bot.id, update)

    def _noted(self, detail: dict[str, Any]) -> None:
        """Record the channel's state as its heartbeat, for `kpibot status`."""
        try:
            retrying(lambda: beat(self.app.engine, "telegram", self.clock(), detail))
        except Exception:  # noqa: BLE001 - the channel runs whether or not its state could be recorded
            log.exception("recording the Telegram channel's state failed")

    # -- menus -----------------------------------------------------------------------------------------------

    async def _menus(self) -> None:
        """Everyone's command menu, and commissioners' with their own commands (a per-chat scope)."""
        await self.application.bot.set_my_commands(COMMANDS)
        for chat_id in await asyncio.to_thread(linking.commissioner_chats, self.app.engine):
            await self.show_commissioner_menu(chat_id)

    async def show_commissioner_menu(self, chat_id: int) -> None:
        try:
            await self.application.bot.set_my_commands(COMMANDS + COMMISSIONER_COMMANDS,
                                                       scope=BotCommandScopeChat(chat_id))
        except TelegramError as exc:  # e.g. a chat that no longer exists: the commands still work
            log.warning("commissioner menu for chat %s not set: %s", chat_id, exc)

    # -- delivering at once ----------------------------------------------------------------------------------

    def deliver_soon(self) -> None:
        """Something was queued: deliver it now rather than at the service's next outbox run."""
        self._wake.set()

    async def _deliver_when_woken(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            try:
                await asyncio.to_thread(self._deliver)
            except Exception:  # noqa: BLE001 - logged; the service's outbox run delivers it later
                log.exception("delivering queued Telegram messages failed")

    def _deliver(self) -> None:
        """Send what is due (the replies first), draw the PDFs they promised, send those."""
        self.dispatcher.run_once(self.clock())
        if self.app.render_queue.run_once():
            self.dispatcher.run_once(self.clock())
