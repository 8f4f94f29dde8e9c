"""The review in Telegram, end to end: the real python-telegram-bot client polling the fake Bot API on 127.0.0.1,
the intake, bot/review and the outbox on a real database of each kind.

Carol (the council's commissioner) has linked chat 3003: each new return reaches her with Sign off, Query and
PDF; she types a query's reason as a reply. Alice (chat 1001) gets the query in her chat and answers by replying
to it, with words or with the corrected file. Every press and reply is checked again by bot/review.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from desk_telegram import telegram_app
from fake_telegram import BOT_USER, FakeBotApi, button_press, running_fake_bot_api
from review_fixtures import CAROL, Desk
from sqlmodel import Session, col, select
from telegram_fixtures import ALICE_CHAT, CAROL_CHAT, ch_csv, running_channel, send

from bot.app import App
from bot.storage.models import Submission
from bot.storage.review_models import ChatPrompt, ReviewQuery

pytestmark = pytest.mark.timeout(120)
CAPTION = "ch-stop-smoking 2025-26-Q2"


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with running_fake_bot_api() as api:
        yield api


@pytest.fixture
def app(desk: Desk, api: FakeBotApi) -> App:
    """kpibot with a bot token on the desk's database; Carol's chat is linked."""
    return telegram_app(desk, api, {CAROL: CAROL_CHAT})


def said(api: FakeBotApi, chat: int, needle: str) -> dict[str, Any]:
    """Wait for a message to `chat` containing `needle`; return its parameters (text, reply_markup...)."""
    calls = api.wait_for(lambda calls: any(c.method == "sendMessage" and c.ok and c.chat_id == chat
                                           and needle in c.params["text"] for c in calls))
    found = next(c for c in reversed(calls) if c.method == "sendMessage" and c.ok and c.chat_id == chat
                 and needle in c.params["text"])
    return {**found.params, "markup": found.markup}


def button(message: dict[str, Any], starts: str) -> str:
    return next(b["callback_data"] for row in message["markup"]["inline_keyboard"] for b in row
                if b["text"].startswith(starts))


def bot_message(message_id: int, chat: int, text: str, markup: dict[str, Any] | None = None) -> dict[str, Any]:
    """A message the bot sent, as Telegram gives it back in `reply_to_message`."""
    found = {"message_id": message_id, "date": int(time.time()), "chat": {"id": chat, "type": "private"},
             "from": BOT_USER, "text": text}
    return found | ({"reply_markup": markup} if markup else {})


def prompt_id(engine: sa.Engine) -> int:
    """The message id of the latest prompt, once the channel has recorded it (just after sending it)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with Session(engine) as session:
            found = session.exec(select(ChatPrompt.prompt_message_id).order_by(col(ChatPrompt.id).desc())).first()
        if found is not None:
            return found
        time.sleep(0.05)  # the channel's thread writes it a moment after the fake Bot API saw the prompt
    raise AssertionError("the prompt was never recorded")


def test_a_return_is_queried_answered_and_signed_off_in_the_chats_of_both_sides(
        app: App, api: FakeBotApi, desk: Desk) -> None:
    with running_channel(app):
        send(api, ALICE_CHAT, 1, document=api.add_file(ch_csv(200, 105), "return.csv"), caption=CAPTION)
        summary = said(api, CAROL_CHAT, "New return for your review")
        assert "City and Hackney Stop Smoking Service" in summary["text"] and "52.5%" in summary["text"]
        assert [b["text"] for row in summary["markup"]["inline_keyboard"] for b in row] == [
            "✅ Sign off", "❓ Query", "📄 PDF report"]
        # Alice may not sign off, whatever button she presses
        api.push(callback=button_press(ALICE_CHAT, button(summary, "✅"), message_id=500, query_id="x"))
        assert "Only the council's commissioners may sign it off." in said(api, ALICE_CHAT, "Only the")["text"]
        api.push(callback=button_press(CAROL_CHAT, button(summary, "❓"), message_id=501, query_id="a"))
        prompt = said(api, CAROL_CHAT, "reply to this message with your reason")
        assert prompt["markup"]["force_reply"] is True
        send(api, CAROL_CHAT, 2, text="looks odd",
             reply_to=bot_message(prompt_id(app.engine), CAROL_CHAT, prompt["text"]))
        said(api, CAROL_CHAT, "Name the indicators or items in question")  # the prompt stays open for better words
        send(api, CAROL_CHAT, 3, text="1.5: the quit rate is far above last quarter's")  # no reply: the open prompt
        assert "Query sent about" in said(api, CAROL_CHAT, "Query sent about")["text"]
        query = said(api, ALICE_CHAT, "Query from the council")
        assert "1.5: the quit rate is far above last quarter's" in query["text"]
        assert "1.5 Stretch target for 4-week quits" in query["text"] and "Please answer by" in query["text"]
        send(api, ALICE_CHAT, 4, text="One clinic's quitters were entered twice; the rest stand.",
             reply_to=bot_message(600, ALICE_CHAT, query["text"], query["markup"]))
        assert "was passed to Carol" in said(api, ALICE_CHAT, "was passed to")["text"]
        answer = said(api, CAROL_CHAT, "Answer from Breathe Easy CIC")
        assert "One clinic's quitters were entered twice" in answer["text"]
        api.push(callback=button_press(CAROL_CHAT, button(answer, "✅"), message_id=502, query_id="b"))
        said(api, CAROL_CHAT, "Signed off:")
        assert "was signed off by Carol" in said(api, ALICE_CHAT, "Signed off")["text"]
        api.wait_for(lambda calls: any(c.method == "editMessageReplyMarkup" for c in calls))  # the buttons go
        send(api, CAROL_CHAT, 5, text="/review")
        said(api, CAROL_CHAT, "Nothing waits for review.")
    assert desk.review().state == "signed_off"
    assert [(e.action, e.channel) for e in desk.events()] == [
        ("open", "telegram"), ("query", "telegram"), ("answer", "telegram"), ("sign_off", "telegram")]


def test_a_corrected_file_sent_as_a_reply_to_the_query_answers_it_as_the_next_version(
        app: App, api: FakeBotApi, desk: Desk) -> None:
    with running_channel(app):
        send(api, ALICE_CHAT, 1, document=api.add_file(ch_csv(200, 105), "return.csv"), caption=CAPTION)
        summary = said(api, CAROL_CHAT, "New return for your review")
        send(api, CAROL_CHAT, 2, text="1.5: 4-week quitters look counted twice",
             reply_to=bot_message(700, CAROL_CHAT, summary["text"], summary["markup"]))  # a reply to the return
        query = said(api, ALICE_CHAT, "Query from the council")
        send(api, ALICE_CHAT, 3, document=api.add_file(ch_csv(200, 100), "fixed.csv"),  # no caption: the reply says
             reply_to=bot_message(701, ALICE_CHAT, query["text"], query["markup"]))
        again = said(api, CAROL_CHAT, "sent in answer to your query")
        assert "Version 2" in again["text"] and button(again, "✅").startswith("rv:s:")
        send(api, CAROL_CHAT, 4, text="/review")
        listed = said(api, CAROL_CHAT, "Waiting for your review (1)")
        assert "version 2" in listed["text"]
        api.push(callback=button_press(CAROL_CHAT, button(listed, "📋"), message_id=703, query_id="c"))
        shown = said(api, CAROL_CHAT, "Waiting for the council's review")
        assert button(shown, "✅") == button(again, "✅")
        api.push(callback=button_press(CAROL_CHAT, button(summary, "✅"), message_id=702, query_id="d"))
        assert "replaced by version 2" in said(api, CAROL_CHAT, "replaced by version 2")["text"]  # the old button
    with Session(desk.engine) as session:
        [asked] = session.exec(select(ReviewQuery)).all()
        latest = session.exec(select(Submission).where(Submission.status == "accepted")).one()
        assert (asked.state, asked.corrected_by_id, latest.version) == ("corrected", latest.id, 2)
    assert desk.review().state == "waiting" and desk.review().version == 2
