"""`/meeting`: a commissioner records the notes of a quarterly performance meeting, and the actions agreed, in chat.

    /meeting lifestyle 2026-27-Q1 Referrals dipped in December; the provider explained the staffing gap.
    action: Send the revised referral pathway; Jo Bloggs; 15 January 2027

The first line names the contract and the period of the return the meeting was on, then the notes (more lines
that do not start with `action:` carry on the notes); each `action:` line is one action agreed, written
`what; who; when`. The same function as the command line records them (bot/plans/meetings.py); each mistake is
answered saying what to write instead, and nothing is saved.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session
from telegram import Update
from telegram.ext import ContextTypes

from bot import config
from bot.authz.policy import visible_contracts
from bot.channels.telegram.answers import Answer
from bot.channels.telegram.handlers import commissioners_only
from bot.channels.telegram.kit import kit, linked
from bot.plans.meetings import record_notes
from bot.review.scene import Act, Refused
from bot.storage.models import Contact

ACTION = "action:"
HOW = ("Write /meeting, the contract, the period of the return the meeting was on, then the notes; then one line "
       "for each action agreed, starting 'action:' and written 'what; who; when'. For example:\n"
       "/meeting {contract} 2026-27-Q1 Referrals dipped in December; the provider explained the staffing gap.\n"
       "action: Send the revised referral pathway; Jo Bloggs; 15 January 2027")


@dataclass(frozen=True)
class Written:
    contract_id: str
    period_id: str
    notes: str
    actions: tuple[str, ...]


def read_meeting(text: str) -> Written | str:
    """What a /meeting message says, or what is missing from it (a sentence to answer with)."""
    lines = text.strip().splitlines()
    words = lines[0].split(maxsplit=3) if lines else []
    if words and words[0].startswith("/"):
        words = words[1:]
    if not words:
        return "usage"
    if len(words) < 2:
        return (f"Name the period of the return the meeting was on after the contract, for example /meeting "
                f"{words[0]} 2026-27-Q1, then the notes.")
    rest = [words[2]] if len(words) > 2 else []
    actions = []
    for line in lines[1:]:
        if line.strip().lower().startswith(ACTION):
            actions.append(line.strip()[len(ACTION):].strip())
        elif line.strip():
            rest.append(line.strip())
    return Written(words[0], words[1], "\n".join(rest), tuple(actions))


def meeting_reply(engine: sa.Engine, settings: config.Settings, contact: Contact, text: str, act: Act) -> str:
    """Record the meeting a /meeting message describes; the answer to send back."""
    written = read_meeting(text)
    if written == "usage" or not isinstance(written, Written):
        if written != "usage":
            return str(written)
        with Session(engine) as session:
            ids = [c.id for c in visible_contracts(session, contact)]
        return HOW.format(contract=ids[0] if ids else "CONTRACT") + (
            f"\nYour contracts: {', '.join(ids)}." if ids else "")
    try:
        return "✅ " + record_notes(engine, settings, act, written.contract_id, written.period_id, written.notes,
                                   written.actions).text
    except Refused as exc:
        return exc.text


@linked
@commissioners_only("Meeting notes are recorded by the council that commissions the contract.")
async def meeting_command(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """Commissioners: record a meeting's notes and agreed actions: /meeting CONTRACT PERIOD NOTES."""
    k, message = kit(context), update.effective_message
    assert message is not None and contact.id is not None
    act = Act(contact.id, "telegram", k.clock(), key=f"telegram:{k.bot_id}:{message.chat_id}:{message.message_id}")
    reply = await asyncio.to_thread(meeting_reply, k.engine, k.app.settings, contact, message.text or "", act)
    await k.queue(message, contact, Answer(reply), "meeting")
