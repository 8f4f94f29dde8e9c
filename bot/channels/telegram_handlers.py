"""One small handler per chat command or kind of message, in the style of python-telegram-bot's examples.

Every handler but `/start CODE` first asks which contact the chat is linked to; an unlinked chat is told how to
get an invite and nothing else. Database work runs in threads (`asyncio.to_thread`), never on the event loop.
What must arrive goes through the outbox (the intake's replies, command answers, files); only acknowledgements,
/help and refusals of things that are not return files are said directly (see `Kit.say`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import PurePosixPath
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session, select
from telegram import ForceReply, Message, Update
from telegram.constants import ChatAction, FileSizeLimit
from telegram.ext import ContextTypes

from bot.app import App
from bot.authz import is_commissioner
from bot.channels import telegram_answers as answers
from bot.channels import telegram_keyboards as keyboards
from bot.channels import telegram_linking as linking
from bot.channels import telegram_texts as texts
from bot.channels.telegram_check import check as dry_run
from bot.intake import Received, Unavailable
from bot.intake.saving import reply_key
from bot.outbox.telegram import TelegramTransport
from bot.storage.models import Contact, Submission
from bot.submission_kpis import local_date
from kpi_core.returns.reader import WORKBOOK_SUFFIXES

log = logging.getLogger(__name__)
KIT = "kpibot"
T = TypeVar("T")
RETURN_SUFFIXES = (*WORKBOOK_SUFFIXES, ".csv", ".txt")  # the reader judges the content; these are worth reading
BUSY_RETRIES = (1.0, 2.0, 4.0, 8.0, 15.0)  # seconds between tries while the database does not answer
Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]
LinkedHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE, Contact], Awaitable[None]]


@dataclass
class Kit:
    """What the handlers share: the application, the transport, the clock, and a way to speed up delivery."""

    app: App
    transport: TelegramTransport
    clock: Callable[[], datetime]
    bot_id: str
    deliver_soon: Callable[[], None]
    show_commissioner_menu: Callable[[int], Awaitable[None]]
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

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
                    markup: dict | None = None) -> None:  # type: ignore[type-arg]
        await asyncio.to_thread(answers.queue, self.engine, self.app.files, self.key(message, what), contact.id,
                                message.chat_id, answer, self.clock(), markup=markup)
        self.deliver_soon()


def kit(context: ContextTypes.DEFAULT_TYPE) -> Kit:
    return context.bot_data[KIT]  # type: ignore[no-any-return]


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


# -- linking ---------------------------------------------------------------------------------------------------

async def start_with_code(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Link this chat to the contact whose invite code follows /start."""
    k, message = kit(context), update.effective_message
    assert message is not None
    code = (context.args or [""])[0][:128]
    redeemed = await asyncio.to_thread(linking.redeem, k.engine, code, message.chat_id, k.clock())
    text = texts.linked_text(redeemed, redeemed.role == "commissioner")
    if redeemed.outcome != "linked" or redeemed.contact_id is None:
        await k.say(message.chat_id, text)  # no contact to queue for; nothing is linked
        return
    if redeemed.role == "commissioner":
        await k.show_commissioner_menu(message.chat_id)
    contact = await asyncio.to_thread(linking.linked_contact, k.engine, message.chat_id)
    assert contact is not None
    await k.queue(message, contact, answers.Answer(text), "linked")


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start without a code: greet a linked chat; tell an unlinked one how to get an invite."""
    await help_command(update, context)


@linked
async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """What kpibot does, and the commands this contact may use."""
    assert update.effective_chat is not None
    await kit(context).say(update.effective_chat.id, texts.help_text(contact.name, is_commissioner(contact)))


@linked
async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """A command kpibot does not have: the help."""
    assert update.effective_chat is not None
    await kit(context).say(update.effective_chat.id, "kpibot has no such command.\n\n"
                           + texts.help_text(contact.name, is_commissioner(contact)))


@linked
async def plain_text(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """Words, not a file or a command: say what kpibot understands."""
    assert update.effective_chat is not None
    await kit(context).say(update.effective_chat.id, texts.help_text(contact.name, is_commissioner(contact)))


# -- commands answered through the outbox ----------------------------------------------------------------------

async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact,
                 build: Callable[[Kit, Session, list[str]], answers.Answer], what: str, file: bool = False) -> None:
    """Build the answer to a command in a thread and queue it in the outbox (`file`: show "sending a file")."""
    k, message = kit(context), update.effective_message
    assert message is not None
    if file:
        await message.chat.send_action(ChatAction.UPLOAD_DOCUMENT)
    args = list(context.args or [])
    await k.queue(message, contact, await k.read(lambda s: build(k, s, args)), what)


def commissioners_only(instead: str) -> Callable[[LinkedHandler], LinkedHandler]:
    """A command for commissioners: anyone else is told `instead`."""
    def wrap(handler: LinkedHandler) -> LinkedHandler:
        @functools.wraps(handler)
        async def gate(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
            if is_commissioner(contact):
                await handler(update, context, contact)
            elif update.effective_chat is not None:
                await kit(context).say(update.effective_chat.id, instead)
        return gate
    return wrap


@linked
async def status(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """The contact's contracts: what is due when, received or not, and the latest RAG counts."""
    await answer(update, context, contact,
                 lambda k, s, args: answers.status(s, contact, k.today(), k.app.settings.timezone), "status")


@linked
async def template(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """The workbook to fill in: /template [contract] [period]."""
    await answer(update, context, contact, lambda k, s, args: answers.template(s, contact, args, k.today()),
                 "template", file=True)


@linked
async def report(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """The PDF report of a return: /report [contract] [period]."""
    await answer(update, context, contact,
                 lambda k, s, args: answers.report(s, k.app.files, k.app.settings, contact, args), "report",
                 file=True)


@linked
@commissioners_only("/late is for commissioners. /status shows your own returns.")
async def late(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """Commissioners: what is overdue, with its escalation level."""
    await answer(update, context, contact,
                 lambda k, s, args: answers.late(s, contact, k.today(), k.app.settings.timezone), "late")


@linked
@commissioners_only("/exceptions is for commissioners. /report gives your own return report.")
async def exceptions(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """Commissioners: the exception report PDF: /exceptions [period]."""
    await answer(update, context, contact,
                 lambda k, s, args: answers.exceptions(s, k.app.files, k.app.settings, contact, args, k.clock()),
                 "exceptions", file=True)


@linked
async def check_command(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """Ask for the file to score without storing it: it comes as a reply to this prompt."""
    assert update.effective_chat is not None
    await kit(context).say(update.effective_chat.id, texts.check_prompt(),
                           reply_markup=ForceReply(input_field_placeholder="Attach the return file"))


# -- files -----------------------------------------------------------------------------------------------------

@linked
async def document(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """A file: check its size before downloading it, acknowledge it, then hand it to the intake (or, after
    /check, score it without storing it)."""
    k, message = kit(context), update.effective_message
    assert message is not None and message.document is not None and contact.id is not None
    doc = message.document
    name = doc.file_name or "file"
    if PurePosixPath(name.lower()).suffix not in RETURN_SUFFIXES:
        await k.say(message.chat_id, texts.wrong_file_type(name[:120]))
        return
    limit = min(k.app.settings.intake.max_upload_bytes, FileSizeLimit.FILESIZE_DOWNLOAD)
    if doc.file_size and doc.file_size > limit:
        await k.say(message.chat_id, texts.too_large(name[:120], doc.file_size, limit))
        return
    dry = is_check(message, context.bot.id)
    received = Received(channel="telegram", message_id=f"{k.bot_id}:{message.chat_id}:{message.message_id}",
                        sender=str(message.chat_id), filename=name, data=b"", received_at=message.date,
                        caption=_without_check(message.caption or ""))
    if dry or not await asyncio.to_thread(_seen, k.engine, received.key):
        await k.say(message.chat_id, texts.received(name[:120]))  # once, even if the update comes again
    telegram_file = await doc.get_file()
    if telegram_file.file_size and telegram_file.file_size > limit:
        await k.say(message.chat_id, texts.too_large(name[:120], telegram_file.file_size, limit))
        return
    data = bytes(await telegram_file.download_as_bytearray())
    if len(data) > limit:
        await k.say(message.chat_id, texts.too_large(name[:120], len(data), limit))
        return
    received = replace(received, data=data)
    if dry:
        text = await asyncio.to_thread(dry_run, k.engine, k.app.settings, k.app.intake.read, contact.id, received,
                                       k.clock())
        await k.say(message.chat_id, text)  # a dry run leaves nothing in the database, not even its answer
        return
    await submit(k, message, contact, received)


async def submit(k: Kit, message: Message, contact: Contact, received: Received) -> None:
    """Hand the file to the intake (retrying while the database does not answer); put the keyboard on the
    question when the intake holds it, then deliver."""
    for delay in (*BUSY_RETRIES, None):
        try:
            result = await asyncio.to_thread(k.app.intake.submit, received)
            break
        except Unavailable as exc:
            log.warning("chat %s: %s", message.chat_id, exc)
            if delay is None:
                await k.say(message.chat_id, texts.busy(received.filename))
                return
            await k.sleep(delay)
    if result.outcome == "held" and result.submission_id is not None:
        sid = result.submission_id
        question = await k.read(lambda s: keyboards.first_question(s, contact, sid, k.today()))
        if question is not None:
            markup = question.markup.to_dict()
            if not await asyncio.to_thread(answers.attach_markup, k.engine, reply_key(sid, "held"), markup):
                await k.queue(message, contact, answers.Answer(question.text), "ask", markup)  # it went already
    k.deliver_soon()


def is_check(message: Message, bot_id: int) -> bool:
    """Sent as a reply to the /check prompt, or with /check as its caption: a dry run."""
    if (message.caption or "").strip().lower().startswith("/check"):
        return True
    prompt = message.reply_to_message
    return bool(prompt and prompt.from_user and prompt.from_user.id == bot_id
                and (prompt.text or "").startswith(texts.CHECK_PROMPT))


def _without_check(caption: str) -> str:
    """The caption without a leading /check: what is left may name the contract and period."""
    words = caption.split(maxsplit=1)
    return (words[1] if len(words) > 1 else "") if words and words[0].lower() == "/check" else caption


def _seen(engine: sa.Engine, key: str) -> bool:
    with Session(engine) as session:
        return session.exec(select(Submission.id).where(Submission.idempotency_key == key)).first() is not None


@linked
async def not_a_file(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """A photo, sticker, voice note or the like: say how to send the return."""
    message = update.effective_message
    assert message is not None
    kind = next((w for attr, w in (("photo", "photo"), ("sticker", "sticker"), ("voice", "voice message"),
                                   ("video_note", "video message"), ("video", "video"), ("audio", "sound file"),
                                   ("animation", "GIF"), ("location", "location"), ("contact", "contact card"))
                 if getattr(message, attr, None)), "message like this")
    await kit(context).say(message.chat_id, texts.not_a_return(kind))


# -- the keyboard of a held return -----------------------------------------------------------------------------

async def choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button of the held-return keyboard: ask the period next, or resume the return with the choice."""
    k, query = kit(context), update.callback_query
    assert query is not None
    await query.answer()
    chat = update.effective_chat
    press = keyboards.parse(query.data)
    contact = await asyncio.to_thread(linking.linked_contact, k.engine, chat.id) if chat else None
    if chat is None or contact is None or press is None:
        if chat is not None:
            await k.say(chat.id, texts.UNLINKED if contact is None else "That button no longer applies.")
        return
    outcome = await k.read(lambda s: keyboards.resolve(s, contact, press, k.today()))
    await k.transport.throttle.wait(chat.id)  # an edit counts against the chat's limit too
    if isinstance(outcome, str):
        await query.edit_message_text(outcome)
    elif isinstance(outcome, keyboards.Question):
        await query.edit_message_text(outcome.text, reply_markup=outcome.markup)
    else:
        await query.edit_message_text(f"➡️ {outcome.contract_name}, {outcome.period_label}: checking…")
        await asyncio.to_thread(k.app.intake.answer, press.submission_id, outcome.contract_id, outcome.period_id)
        k.deliver_soon()


# -- chats that change ------------------------------------------------------------------------------------------

async def migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: its contacts follow it to the new chat id."""
    message = update.effective_message
    assert message is not None
    old, new = (message.chat_id, message.migrate_to_chat_id) if message.migrate_to_chat_id else \
        (message.migrate_from_chat_id, message.chat_id)
    if old is not None and new is not None:
        k = kit(context)
        await asyncio.to_thread(linking.follow_migration, k.engine, old, new, k.clock())


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log every fault with its update id; the chat gets an apology, never the details."""
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("Telegram update %s failed", update_id, exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await kit(context).say(update.effective_chat.id, texts.FAULT)
        except Exception:  # noqa: BLE001 - the fault is logged above; an apology that fails changes nothing
            log.exception("telling chat %s about a fault failed", update.effective_chat.id)
