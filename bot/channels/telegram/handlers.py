"""One small handler per chat command, in the style of python-telegram-bot's examples.

Every handler but `/start CODE` runs for a linked chat only (`linked`): an unlinked chat is told how to get an
invite and nothing else. Answers that inform go through the outbox; /help and refusals are said directly.
Files and the held-return keyboard are in uploads.py.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable

from sqlmodel import Session
from telegram import ForceReply, Update
from telegram.constants import ChatAction
from telegram.ext import ContextTypes

from bot.authz.policy import is_commissioner
from bot.channels.telegram import answers as answers
from bot.channels.telegram import linking as linking
from bot.channels.telegram import plan_chat as plan_chat
from bot.channels.telegram import review as review
from bot.channels.telegram import texts as texts
from bot.channels.telegram.kit import Kit, LinkedHandler, kit, linked
from bot.storage.models import Contact

log = logging.getLogger(__name__)


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
    """Words, not a file or a command: an answer in the action-plan conversation, a query's reason or an answer
    for the review, else what kpibot understands. A reply to one of kpibot's messages is for the review first."""
    assert update.effective_chat is not None
    message, k = update.effective_message, kit(context)
    if message is not None and message.text:
        first, then = (review.words, plan_chat.words) if message.reply_to_message else \
            (plan_chat.words, review.words)
        if await first(k, message, contact) or await then(k, message, contact):
            return
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
                 lambda k, s, args: answers.late(s, contact, k.today(), k.app.settings), "late")


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
