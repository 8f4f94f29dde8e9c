"""Chat command arguments and button data fuzzed with hypothesis (issue 14, point 7), through the real handlers.

Whatever follows a command, the bot answers without a fault, and a provider's contact is never shown anything of
another provider's contracts (unless they typed its id themselves, which is then only echoed back).
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter

import pytest
from fake_telegram import FakeBotApi, button_press, message, running_fake_bot_api
from hypothesis import HealthCheck, example, given
from hypothesis import settings as fuzzing
from hypothesis import strategies as st
from intake_fixtures import NOW
from sqlmodel import Session, select
from telegram import Update
from telegram_fixtures import (
    ALICE_CHAT,
    CAROL_CHAT,
    STRANGER_CHAT,
    WHEN,
    Running,
    running_channel,
    telegram_app,
)

from bot import config
from bot.channels.telegram import keyboards as keyboards
from bot.channels.telegram import linking as linking
from bot.intake.service import Intake
from bot.reports.queue import RenderQueue
from bot.storage.models import OutboxMessage

pytestmark = pytest.mark.timeout(300)
COMMANDS = ["status", "template", "report", "exceptions", "late", "check", "help", "start", "nosuch"]
NOT_ALICES = ("Solihull Stop Smoking", "Hackney and City Substance Misuse", "Turning Point", "solihull-stop-smoking",
              "ch-substance-misuse")
ids = itertools.count(10)
FUZZ = fuzzing(max_examples=100, deadline=None, database=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@given(st.text(max_size=80))
@example("p:1:00000000:2025-26-Q1")
@example("c:99999999999999:abcdef01")
def test_button_data_of_any_shape_is_parsed_or_refused(data: str) -> None:
    press = keyboards.parse(data)
    assert press is None or press.data == data


def handle(running: Running, api: FakeBotApi, update: dict) -> None:  # type: ignore[type-arg]
    bot = running.channel.application.bot
    running.run(running.channel.application.process_update(Update.de_json(update, bot)))


def said_to(api: FakeBotApi, engine: object, chat: int) -> Counter[str]:
    """Everything said to the chat so far: queued in the outbox (whether delivered yet or not), or said directly."""
    with Session(engine) as session:  # type: ignore[arg-type]
        queued = session.exec(select(OutboxMessage.body_text).where(OutboxMessage.address == str(chat))).all()
    return Counter(queued) + Counter(t for t in api.texts(chat) if t not in set(queued))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_any_command_arguments_get_an_answer_and_show_nothing_of_other_providers(
        settings: config.Settings, intake: Intake, render_queue: RenderQueue,
        caplog: pytest.LogCaptureFixture) -> None:
    linking.redeem(intake.engine, linking.issue(intake.engine, "carol@example-council.example", NOW).code,
                   CAROL_CHAT, NOW)
    with running_fake_bot_api() as api:
        app = telegram_app(settings, api, intake, render_queue)
        with running_channel(app) as running, caplog.at_level(logging.ERROR):

            @FUZZ
            @given(command=st.sampled_from(COMMANDS), arguments=st.text(max_size=120),
                   chat=st.sampled_from([ALICE_CHAT, CAROL_CHAT, STRANGER_CHAT]))
            @example(command="report", arguments="ch-substance-misuse 2025-26-Q1", chat=ALICE_CHAT)
            @example(command="template", arguments="solihull-stop-smoking", chat=ALICE_CHAT)
            @example(command="template", arguments="ch-stop-smoking 2025-26-M13", chat=ALICE_CHAT)
            @example(command="exceptions", arguments="\x00\u202e Q9", chat=CAROL_CHAT)
            @example(command="start", arguments="x" * 120, chat=STRANGER_CHAT)
            def one(command: str, arguments: str, chat: int) -> None:
                text = f"/{command} {arguments}".rstrip()
                before = said_to(api, app.engine, chat)
                handle(running, api, {"update_id": next(ids), "message": message(chat, next(ids), date=WHEN,
                                                                                  text=text)})
                said = "\n".join(said_to(api, app.engine, chat) - before)  # what is new
                assert said.strip(), f"no answer to {text!r}"
                assert "Traceback" not in said and "Sorry, something went wrong" not in said, said
                if chat == ALICE_CHAT:
                    for theirs in NOT_ALICES:
                        assert theirs not in said or theirs in arguments, (text, said)
                if chat == STRANGER_CHAT:
                    assert linking.linked_contact(app.engine, STRANGER_CHAT) is None

            one()
            press = button_press(ALICE_CHAT, "p:1:00000000:2025-26-Q1", message_id=5)
            handle(running, api, {"update_id": next(ids), "callback_query": press})
    assert not [r for r in caplog.records if "Telegram update" in r.getMessage()], "a handler failed"
