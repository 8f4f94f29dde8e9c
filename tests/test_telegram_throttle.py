"""Telegram's flood limits kept before sending: a second per chat, three per group, thirty a second overall."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st
from telegram_fixtures import FakeTime

from bot.channels.telegram.throttle import OVERALL_GAP, Throttle


def test_messages_to_one_chat_are_a_second_apart() -> None:
    time = FakeTime()
    throttle = Throttle(time.clock)
    assert [throttle.book(1001) for _ in range(3)] == [0.0, 1.0, 2.0]


def test_messages_to_a_group_are_three_seconds_apart() -> None:
    throttle = Throttle(FakeTime().clock)
    assert [throttle.book(-100555) for _ in range(3)] == [0.0, 3.0, 6.0]


def test_a_slot_further_than_allowed_is_not_booked() -> None:
    throttle = Throttle(FakeTime().clock)
    throttle.book(1001)
    assert throttle.book(1001, max_wait=0.5) == 1.0  # too far: the caller reschedules
    assert throttle.book(1001) == 1.0  # still free: nothing was booked


def test_waiting_happens_on_the_event_loop() -> None:
    time = FakeTime()
    throttle = Throttle(time.clock, time.sleep)

    async def three() -> None:
        for _ in range(3):
            await throttle.wait(7)

    asyncio.run(three())
    assert time.slept == [1.0, 1.0]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-3, 40), st.floats(0, 0.5)), min_size=1, max_size=200))
def test_no_second_ever_holds_more_than_thirty_messages_nor_a_chat_two(sends: list[tuple[int, float]]) -> None:
    time = FakeTime()
    throttle = Throttle(time.clock)
    booked: list[tuple[float, int]] = []
    for chat, pause in sends:
        time.now += pause
        booked.append((time.now + throttle.book(chat), chat))
    moments = sorted(m for m, _ in booked)
    for i, start in enumerate(moments):
        assert sum(1 for m in moments[i:] if m < start + 1) <= 30
    assert all(b - a >= OVERALL_GAP - 1e-6 for a, b in zip(moments, moments[1:]))
    for chat in {c for _, c in booked}:
        mine = sorted(m for m, c in booked if c == chat)
        gap = 3.0 if chat < 0 else 1.0
        assert all(b - a >= gap - 1e-6 for a, b in zip(mine, mine[1:]))
