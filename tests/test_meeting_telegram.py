"""`/meeting` end to end: the real python-telegram-bot client polling the fake Bot API on 127.0.0.1, on a real
database of each kind. A commissioner records a meeting's notes and an agreed action; a provider is told it is the
council's to record; a bare /meeting says how."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_telegram import FakeBotApi, running_fake_bot_api
from sqlmodel import Session, select
from telegram_fixtures import ALICE_CHAT, running_channel, send, telegram_app
from test_telegram_channel import CAROL, link, text_to

from bot import config
from bot.app import App
from bot.intake.service import Intake
from bot.reports.queue import RenderQueue
from bot.storage.meeting_models import MeetingAction, MeetingNote

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with running_fake_bot_api() as api:
        yield api


@pytest.fixture
def app(settings: config.Settings, api: FakeBotApi, intake: Intake, render_queue: RenderQueue) -> App:
    return telegram_app(settings, api, intake, render_queue)


def test_a_commissioner_records_a_meeting_and_a_provider_is_told_it_is_the_councils(
        app: App, api: FakeBotApi, settings: config.Settings) -> None:
    with running_channel(app):
        link(api, settings, CAROL, 3003)
        send(api, 3003, 2, text="/meeting")
        usage = text_to(api, 3003, "Write /meeting, the contract, the period")
        send(api, ALICE_CHAT, 3, text="/meeting ch-stop-smoking 2025-26-Q1 We met.")
        refused = text_to(api, ALICE_CHAT, "Meeting notes are recorded by the council")
        send(api, 3003, 4, text="/meeting ch-stop-smoking 2025-26-Q1 Quits were below target; the provider "
                                "explained the pharmacy closures.\naction: Send the revised pathway; Jo Bloggs; "
                                "15 January 2030")
        done = text_to(api, 3003, "Recorded the notes of the meeting")
        send(api, 3003, 5, text="/meeting ch-stop-smoking 2025-26-Q1 Ok.\naction: Send it; Jo Bloggs; soon")
        wrong = text_to(api, 3003, "is not a date")
    assert "Your contracts: " in usage and "ch-stop-smoking" in usage
    assert refused == "Meeting notes are recorded by the council that commissions the contract."
    assert done.startswith("✅ Recorded the notes of the meeting on City and Hackney Stop Smoking Service, Q1 2025-26")
    assert "1. Send the revised pathway (Jo Bloggs), by 15 January 2030" in done
    assert wrong.startswith("Write the meeting's notes: what was discussed and decided (at least a sentence). Action 1:"
                            " 'soon' is not a date") and wrong.endswith("Nothing was saved.")
    with Session(app.engine) as session:
        [note] = session.exec(select(MeetingNote)).all()
        [action] = session.exec(select(MeetingAction)).all()
    assert note.channel == "telegram" and note.source_key is not None and action.who == "Jo Bloggs"
