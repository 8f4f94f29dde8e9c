"""Telegram delivery through the real python-telegram-bot client against the fake Bot API on 127.0.0.1: the
transport alone, then through the outbox dispatcher on a real database of each kind."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fake_telegram import TOKEN, FakeBotApi, running_fake_bot_api
from intake_fixtures import ALICE, NOW, received, sample_csv
from sqlmodel import Session, select
from telegram_fixtures import FakeTime

from bot.channels.telegram.linking import status_lines
from bot.channels.telegram.throttle import Throttle
from bot.channels.telegram.transport import MAX_WAIT, TelegramTransport
from bot.intake.service import Intake
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.transport import Outbound, TransportError
from bot.reports.chat import TELEGRAM_LIMIT, length
from bot.storage.delivery_models import ChannelPause
from bot.storage.files import FileStore
from bot.storage.models import AuditEvent, Contact, OutboxMessage

LONG = "\n".join(f"line {n}: " + "x" * 90 for n in range(100))  # about 10,000 characters: three messages


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with running_fake_bot_api() as api:
        yield api


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def transport(api: FakeBotApi, time: FakeTime) -> Iterator[TelegramTransport]:
    sender = TelegramTransport(TOKEN, api.base_url, api.base_file_url, throttle=Throttle(time.clock, time.sleep))
    yield sender
    sender.close()


def test_it_sends_the_text_and_the_report(api: FakeBotApi, transport: TelegramTransport) -> None:
    transport.send(Outbound("1001", "ignored", "✅ Q2 accepted", attachment=b"%PDF-1.7", attachment_name="q2.pdf"))
    [message] = api.sent("sendMessage")
    assert message.params["chat_id"] == "1001" and message.params["text"] == "✅ Q2 accepted"
    [document] = api.sent("sendDocument")
    assert document.files["document"] == b"%PDF-1.7"


def test_one_bot_is_reused_for_every_message(api: FakeBotApi, transport: TelegramTransport) -> None:
    for n in range(3):
        transport.send(Outbound(str(1000 + n), "", f"message {n}"))
    assert len(api.sent("sendMessage")) == 3
    assert [c.method for c in api.calls].count("getMe") == 1  # one Bot, initialised once


def test_a_long_reply_is_split_on_line_boundaries_a_second_apart(api: FakeBotApi, transport: TelegramTransport,
                                                                 time: FakeTime) -> None:
    transport.send(Outbound("1001", "", LONG))
    parts = [c.params["text"] for c in api.sent("sendMessage")]
    assert [p.split("\n", 1)[0] for p in parts] == ["(1/3)", "(2/3)", "(3/3)"]
    assert all(length(p) <= TELEGRAM_LIMIT for p in parts)
    assert "\n".join(p.split("\n", 1)[1] for p in parts) == LONG
    assert time.slept == [1.0, 1.0]  # one chat: a message a second


def test_a_chat_whose_next_slot_is_far_off_is_rescheduled_not_waited_for(api: FakeBotApi, time: FakeTime,
                                                                         transport: TelegramTransport) -> None:
    for _ in range(int(MAX_WAIT) + 1):  # book the group's slots ahead (3 s apart)
        transport.throttle.book(-100777)
    with pytest.raises(TransportError) as info:
        transport.send(Outbound("-100777", "", "hello group"))
    assert info.value.retry_after is not None and info.value.retry_after > MAX_WAIT
    assert api.sent("sendMessage") == [] and time.slept == []


def test_a_blocked_bot_is_a_permanent_error(api: FakeBotApi, transport: TelegramTransport) -> None:
    api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(TransportError) as info:
        transport.send(Outbound("1001", "", "hello"))
    assert info.value.permanent


def test_flood_control_says_when_to_retry(api: FakeBotApi, transport: TelegramTransport) -> None:
    api.fail("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    with pytest.raises(TransportError) as info:
        transport.send(Outbound("1001", "", "hello"))
    assert not info.value.permanent and info.value.retry_after == 3


def test_a_refused_token_is_not_the_contacts_fault(api: FakeBotApi) -> None:
    sender = TelegramTransport("999:wrong", api.base_url, api.base_file_url)
    with pytest.raises(TransportError) as info:
        sender.send(Outbound("1001", "", "hello"))
    sender.close()
    assert not info.value.permanent and info.value.scope == "channel"  # Telegram pauses; no contact is blamed


def test_a_chat_id_that_is_not_a_number_is_permanent(api: FakeBotApi, transport: TelegramTransport) -> None:
    with pytest.raises(TransportError) as info:
        transport.send(Outbound("alice@example.org", "", "hello"))
    assert info.value.permanent and api.calls == []


def test_sending_from_inside_the_loop_it_runs_on_is_refused(api: FakeBotApi, transport: TelegramTransport) -> None:
    async def inside() -> None:
        from telegram import Bot

        transport.attach(Bot(TOKEN, base_url=api.base_url), asyncio.get_running_loop())
        with pytest.raises(RuntimeError, match="worker thread"):
            transport.send(Outbound("1001", "", "hello"))
        transport.detach()

    asyncio.run(inside())


# -- through the outbox, on a real database ----------------------------------------------------------------------

def telegram_reply(intake: Intake, text: str) -> int:
    """Alice's return from her linked chat: its reply row, its text replaced by `text`."""
    intake.submit(received(sample_csv(), channel="telegram", sender="1001", caption="2025-26-Q2"))
    with Session(intake.engine) as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.channel == "telegram")).one()
        row.body_text = text
        session.commit()
        assert row.id is not None
        return row.id


def row(engine: sa.Engine, message_id: int) -> OutboxMessage:
    with Session(engine) as session:
        found = session.get(OutboxMessage, message_id)
        assert found is not None
        return found


def test_429_and_502_each_part_is_delivered_once_later(api: FakeBotApi, intake: Intake, files: FileStore,
                                                      transport: TelegramTransport) -> None:
    message_id = telegram_reply(intake, LONG)
    dispatcher = Dispatcher(intake.engine, {"telegram": transport}, files)
    api.fail("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7, after=1)  # at the 2nd part
    api.fail("sendMessage", 502, "Bad Gateway")  # and when it is tried again
    dispatcher.run_once(NOW)
    waiting = row(intake.engine, message_id)
    assert (waiting.status, waiting.parts_sent, waiting.next_attempt_at) == ("pending", 1, NOW + timedelta(seconds=7))
    dispatcher.run_once(NOW + timedelta(seconds=6))  # Telegram said 7 seconds: nothing before
    assert len(api.sent("sendMessage")) == 1
    dispatcher.run_once(NOW + timedelta(seconds=7))
    waiting = row(intake.engine, message_id)
    assert waiting.status == "pending" and "Bad Gateway" in waiting.last_error
    with Session(intake.engine) as session:  # a 502 is Telegram's as a whole: the channel pauses, not this chat
        pause = session.get(ChannelPause, "telegram")
    assert pause is not None and pause.until > NOW + timedelta(seconds=7) and waiting.attempts == 1
    dispatcher.run_once(pause.until)
    assert [c.params["text"][:5] for c in api.sent("sendMessage")] == ["(1/3)", "(2/3)", "(3/3)"]  # each once
    assert [c.status for c in api.calls if c.method == "sendMessage"] == [200, 429, 502, 200, 200]
    assert row(intake.engine, message_id).status == "sent"


def test_a_blocked_bot_disables_telegram_for_the_contact_and_shows_in_status(
        api: FakeBotApi, intake: Intake, files: FileStore, transport: TelegramTransport) -> None:
    telegram_reply(intake, "hello")
    api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    Dispatcher(intake.engine, {"telegram": transport}, files).run_once(NOW)
    with Session(intake.engine) as session:
        alice = session.exec(select(Contact).where(Contact.email == ALICE)).one()
        assert alice.telegram_disabled
    assert any(f"Telegram disabled for {ALICE}" in line for line in status_lines(intake.engine, NOW))


def test_a_group_that_became_a_supergroup_is_followed_and_the_message_resent(
        api: FakeBotApi, intake: Intake, files: FileStore, time: FakeTime) -> None:
    url = intake.engine.url.render_as_string(hide_password=False)
    sender = TelegramTransport(TOKEN, api.base_url, api.base_file_url, url, Throttle(time.clock, time.sleep))
    message_id = telegram_reply(intake, "hello")
    api.fail("sendMessage", 400, "Bad Request: group chat was upgraded to a supergroup chat", migrate_to=-100123)
    Dispatcher(intake.engine, {"telegram": sender}, files).run_once(NOW)
    sender.close()
    assert [c.chat_id for c in api.sent("sendMessage")] == [-100123]
    assert row(intake.engine, message_id).status == "sent"
    with Session(intake.engine) as session:
        alice = session.exec(select(Contact).where(Contact.email == ALICE)).one()
        assert alice.telegram_chat_id == -100123
        assert "telegram_chat_migrated" in [e.action for e in session.exec(select(AuditEvent))]
