"""Requests for information in Telegram, end to end: the real python-telegram-bot client polling the fake Bot API on
127.0.0.1, on a real database of each kind. Carol (the council, chat 3003) asks with /request; Alice (the provider,
chat 1001) answers by replying to the request's message with the document, or by naming the request in the
caption; a hostile file is refused clearly and the request stays open. Nothing she sends is read as a return. Erin
(another council's commissioner, chat 4004) cannot ask about a contract that is not hers, nor can Alice ask."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

import pytest
from desk_telegram import telegram_app
from fake_telegram import FakeBotApi, running_fake_bot_api
from intake_fixtures import BOB
from review_fixtures import CAROL, ERIN, Desk
from sqlmodel import Session, select
from telegram_fixtures import ALICE_CHAT, CAROL_CHAT, WHEN, count, running_channel, send
from test_review_telegram import bot_message, said

from bot.app import App
from bot.storage.models import Contact
from bot.storage.plan_models import InfoRequest

pytestmark = pytest.mark.timeout(120)
ERIN_CHAT = 4004
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
DAY = 24 * 3600


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with running_fake_bot_api() as api:
        yield api


@pytest.fixture
def app(desk: Desk, api: FakeBotApi) -> App:
    """kpibot with a bot token on the desk's database; Carol's and Erin's chats are linked."""
    return telegram_app(desk, api, {CAROL: CAROL_CHAT, ERIN: ERIN_CHAT})


def macro_document() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/vbaProject.bin", b"\x00" * 64)
    return buffer.getvalue()


def requests(desk: Desk) -> list[InfoRequest]:
    with Session(desk.engine) as session:
        return list(session.exec(select(InfoRequest).order_by(InfoRequest.id)))  # type: ignore[arg-type]


def test_the_council_asks_in_the_chat_and_the_provider_answers_with_files_on_time_late_and_hostile(
        app: App, api: FakeBotApi, desk: Desk) -> None:
    with running_channel(app):
        send(api, CAROL_CHAT, 1, text="/request ch-stop-smoking | Inspection report | 2 working days")
        assert "Request 1 sent: Inspection report, from Breathe Easy CIC by Friday 3 October 2025" in said(
            api, CAROL_CHAT, "Request 1 sent")["text"]
        asked = said(api, ALICE_CHAT, "Request 1 from the council")
        assert 'send it with the caption "request 1"' in asked["text"]
        send(api, ALICE_CHAT, 2, document=api.add_file(PDF, "CQC inspection.pdf"),  # a reply: no caption needed
             reply_to=bot_message(900, ALICE_CHAT, asked["text"]))
        said(api, ALICE_CHAT, "Received CQC inspection.pdf for request 1")
        assert "as the answer to request 1 (Inspection report), on time" in said(api, ALICE_CHAT, "✅")["text"]
        assert "Answered: Inspection report" in said(api, CAROL_CHAT, "Answered")["text"]

        send(api, CAROL_CHAT, 3, text="/request City and Hackney Stop Smoking Service | Service user survey "
                                      "results | 1 working day | For the year to September")
        said(api, CAROL_CHAT, "Request 2 sent")
        send(api, ALICE_CHAT, 4, date=WHEN + 6 * DAY, document=api.add_file(PDF, "survey.pdf"),
             caption="Request 2: the survey, sorry it is late")
        assert "request 2 (Service user survey results), after its deadline" in said(
            api, ALICE_CHAT, "request 2 (Service")["text"]

        send(api, CAROL_CHAT, 5, text="/request ch-stop-smoking | Safeguarding policy | 30 October 2025")
        said(api, CAROL_CHAT, "Request 3 sent")
        send(api, ALICE_CHAT, 6, document=api.add_file(macro_document(), "policy.docx"), caption="request 3")
        refused = said(api, ALICE_CHAT, "⚠️")["text"]
        assert "policy.docx contains macros" in refused and "The request stays open" in refused
    answered = requests(desk)
    assert [(r.state, r.on_time) for r in answered] == [("answered", True), ("answered", False), ("open", None)]
    assert answered[1].note == "the survey, sorry it is late" and answered[1].detail == "For the year to September"
    assert count(desk.engine, "submission") == 0  # no file was read as a return
    assert count(desk.engine, "request_upload") == 3  # each kept, the hostile one too


@pytest.mark.parametrize(("chat", "words", "says"), [
    (CAROL_CHAT, "/request", "To ask the provider for a document, write: /request contract"),
    (CAROL_CHAT, "/request ch-stop-smoking | Inspection report", "That has 2 parts"),
    (CAROL_CHAT, "/request nowhere | Inspection report | 2 working days", "No contract 'nowhere' among yours."),
    (CAROL_CHAT, "/request ch-stop-smoking | Inspection report | soon", "'soon' is not a deadline"),
    (CAROL_CHAT, "/request ch-stop-smoking | Inspection report | 1 September 2025", "is not in the future"),
    (CAROL_CHAT, "/request ch-stop-smoking | x | 2 working days", "Say what is requested"),
    (ERIN_CHAT, "/request ch-stop-smoking | Inspection report | 2 working days", "No contract 'ch-stop-smoking'"),
    (ALICE_CHAT, "/request ch-stop-smoking | Inspection report | 2 working days", "Only the council's commissioners"),
])
def test_each_mistake_in_a_chat_request_gets_its_own_answer_and_asks_nothing(
        app: App, api: FakeBotApi, desk: Desk, chat: int, words: str, says: str) -> None:
    with running_channel(app):
        send(api, chat, 1, text=words)
        said(api, chat, says)
    assert requests(desk) == []


def test_a_provider_cannot_answer_another_providers_request_from_the_chat(
        app: App, api: FakeBotApi, desk: Desk) -> None:
    with Session(desk.engine) as session:  # Bob (another provider) has linked chat 5005
        bob = session.exec(select(Contact).where(Contact.email == BOB)).one()
        bob.telegram_chat_id = 5005
        session.commit()
    with running_channel(app):
        send(api, CAROL_CHAT, 1, text="/request ch-stop-smoking | Inspection report | 2 working days")
        said(api, CAROL_CHAT, "Request 1 sent")
        send(api, 5005, 2, document=api.add_file(PDF, "inspection.pdf"), caption="request 1",
             date=WHEN + 3600)
        assert "not one of your contracts" in said(api, 5005, "⚠️")["text"]
    assert requests(desk)[0].state == "open" and count(desk.engine, "submission") == 0
