"""Uploads are recorded before Telegram is told they arrived, so a process killed mid-download loses nothing.

python-telegram-bot confirms updates to Telegram as soon as they are queued: polling asks for the next ones with a
higher offset right after putting the last batch on the application's queue, and the webhook answers Telegram's POST
once the update is queued. Handlers run later, so an upload whose handler was cut off would never come again. The
channel therefore gives the application a queue whose `put` first records each return file a linked contact sends
(its file id, chat, caption and message: a `received` submission with no file yet) and only then queues it: the
update is confirmed only once it is recorded. The handler then says "Received", and the intake downloads and
processes it from the record; if the process dies first, the service's resume task or `kpibot init` does.

While the database cannot be reached, `put` keeps trying, so the update is not confirmed and Telegram keeps it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from telegram import Update

from bot.channels.telegram import linking as linking
from bot.channels.telegram import request_files as request_files
from bot.channels.telegram import review as review
from bot.channels.telegram.kit import Kit
from bot.channels.telegram.uploads import Upload, seen, upload_of
from bot.intake.service import Unavailable

log = logging.getLogger(__name__)
WAITS = (1.0, 2.0, 5.0, 10.0, 30.0)  # between tries to record while the database does not answer, the last repeated


class RecordingQueue(asyncio.Queue):  # type: ignore[type-arg]
    """The application's update queue: `record(update)` runs (in a thread) before an update is queued."""

    def __init__(self, record: Callable[[object], None]) -> None:
        super().__init__()
        self.record = record

    async def put(self, item: object) -> None:
        attempt = 0
        while True:
            try:
                await asyncio.to_thread(self.record, item)
                break
            except Unavailable as exc:
                wait = WAITS[min(attempt, len(WAITS) - 1)]
                attempt += 1
                log.warning("Telegram update %s waits for the database (%s): it is confirmed to Telegram only "
                            "once recorded; trying again in %g s", _id(item), exc, wait)
                await asyncio.sleep(wait)
            except Exception:  # noqa: BLE001 - a fault here must not stop the updates: the handler records it
                log.exception("recording Telegram update %s failed; its handler records it", _id(item))
                break
        await super().put(item)


def record_upload(k: Kit, bot_id: int, update: object) -> None:
    """Record a return file a linked contact sent (not a /check dry run, which is never stored), or a document
    answering a request for information, once."""
    if not isinstance(update, Update) or update.message is None or request_files.file_of(update.message) is None:
        return
    message = update.message
    contact = linking.linked_contact(k.engine, message.chat_id)
    if contact is None:
        return  # its handler tells the chat how to get linked; nothing of a stranger's is taken
    assert contact.id is not None
    request_id = request_files.request_of(k.engine, message, bot_id)
    if request_id is not None:  # a document for the council's request: recorded as such, never as a return
        request_files.record(k, message, contact, request_id)
        return
    if message.document is None:
        return  # a photo that answers no request: its handler says how to send a return
    answering = review.answered_query(k.engine, message, contact.id, k.clock())
    upload = upload_of(message, bot_id, k.bot_id, k.app.settings, answering)
    if not isinstance(upload, Upload) or upload.dry or seen(k.engine, upload.received.key):
        return  # refused with a word, a dry run, or delivered again (its handler takes the record up)
    recorded = k.app.intake.record(upload.received)
    if isinstance(recorded, int):
        k.fresh[upload.received.key] = recorded


def _id(item: object) -> object:
    return item.update_id if isinstance(item, Update) else "?"
