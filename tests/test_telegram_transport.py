"""Telegram delivery through the real python-telegram-bot client against a fake Bot API on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bot.outbox.telegram import TelegramTransport
from bot.reports.chat import TELEGRAM_LIMIT, length
from bot.outbox.transport import Outbound, TransportError
from fake_telegram import TOKEN, FakeBotApi, running_fake_bot_api

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with running_fake_bot_api() as api:
        yield api


def transport(api: FakeBotApi, token: str = TOKEN) -> TelegramTransport:
    return TelegramTransport(token, api.base_url, api.base_file_url)


def test_it_sends_the_text_and_the_report(api: FakeBotApi) -> None:
    transport(api).send(Outbound("1001", "ignored", "✅ Q2 accepted", attachment=b"%PDF-1.7",
                                 attachment_name="q2.pdf"))
    [message] = api.sent("sendMessage")
    assert message.params["chat_id"] == "1001" and message.params["text"] == "✅ Q2 accepted"
    [document] = api.sent("sendDocument")
    assert document.files["document"] == b"%PDF-1.7"


def test_a_long_reply_is_split_on_line_boundaries(api: FakeBotApi) -> None:
    text = "\n".join(f"line {n}: " + "x" * 90 for n in range(100))  # about 10,000 characters
    transport(api).send(Outbound("1001", "", text))
    parts = [c.params["text"] for c in api.sent("sendMessage")]
    assert [p.split("\n", 1)[0] for p in parts] == ["(1/3)", "(2/3)", "(3/3)"]
    assert all(length(p) <= TELEGRAM_LIMIT for p in parts)
    assert "\n".join(p.split("\n", 1)[1] for p in parts) == text


def test_a_blocked_bot_is_a_permanent_error(api: FakeBotApi) -> None:
    api.fail("sendMessage", 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(TransportError) as info:
        transport(api).send(Outbound("1001", "", "hello"))
    assert info.value.permanent


def test_flood_control_is_retried_later(api: FakeBotApi) -> None:
    api.fail("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    with pytest.raises(TransportError) as info:
        transport(api).send(Outbound("1001", "", "hello"))
    assert not info.value.permanent and "retry" in str(info.value).lower()


def test_a_chat_id_that_is_not_a_number_is_permanent(api: FakeBotApi) -> None:
    with pytest.raises(TransportError) as info:
        transport(api).send(Outbound("alice@example.org", "", "hello"))
    assert info.value.permanent and api.calls == []
