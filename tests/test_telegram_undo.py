"""In a chat, a file whose figures would undo corrections is asked about before anything is saved, with two buttons
(bot/channels/telegram/confirming.py over bot/intake/undoing.py), against the fake Bot API.

Issue 20: "v1, then a corrected v2, then v1 again became "version 3" with no word. [...] ask to confirm (chat)".
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fake_telegram import FakeBotApi, button_press, running_fake_bot_api
from sqlmodel import Session, col, select
from telegram_fixtures import ALICE_CHAT, ch_csv, running_channel, send, telegram_app

from bot import config
from bot.app import App
from bot.intake.service import Intake
from bot.reports.queue import RenderQueue
from bot.storage.models import OutboxMessage, Submission

pytestmark = pytest.mark.timeout(120)
V1, V2 = ch_csv(240, 130), ch_csv(240, 131)  # version 2 corrects the 4-week quitters


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with running_fake_bot_api() as api:
        yield api


@pytest.fixture
def app(settings: config.Settings, api: FakeBotApi, intake: Intake, render_queue: RenderQueue) -> App:
    return telegram_app(settings, api, intake, render_queue)


def _statuses(engine: sa.Engine) -> list[tuple[int | None, str]]:
    with Session(engine) as session:
        return list(session.exec(select(Submission.version, Submission.status).order_by(col(Submission.id))))


def _upload(api: FakeBotApi, message_id: int, data: bytes) -> None:
    send(api, ALICE_CHAT, message_id, document=api.add_file(data, "return.csv"), caption="2025-26-Q2")


def _asked(api: FakeBotApi) -> dict:  # type: ignore[type-arg]
    calls = api.wait_for(lambda calls: any(c.method == "sendMessage" and c.markup and "undo" in c.params["text"]
                                           for c in calls))
    return next(c for c in calls if c.method == "sendMessage" and c.markup and "undo" in c.params["text"]).markup


@pytest.mark.parametrize(("press", "expected"), [
    (0, [(1, "superseded"), (2, "superseded"), (3, "accepted")]),
    (1, [(1, "superseded"), (2, "accepted"), (None, "withdrawn")]),
])
def test_the_older_file_again_asks_first_and_the_button_decides(app: App, api: FakeBotApi, press: int,
                                                                 expected: list[tuple[int | None, str]]) -> None:
    with running_channel(app):
        _upload(api, 1, V1)
        api.wait_for(lambda calls: len(_statuses(app.engine)) == 1 and _statuses(app.engine)[0][1] == "accepted")
        _upload(api, 2, V2)
        api.wait_for(lambda calls: (2, "accepted") in _statuses(app.engine))
        _upload(api, 3, V1)
        markup = _asked(api)
        buttons = [row[0] for row in markup["inline_keyboard"]]
        assert [b["text"] for b in buttons] == ["Use these figures", "Keep version 2"]
        assert _statuses(app.engine)[-1] == (None, "confirming")  # nothing saved while it asks
        api.push(callback=button_press(ALICE_CHAT, buttons[press]["callback_data"], message_id=99, query_id="q"))
        api.wait_for(lambda calls: _statuses(app.engine)[-1][1] in ("accepted", "withdrawn"))
        word = "Kept version 2 as it is" if press else "undo the corrections version 2 made"
        api.wait_for(lambda calls: any(c.method == "sendMessage" and word in c.params.get("text", "")
                                       for c in calls))
    assert _statuses(app.engine) == expected
    with Session(app.engine) as session:
        told = session.exec(select(OutboxMessage).where(col(OutboxMessage.dedupe_key).startswith("undo:"))).all()
    assert len(told) == (0 if press else 1)  # the commissioner hears of a correction undone, not of one kept
