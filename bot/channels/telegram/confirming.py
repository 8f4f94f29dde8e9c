"""The two buttons on a file whose figures would undo corrections (bot/intake/undoing.py): use its figures, or
keep the version in force. A press is checked against the database (the file must be the presser's and still
waiting), then handed to `Intake.confirm`; nothing is kept in memory.
"""

from __future__ import annotations

import asyncio
import re

from sqlmodel import Session, select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from bot.channels.telegram import linking as linking
from bot.channels.telegram import texts as texts
from bot.channels.telegram.kit import kit
from bot.storage.models import Submission

PATTERN = r"^u:\d{1,12}:(?:use|keep)$"
_DATA = re.compile(r"^u:(\d{1,12}):(use|keep)$")


def markup(session: Session, submission_id: int) -> InlineKeyboardMarkup:
    """Use these figures, or keep the version in force (named by its number)."""
    held = session.get(Submission, submission_id)
    in_force = session.exec(select(Submission.version).where(
        Submission.contract_id == (held.contract_id if held else None),
        Submission.period_id == (held.period_id if held else None), Submission.status == "accepted")).first()
    keep = f"Keep version {in_force}" if in_force else "Keep the version in force"
    return InlineKeyboardMarkup([[InlineKeyboardButton("Use these figures", callback_data=f"u:{submission_id}:use")],
                                 [InlineKeyboardButton(keep, callback_data=f"u:{submission_id}:keep")]])


async def choice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press of either button: check it is this contact's file, then let the intake act on the answer."""
    k, query = kit(context), update.callback_query
    assert query is not None
    await query.answer()
    chat = update.effective_chat
    press = _DATA.match(query.data or "")
    contact = await asyncio.to_thread(linking.linked_contact, k.engine, chat.id) if chat else None
    if chat is None or press is None or contact is None:
        if chat is not None:
            await k.say(chat.id, texts.UNLINKED if contact is None else "That button no longer applies.")
        return
    submission_id, use = int(press.group(1)), press.group(2) == "use"
    owner = await k.read(lambda s: _sender_of(s, submission_id))
    await k.transport.throttle.wait(chat.id)  # an edit counts against the chat's limit too
    if owner != contact.id:
        await query.edit_message_text("This button is not for a file of yours.")
        return
    await query.edit_message_text("➡️ Using these figures…" if use else "➡️ Keeping the version in force…")
    await asyncio.to_thread(k.app.intake.confirm, submission_id, use, contact.email)
    k.deliver_soon()


def _sender_of(session: Session, submission_id: int) -> int | None:
    submission = session.get(Submission, submission_id)
    return submission.sender_contact_id if submission is not None else None
