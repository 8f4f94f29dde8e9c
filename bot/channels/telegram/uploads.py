"""Files sent to the bot, and the keyboard that resumes a held one: thin adapters over the one intake.

A document's type and size are checked first (against Telegram's 20 MB download limit and the configured upload
limit), before anything is downloaded. A return file is recorded before its update is confirmed to Telegram
(receipts.py), acknowledged once ("Received ..."), then downloaded and processed by the intake from that record; a
file that answers the /check prompt is downloaded and scored without being stored. Photos, stickers and the like get
a helpful answer and nothing is stored.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

import sqlalchemy as sa
from sqlmodel import Session, select
from telegram import Message, Update
from telegram.constants import FileSizeLimit
from telegram.ext import ContextTypes

from bot import config
from bot.channels.telegram import answers as answers
from bot.channels.telegram import confirming as confirming
from bot.channels.telegram import keyboards as keyboards
from bot.channels.telegram import linking as linking
from bot.channels.telegram import request_files as request_files
from bot.channels.telegram import review as review
from bot.channels.telegram import texts as texts
from bot.channels.telegram.check import check as dry_run
from bot.channels.telegram.kit import Kit, kit, linked
from bot.intake.fetching import FetchError
from bot.intake.received import IntakeResult, Received, shown_filename
from bot.intake.saving import reply_key
from bot.intake.service import Unavailable
from bot.storage.models import Contact, Submission
from kpi_core.returns.reader import WORKBOOK_SUFFIXES

log = logging.getLogger(__name__)
RETURN_SUFFIXES = (*WORKBOOK_SUFFIXES, ".csv", ".txt")  # the reader judges the content; these are worth reading
BUSY_RETRIES = (1.0, 2.0, 4.0, 8.0, 15.0)  # seconds between tries while the database does not answer


@dataclass(frozen=True)
class Upload:
    received: Received  # with no data: `source` is the file's id, downloaded when it is processed
    dry: bool  # sent for /check: scored, never stored


def limit_of(settings: config.Settings) -> int:
    return min(settings.intake.max_upload_bytes, FileSizeLimit.FILESIZE_DOWNLOAD)


def upload_of(message: Message, bot_id: int, token_id: str, settings: config.Settings,
              answering: tuple[str, str] | None = None) -> Upload | str:
    """What a document sent to the bot is: a return file to take (recorded before anything is downloaded), or,
    as a string, what to tell the chat instead (not a file kpibot reads, too large). `answering`: the contract and
    period of the council's query the file answers (the corrected return), when it was sent in reply to one."""
    doc = message.document
    assert doc is not None
    name = doc.file_name or "file"
    if PurePosixPath(name.lower()).suffix not in RETURN_SUFFIXES:
        return texts.wrong_file_type(shown_filename(name))
    limit = limit_of(settings)
    if doc.file_size and doc.file_size > limit:
        return texts.too_large(shown_filename(name), doc.file_size, limit)
    received = Received(channel="telegram", message_id=f"{token_id}:{message.chat_id}:{message.message_id}",
                        sender=str(message.chat_id), filename=name, data=b"", received_at=message.date,
                        caption=_without_check(message.caption or ""), source=doc.file_id,
                        contract_id=answering[0] if answering else None,
                        period_id=answering[1] if answering else None)
    return Upload(received, is_check(message, bot_id))


@linked
async def document(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """A file: check its type and size, then take it up from its record (made before the update was confirmed),
    acknowledge it once, and have the intake download and process it (or, after /check, score it unstored)."""
    k, message = kit(context), update.effective_message
    assert message is not None and message.document is not None and contact.id is not None
    request_id = await asyncio.to_thread(request_files.request_of, k.engine, message, context.bot.id)
    if request_id is not None:  # a document for the council's request: kept and linked, never read as a return
        await request_files.answer_file(k, message, contact, request_id)
        return
    answering = await asyncio.to_thread(review.answered_query, k.engine, message, contact.id, k.clock())
    upload = upload_of(message, context.bot.id, k.bot_id, k.app.settings, answering)
    if isinstance(upload, str):
        await k.say(message.chat_id, upload)
        return
    received, shown = upload.received, shown_filename(upload.received.filename)
    if upload.dry:
        await k.say(message.chat_id, texts.received(shown))
        try:
            data = await asyncio.to_thread(k.transport.download, received.source, limit_of(k.app.settings))
        except FetchError as exc:
            log.warning("chat %s: a /check file could not be downloaded: %s", message.chat_id, exc)
            await k.say(message.chat_id, texts.not_downloaded(shown))
            return
        text = await asyncio.to_thread(dry_run, k.engine, k.app.settings, k.app.intake.read, contact.id,
                                       replace(received, data=data), k.clock())
        await k.say(message.chat_id, text)  # a dry run leaves nothing in the database, not even its answer
        return
    submission_id, fresh = k.fresh.pop(received.key, None), True
    if submission_id is None:  # delivered again after a restart (or recorded by no queue): take up its record
        fresh = not await asyncio.to_thread(seen, k.engine, received.key)
        recorded = await record(k, message, received)
        if recorded is None:
            return
        result = recorded if isinstance(recorded, IntakeResult) else None
        submission_id = recorded if isinstance(recorded, int) else None
    if fresh:
        await k.say(message.chat_id, texts.received(shown))  # once, even if the update comes again
    if submission_id is not None:
        result = await asyncio.to_thread(k.app.intake.proceed, submission_id)
    assert result is not None
    await answered(k, message, contact, result, fresh)


async def record(k: Kit, message: Message, received: Received) -> IntakeResult | int | None:
    """Record the upload (retrying while the database does not answer); None when it could not be, and the chat
    was told to send it again."""
    for delay in (*BUSY_RETRIES, None):
        try:
            return await asyncio.to_thread(k.app.intake.record, received)
        except Unavailable as exc:
            log.warning("chat %s: %s", message.chat_id, exc)
            if delay is None:
                await k.say(message.chat_id, texts.busy(shown_filename(received.filename)))
                return None
            await k.sleep(delay)
    return None


async def answered(k: Kit, message: Message, contact: Contact, result: IntakeResult, fresh: bool) -> None:
    """After the intake: put the keyboard on its question when it holds the return, say why it waits when the file
    could not be had yet, then deliver what it queued."""
    if result.outcome == "pending" and fresh:
        await k.say(message.chat_id, result.reply)
    if result.outcome == "confirm" and result.submission_id is not None:  # figures that would undo corrections
        sid = result.submission_id
        buttons = (await k.read(lambda s: confirming.markup(s, sid))).to_dict()
        if not await asyncio.to_thread(answers.attach_markup, k.engine, reply_key(sid, "confirm"), buttons):
            await k.queue(message, contact, answers.Answer("Use these figures?"), "confirm", buttons)  # it went
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


def seen(engine: sa.Engine, key: str) -> bool:
    with Session(engine) as session:
        return session.exec(select(Submission.id).where(Submission.idempotency_key == key)).first() is not None


@linked
async def not_a_file(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """A photo, sticker, voice note or the like: say how to send the return. A photo for the council's request for
    information answers it."""
    message = update.effective_message
    assert message is not None
    request_id = await asyncio.to_thread(request_files.request_of, kit(context).engine, message, context.bot.id) \
        if message.photo else None
    if request_id is not None:
        await request_files.answer_file(kit(context), message, contact, request_id)
        return
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


