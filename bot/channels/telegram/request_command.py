"""`/request <contract> | <what> | <due>`: a commissioner asks the provider for a document in the chat.

The same function as `kpibot request` (bot/plans/requests.ask): only the contract's commissioners ask; the deadline
is a number of working days ("2 working days") or a date ("30 April 2026"); the provider is told through the
outbox. The contract may be named by its id or its name. Each mistake gets its own answer.
"""

from __future__ import annotations

import asyncio

from sqlmodel import Session
from telegram import Update
from telegram.ext import ContextTypes

from bot.authz.policy import is_commissioner, visible_contracts
from bot.channels.telegram.kit import kit, linked
from bot.plans.requests import ask
from bot.review.scene import Act, Refused
from bot.storage.models import Contact

USAGE = ("To ask the provider for a document, write: /request contract | what is needed | deadline, for example "
         "\"/request {example} | Inspection report | 2 working days\" (the deadline: a number of working days, or "
         "a date such as 30 April 2026). Add \"| more detail\" at the end if it helps.")


def contract_named(session: Session, contact: Contact, named: str) -> str:
    """The id of the contract `named` (its id, or its name, in any case) among the contact's; else `named` as
    given, for ask() to refuse as none of theirs."""
    wanted = " ".join(named.split()).lower()
    for contract in visible_contracts(session, contact):
        if wanted in (contract.id.lower(), contract.name.lower()):
            return contract.id
    return named.strip()


def parts_of(text: str, example: str) -> tuple[str, str, str, str]:
    """(contract, what, due, detail) of the command's words; Refused with what to write when they are not that."""
    parts = [p.strip() for p in text.split("|")]
    if not text.strip():
        raise Refused(USAGE.format(example=example), "usage")
    if len(parts) < 3:
        raise Refused(f"That has {len(parts)} part{'s' if len(parts) != 1 else ''}: write the contract, what is "
                      "needed and the deadline, separated by '|'. " + USAGE.format(example=example), "usage")
    if not parts[0]:
        raise Refused("Name the contract first. " + USAGE.format(example=example), "usage")
    if not parts[2]:
        raise Refused("Give the deadline last: a number of working days ('2 working days') or a date "
                      "('30 April 2026').", "bad_due")
    return parts[0], parts[1], parts[2], " | ".join(parts[3:])


@linked
async def request_command(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """/request: ask a contract's provider for a document by a deadline (commissioners only)."""
    k, message = kit(context), update.effective_message
    assert message is not None and contact.id is not None
    if not is_commissioner(contact):
        await k.say(message.chat_id, "Only the council's commissioners may ask for information. /requests lists "
                                     "what the council has asked of you.")
        return
    words = (message.text or "").partition(" ")[2]

    def work() -> str:
        with Session(k.engine) as session:
            mine = visible_contracts(session, contact)
            example = mine[0].id if mine else "contract"
            try:
                named, what, due, detail = parts_of(words, example)
            except Refused as refused:
                return refused.text
            contract_id = contract_named(session, contact, named)
        act = Act(contact.id or 0, "telegram", k.clock(), key=k.key(message, "request"))
        try:
            return "📨 " + ask(k.engine, k.app.settings, act, contract_id, what, due, detail).text
        except Refused as refused:
            return refused.text

    await k.say(message.chat_id, await asyncio.to_thread(work))
    k.deliver_soon()  # the request to the provider
