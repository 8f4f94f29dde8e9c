"""Files sent to the bot, and the keyboard that resumes a held one: thin adapters over the one intake.

A document's size is checked against Telegram's 20 MB download limit and the configured upload limit before it is
downloaded; it is acknowledged at once (once, even if Telegram delivers the update again), then handed to the
intake with its caption, or scored without being stored when it answers the /check prompt. Photos, stickers and
the like get a helpful answer and nothing is stored.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from pathlib import PurePosixPath

import sqlalchemy as sa
from sqlmodel import Session, select
from telegram import Message, Update
from telegram.constants import FileSizeLimit
from telegram.ext import ContextTypes

from bot.channels.telegram import answers as answers
from bot.channels.telegram import keyboards as keyboards
from bot.channels.telegram import linking as linking
from bot.channels.telegram import review as review
from bot.channels.telegram import texts as texts
from bot.channels.telegram.check import check as dry_run
from bot.channels.telegram.kit import Kit, kit, linked
from bot.intake.received import Received
from bot.intake.saving import reply_key
from bot.intake.service import Unavailable
from bot.storage.models import Contact, Submission
from kpi_core.returns.reader import WORKBOOK_SUFFIXES

log = logging.getLogger(__name__)
RETURN_SUFFIXES = (*WORKBOOK_SUFFIXES, ".csv", ".txt")  # the reader judges the content; these are worth reading
BUSY_RETRIES = (1.0, 2.0, 4.0, 8.0, 15.0)  # seconds between tries while the database does not answer


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
    answers_query = None if dry else await review.answering_file(k, message, contact)  # the corrected return
    received = Received(channel="telegram", message_id=f"{k.bot_id}:{message.chat_id}:{message.message_id}",
                        sender=str(message.chat_id), filename=name, data=b"", received_at=message.date,
                        caption=_without_check(message.caption or ""),
                        contract_id=answers_query[0] if answers_query else None,
                        period_id=answers_query[1] if answers_query else None)
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


