"""What the Telegram handlers share: the application, the transport, the clock, and the linked-chat gate.

Database work runs in threads (`asyncio.to_thread`), never on the event loop. What must arrive goes through the
outbox (`Kit.queue`); acknowledgements and refusals of what is not a return file are said directly (`Kit.say`).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session
from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.assessment.submission_kpis import local_date
from bot.channels.telegram import answers as answers
from bot.channels.telegram import linking as linking
from bot.channels.telegram import texts as texts
from bot.channels.telegram.transport import TelegramTransport
from bot.service.parts import Parts
from bot.storage.models import Contact

KIT = "kpibot"
T = TypeVar("T")
# What python-telegram-bot calls: a coroutine function (an awaitable is not enough for its handler types).
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]
LinkedHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, Contact], Coroutine[Any, Any, None]]


@dataclass
class Kit:
    """What the handlers share: the application, the transport, the clock, and a way to speed up delivery."""

    app: Parts
    transport: TelegramTransport
    clock: Callable[[], datetime]
    bot_id: str
    deliver_soon: Callable[[], None]
    show_commissioner_menu: Callable[[int], Awaitable[None]]
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    # Uploads recorded by receipts.py as their update came, not yet taken up by their handler: key -> submission id
    fresh: dict[str, int] = field(default_factory=dict)

    @property
    def engine(self) -> sa.Engine:
        return self.app.engine

    def today(self) -> date:
        return local_date(self.clock(), self.app.settings.timezone)

    def key(self, message: Message, what: str) -> str:
        """The outbox key of an answer to one chat message: the same update twice queues it once."""
        return f"telegram:{self.bot_id}:{message.chat_id}:{message.message_id}:{what}"

    async def read(self, work: Callable[[Session], T]) -> T:
        """Run `work` with a read session, in a thread."""
        def run() -> T:
            with Session(self.engine, expire_on_commit=False) as session:
                return work(session)
        return await asyncio.to_thread(run)

    async def say(self, chat_id: int, text: str, **options: Any) -> None:
        """An answer that needs no outbox: said now, paced like every message."""
        await self.transport.say(chat_id, text, **options)

    async def queue(self, message: Message, contact: Contact, answer: answers.Answer, what: str,
                    markup: dict[str, Any] | None = None) -> None:
        await asyncio.to_thread(answers.queue, self.engine, self.app.files, self.key(message, what), contact.id,
                                message.chat_id, answer, self.clock(), markup=markup)
        self.deliver_soon()


def kit(context: ContextTypes.DEFAULT_TYPE) -> Kit:
    return context.bot_data[KIT]


def linked(handler: LinkedHandler) -> Handler:
    """Run `handler` with the chat's contact; tell an unlinked chat how to get an invite instead."""
    @functools.wraps(handler)
    async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        k, chat = kit(context), update.effective_chat
        if chat is None:
            return
        contact = await asyncio.to_thread(linking.linked_contact, k.engine, chat.id)
        if contact is None or contact.id is None:
            await k.say(chat.id, texts.UNLINKED)
            return
        if contact.telegram_disabled:  # they blocked the bot once, and now write again
            await asyncio.to_thread(linking.enable_again, k.engine, contact.id, k.clock())
        await handler(update, context, contact)
    return gate


