"""The review in Telegram: buttons, typed reasons and answers, and `/review`. Thin over bot/review.

- A commissioner's copy of a return (and of an answer to their query) carries Sign off, Query and PDF. Sign off
  acts at once; Query asks for the reason as a reply (ForceReply), remembered in SQL (bot/review/prompts.py);
  PDF sends the return report. Replying to the return's message with words queries it too.
- A provider's copy of a query carries Answer, which asks for the explanation the same way; replying to the query
  with words answers it, and a file sent as a reply to it is taken as the corrected return for that period.
- `/review` lists what waits on the person, with a button for each return (or query) to act on.
Every press and reply is checked again by bot/review (who may, which version, what state); a refusal is said in
words.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session
from telegram import ForceReply, Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.channels.telegram import answers as answers
from bot.channels.telegram import linking as linking
from bot.channels.telegram import texts as texts
from bot.channels.telegram.kit import Kit, kit, linked
from bot.reports.chat import telegram_text
from bot.reports.stored import ReportError, return_report
from bot.review import actions, buttons, prompts
from bot.review import table as t
from bot.review.listing import overview
from bot.review.scene import Act, Outcome, Refused
from bot.storage.models import Contact, Contract
from bot.storage.review_models import ChatPrompt, Review, ReviewQuery
from kpi_core.calendar import parse_period

log = logging.getLogger(__name__)
REASON_PROMPT = ("❓ Query on {what}: reply to this message with your reason, naming the indicators or items in "
                 "question (for example: “1.5: the quit rate is far above last quarter's”).")
ANSWER_PROMPT = ("✍️ Answer to the council's query on {what}: reply to this message with your explanation, or send "
                 "the corrected return file as a reply.")


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A review button: sign off at once; ask for a query's reason or an answer; send the PDF; show a return."""
    k, query = kit(context), update.callback_query
    assert query is not None
    await query.answer()
    chat, press = update.effective_chat, buttons.parse(query.data)
    contact = await asyncio.to_thread(linking.linked_contact, k.engine, chat.id) if chat else None
    if chat is None or contact is None or contact.id is None or press is None:
        if chat is not None:
            await k.say(chat.id, texts.UNLINKED if contact is None else "That button no longer applies.")
        return
    act = Act(contact.id, "telegram", k.clock(), key=f"telegram:{k.bot_id}:callback:{query.id}")
    settings = k.app.settings
    if press.what == buttons.SIGN_OFF:
        done, text = await _act(lambda: actions.sign_off(k.engine, settings, act, press.ref,
                                                         press.submission_id or 0))
        await k.say(chat.id, text)
        k.deliver_soon()  # what the sign-off told the provider
        if done and query.message is not None:
            await _drop_buttons(k, query.message)
    elif press.what in (buttons.QUERY, buttons.ANSWER):
        await _prompt(k, chat.id, contact, press)
    elif press.what in (buttons.PDF, buttons.OPEN) and isinstance(query.message, Message):
        await (_pdf if press.what == buttons.PDF else _show)(k, query.message, contact, press)


async def _act(work: Callable[[], Outcome]) -> tuple[bool, str]:
    """Run a review act in a thread: whether it was done, and its outcome or refusal in words."""
    try:
        outcome = await asyncio.to_thread(work)
    except Refused as exc:
        return False, exc.text
    return True, outcome.text


async def _drop_buttons(k: Kit, message: object) -> None:
    """The return is signed off: its buttons no longer apply."""
    try:
        await k.transport.throttle.wait(message.chat_id)  # type: ignore[attr-defined]
        await message.edit_reply_markup(None)  # type: ignore[attr-defined]
    except TelegramError as exc:
        log.warning("buttons not removed from a signed-off return: %s", exc)


async def _prompt(k: Kit, chat_id: int, contact: Contact, press: buttons.Press) -> None:
    """Ask for the words of a query or an answer, after checking they may give them."""
    settings, now = k.app.settings, k.clock()
    assert contact.id is not None
    is_query = press.what == buttons.QUERY
    refusal = await asyncio.to_thread(
        actions.refusal_for, k.engine, settings, contact.id, t.QUERY if is_query else t.ANSWER,
        press.ref if is_query else 0, now, press.submission_id if is_query else None,
        None if is_query else press.ref)
    if refusal is not None:
        await k.say(chat_id, refusal)
        return
    what, review_id = await k.read(lambda s: _what(s, press))
    text = (REASON_PROMPT if is_query else ANSWER_PROMPT).format(what=what)
    placeholder = "The reason, naming indicators or items" if is_query else "Your explanation"
    sent = await k.transport.say(chat_id, text, reply_markup=ForceReply(input_field_placeholder=placeholder))
    await asyncio.to_thread(prompts.ask, k.engine, chat_id, contact.id, "query" if is_query else "answer", review_id,
                            now, settings.review.prompt_hours, submission_id=press.submission_id,
                            query_id=None if is_query else press.ref,
                            message_id=sent.message_id if sent is not None else None)


def _what(session: Session, press: buttons.Press) -> tuple[str, int]:
    """How a prompt names the return (`City and Hackney Stop Smoking Service, 2025-26-Q2`), and its review."""
    review_id = press.ref
    if press.what == buttons.ANSWER:
        asked = session.get(ReviewQuery, press.ref)
        review_id = asked.review_id if asked else 0
    review = session.get(Review, review_id)
    contract = session.get(Contract, review.contract_id) if review else None
    if review is None or contract is None:
        return "this return", review_id
    period = parse_period(review.period_id, contract.year_start_month).label
    return f"{contract.name}, {period}, version {review.version}", review_id


async def _pdf(k: Kit, message: Message | None, contact: Contact, press: buttons.Press) -> None:
    if message is None:
        return
    review = await k.read(lambda s: s.get(Review, press.ref))
    if review is None:
        await k.say(message.chat_id, "That return is no longer under review.")
        return
    reply = await k.read(lambda s: answers.report(s, k.app.files, k.app.settings, contact,
                                                  [review.contract_id, review.period_id]))
    await k.queue(message, contact, reply, f"review-pdf:{press.ref}:{review.version}")


async def _show(k: Kit, message: Message | None, contact: Contact, press: buttons.Press) -> None:
    """Show a waiting return, as it was first sent for review, with its buttons (from `/review`)."""
    if message is None:
        return
    def build(session: Session) -> tuple[str, dict | None]:  # type: ignore[type-arg]
        review = session.get(Review, press.ref)
        if review is None:
            return "That return is no longer under review.", None
        try:
            report = return_report(session, k.app.files, k.app.settings, review.contract_id, review.period_id)
        except ReportError as exc:
            return f"No report: {exc}.", None
        markup = buttons.review_markup(review.id or 0, review.submission_id, again=review.state == t.ANSWERED)
        return f"🗂 {t.STATE_WORDS[review.state].capitalize()}\n\n{telegram_text(report)}", markup
    text, markup = await k.read(build)
    if markup is None:
        await k.say(message.chat_id, text)
        return
    await k.queue(message, contact, answers.Answer(text), f"review-show:{press.ref}:{press.submission_id}", markup)


async def words(k: Kit, message: Message, contact: Contact) -> bool:
    """Words that give a query's reason or a query's answer (a reply to a prompt, to a return or to a query, or
    the chat's open prompt); False when they are for nothing in the review."""
    assert contact.id is not None and message.text is not None
    reply_to = message.reply_to_message
    mine = reply_to is not None and reply_to.from_user is not None and reply_to.from_user.id == message.get_bot().id
    prompt = await asyncio.to_thread(prompts.pending, k.engine, message.chat_id, contact.id,
                                     reply_to.message_id if mine and reply_to else None, k.clock())
    presses = buttons.presses_in(reply_to.reply_markup.to_dict() if mine and reply_to and reply_to.reply_markup
                                 else None)
    act = Act(contact.id, "telegram", k.clock(), key=f"telegram:{k.bot_id}:{message.chat_id}:{message.message_id}")
    settings = k.app.settings
    target = _target(prompt, presses)
    if target is None:
        return False
    kind, ref, version = target
    if kind == "query":
        done, text = await _act(lambda: actions.query(k.engine, settings, act, ref, version or 0, message.text or ""))
    else:
        done, text = await _act(lambda: actions.answer(k.engine, settings, act, ref, message.text or ""))
    if prompt is not None and prompt.id is not None and (done or not _asks_again(text)):
        await asyncio.to_thread(prompts.used, k.engine, prompt.id, k.clock())
    await k.say(message.chat_id, text)
    k.deliver_soon()  # the query to the provider, or the answer to the commissioner
    return True


def _target(prompt: ChatPrompt | None, presses: list[buttons.Press]) -> tuple[str, int, int | None] | None:
    if prompt is not None:
        if prompt.kind == "query":
            return "query", prompt.review_id, prompt.submission_id
        return ("answer", prompt.query_id, None) if prompt.query_id is not None else None
    for press in presses:
        if press.what == buttons.ANSWER:
            return "answer", press.ref, None
        if press.what == buttons.QUERY:
            return "query", press.ref, press.submission_id
    return None


def _asks_again(text: str) -> bool:
    """A refusal that wants better words (no reason, nothing named): the prompt stays open for them."""
    return text.startswith(("A query needs a reason", "Name the indicators", "Write your explanation"))


def answered_query(engine: sa.Engine, message: Message, contact_id: int, now: datetime) -> tuple[str, str] | None:
    """The contract and period of the query a file answers: sent as a reply to the query or to its prompt. Called
    where the upload is recorded (before Telegram is told it arrived), so it reads the database directly."""
    reply_to = message.reply_to_message
    if reply_to is None or reply_to.from_user is None or reply_to.from_user.id != message.get_bot().id:
        return None
    prompt = prompts.pending(engine, message.chat_id, contact_id, reply_to.message_id, now)
    presses = buttons.presses_in(reply_to.reply_markup.to_dict() if reply_to.reply_markup else None)
    query_id = prompt.query_id if prompt is not None else next((p.ref for p in presses
                                                                  if p.what == buttons.ANSWER), None)
    if query_id is None:
        return None
    with Session(engine) as session:
        asked = session.get(ReviewQuery, query_id)
        review = session.get(Review, asked.review_id) if asked else None
        return (review.contract_id, review.period_id) if review else None


@linked
async def review_command(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """/review: what waits on you, with a button for each return or query to act on."""
    k, message = kit(context), update.effective_message
    assert message is not None
    found = await k.read(lambda s: overview(s, k.app.settings, contact, k.today()))
    await k.queue(message, contact, answers.Answer(found.text), "review", found.markup)
