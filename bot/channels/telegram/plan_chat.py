"""The guided action-plan conversation in Telegram: `/plan [number]`, the answers typed in between, `/cancel`.

Thin over bot/plans/conversation.py, which keeps the draft in the database (so a restart, or another process,
resumes it) and checks every answer; here the answers are said, with the quick answers as a reply keyboard.
"""

from __future__ import annotations

import asyncio

from telegram import KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import ContextTypes

from bot.channels.telegram.kit import Kit, kit, linked
from bot.plans import conversation as c
from bot.storage.models import Contact


async def _say(k: Kit, chat_id: int, reply: c.Reply) -> None:
    markup = ReplyKeyboardMarkup([[KeyboardButton(choice)] for choice in reply.choices], one_time_keyboard=True,
                                 resize_keyboard=True) if reply.choices else ReplyKeyboardRemove()
    await k.say(chat_id, reply.text, reply_markup=markup)


@linked
async def plan_command(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """/plan [number]: complete an action plan here, step by step (or carry on where you were)."""
    k, message = kit(context), update.effective_message
    assert message is not None and contact.id is not None
    args = list(context.args or [])
    number = args[0].lstrip("#") if args else ""
    if number and not number.isdigit():
        await k.say(message.chat_id, f"'{number[:40]}' is not an action plan's number: send /plan and the number "
                                     "/plans shows, for example /plan 3.")
        return
    reply = await asyncio.to_thread(c.start, k.engine, k.app.settings, contact.id, message.chat_id,
                                    int(number) if number else None, k.clock())
    await _say(k, message.chat_id, reply)


@linked
async def cancel_command(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """/cancel: stop completing an action plan; nothing is sent."""
    k, message = kit(context), update.effective_message
    assert message is not None and contact.id is not None
    await _say(k, message.chat_id, await asyncio.to_thread(c.cancel, k.engine, contact.id, message.chat_id))


async def words(k: Kit, message: Message, contact: Contact) -> bool:
    """Words answering the action plan this chat is completing; False when none is being completed."""
    assert contact.id is not None and message.text is not None
    key = f"telegram:{k.bot_id}:{message.chat_id}:{message.message_id}"
    reply = await asyncio.to_thread(c.answer, k.engine, k.app.settings, contact.id, message.chat_id, message.text,
                                    k.clock(), key)
    if reply is None:
        return False
    await _say(k, message.chat_id, reply)
    k.deliver_soon()  # what completing the plan told the council
    return True
