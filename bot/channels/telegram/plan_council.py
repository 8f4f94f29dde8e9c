"""The council's acts on an action plan in chat: `/agree N`, `/sendback N comment`, `/closeplan N note`.

Thin over bot/plans/acts.py, the functions the command line and the web call: who may act (the contract's
commissioners), in which state (bot/plans/table.py) and what each side is told are decided there. The chat message's
key makes a message delivered twice one act.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from telegram import Update
from telegram.ext import ContextTypes

from bot.channels.telegram.answers import Answer
from bot.channels.telegram.handlers import commissioners_only
from bot.channels.telegram.kit import Handler, LinkedHandler, kit, linked
from bot.plans import acts
from bot.review.scene import Act, Outcome, Refused
from bot.storage.models import Contact

PROVIDER_ONLY = "Action plans are agreed, sent back or closed by the council that commissions the contract."
NEEDS_WORDS = {"sendback": "Say what to change after the plan's number, for example /sendback 3 The second action "
                           "needs a date within this quarter.",
               "closeplan": "Say why the plan is closed after its number, for example /closeplan 3 All actions done "
                            "and the indicator is back on target."}


def _reading(command: str, args: list[str]) -> tuple[int, str] | str:
    """The plan's number and the words after it, or what to write instead."""
    if not args or not args[0].lstrip("#").isdigit():
        shown = f"'{args[0][:40]}' is not" if args else "Give"
        return (f"{shown} an action plan's number: write /{command} and the number /plans shows, for example "
                f"/{command} 3{' and your words' if command in NEEDS_WORDS else ''}.")
    words = " ".join(args[1:]).strip()
    if command in NEEDS_WORDS and not words:
        return NEEDS_WORDS[command]
    return int(args[0].lstrip("#")), words


def _act(command: str, run: Callable[..., Outcome]) -> Handler:
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
        k, message = kit(context), update.effective_message
        assert message is not None and contact.id is not None
        reading = _reading(command, list(context.args or []))
        if isinstance(reading, str):
            await k.queue(message, contact, Answer(reading), command)
            return
        plan_id, words = reading
        act = Act(contact.id, "telegram", k.clock(), key=k.key(message, command))

        def work() -> str:
            try:
                args = (plan_id,) if command == "agree" else (plan_id, words)
                return "✅ " + run(k.engine, k.app.settings, act, *args).text
            except Refused as refused:
                return refused.text
        await k.queue(message, contact, Answer(await asyncio.to_thread(work)), command)
    handler.__doc__ = f"Commissioners: /{command} on an action plan."
    gated: LinkedHandler = commissioners_only(PROVIDER_ONLY)(handler)
    return linked(gated)


agree_command = _act("agree", acts.agree)
send_back_command = _act("sendback", acts.send_back)
close_command = _act("closeplan", acts.close)
