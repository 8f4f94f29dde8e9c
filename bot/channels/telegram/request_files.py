"""A document sent in answer to the council's request for information: a thin adapter over bot/intake/documents.py.

A document answers request 3 when its caption names it ("request 3", "Request #3") or when it is sent as a reply to
one of the bot's messages that names that one request (the request itself, its reminder, its overdue notice: each
says "Request 3"). It is recorded before Telegram is told the update arrived (receipts.py), like a return file,
then downloaded, kept raw, checked and linked to the request, never read as a return. Any document kind is taken
here: the intake says which it keeps.
"""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from telegram import Message
from telegram.constants import FileSizeLimit

from bot.channels.telegram.kit import Kit
from bot.intake import documents
from bot.intake.documents import Taken
from bot.intake.received import Received, shown_filename
from bot.storage.models import Contact


def request_of(engine: sa.Engine, message: Message, bot_id: int) -> int | None:
    """The request a document answers: the one its caption names, else the one the bot's message it replies to
    names (only when that message names exactly one), else None; a number naming no request at all is no request.
    A photo counts too (a certificate photographed). Reads the database: call it from a thread."""
    named = documents.named_request(message.caption or "")
    reply_to = message.reply_to_message
    if named is None and reply_to is not None and reply_to.from_user is not None and reply_to.from_user.id == bot_id:
        named = documents.named_request(reply_to.text or reply_to.caption or "")
    return documents.existing_request(engine, named)


def file_of(message: Message) -> tuple[str, str, int] | None:
    """(name, Telegram file id, size) of the document or photo the message carries (a photo at its largest)."""
    if message.document is not None:
        doc = message.document
        return doc.file_name or "document", doc.file_id, doc.file_size or 0
    if message.photo:
        photo = message.photo[-1]
        return f"photo-{message.message_id}.jpg", photo.file_id, photo.file_size or 0
    return None


def record(k: Kit, message: Message, contact: Contact, request_id: int) -> Taken:
    """Record the document for the request (its file id: downloaded after), once per Telegram message."""
    found = file_of(message)
    assert found is not None and contact.id is not None
    name, file_id, size = found
    received = Received(channel="telegram", message_id=f"{k.bot_id}:{message.chat_id}:{message.message_id}",
                        sender=str(message.chat_id), filename=name, data=b"", received_at=message.date,
                        caption=message.caption or "", source=file_id)
    return documents.record(k.engine, k.app.settings, k.app.intake.files, received, contact.id, request_id,
                            size=size)


async def answer_file(k: Kit, message: Message, contact: Contact, request_id: int) -> None:
    """Take up the recorded document (recording it now if the queue did not), say it came, then download, check and
    link it, and say what became of it."""
    taken = await asyncio.to_thread(record, k, message, contact, request_id)
    found = file_of(message)
    assert found is not None
    shown = shown_filename(found[0])
    if taken.state == "received":
        await k.say(message.chat_id, f"📥 Received {shown} for request {request_id}: checking it now…")
        limit = min(k.app.settings.intake.max_upload_bytes, FileSizeLimit.FILESIZE_DOWNLOAD)
        fetchers = {"telegram": lambda ref, _: k.transport.download(ref, limit)}
        taken = await asyncio.to_thread(documents.download, k.engine, k.app.settings, k.app.intake.files,
                                        taken.upload_id, fetchers, k.clock())
    if taken.state == "received":  # Telegram did not give the file yet: the service's resume task tries again
        await k.say(message.chat_id, f"kpibot could not download {shown} from Telegram just now: it will try again "
                                     "and tell you what became of it. There is no need to send it again.")
        return
    await k.say(message.chat_id, ("✅ " if taken.state == "answered" else "⚠️ ") + taken.reply)
    k.deliver_soon()  # the document to the council
