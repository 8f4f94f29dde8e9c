"""Telegram's flood limits, kept before each call rather than learnt from 429s.

The Bot API allows about one message a second to one chat, thirty a second overall and twenty a minute to one
group. Every message this process sends (outbox deliveries and the channel's direct answers alike) books a slot
here first: messages to one chat are spaced a second apart (three for a group: twenty a minute), and any two
messages at least 1/30 s apart, so no second ever holds more than thirty. A slot a moment away is waited for on
the event loop; one further away is refused, so the outbox reschedules that message instead of holding the
dispatcher. The limits are per process: several senders on one token must each keep a share.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Awaitable, Callable

PER_CHAT_SECONDS = 1.0
PER_GROUP_SECONDS = 3.0  # 20 a minute
OVERALL_GAP = 1 / 30


class Throttle:
    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        """`clock` gives seconds (monotonic); `sleep` waits on the event loop. Tests pass a fake pair."""
        self.clock = clock
        self.sleep = sleep
        self._next_for_chat: dict[int, float] = {}
        self._booked: list[float] = []  # every booked send time, sorted

    def book(self, chat_id: int, max_wait: float | None = None) -> float:
        """Book the earliest slot for a message to `chat_id` and return the seconds until it. A slot more than
        `max_wait` away is not booked: the caller sees the longer wait and sends later."""
        now = self.clock()
        self._forget_before(now - 2)
        at = _free_from(self._booked, max(now, self._next_for_chat.get(chat_id, now)))
        if max_wait is not None and at - now > max_wait:
            return at - now
        self._next_for_chat[chat_id] = at + (PER_GROUP_SECONDS if chat_id < 0 else PER_CHAT_SECONDS)
        bisect.insort(self._booked, at)
        return at - now

    async def wait(self, chat_id: int) -> None:
        """Wait (on the event loop) for the next slot to `chat_id`."""
        delay = self.book(chat_id)
        if delay:
            await self.sleep(delay)

    def _forget_before(self, moment: float) -> None:
        del self._booked[:bisect.bisect_left(self._booked, moment)]
        for chat_id in [c for c, free in self._next_for_chat.items() if free < moment]:
            del self._next_for_chat[chat_id]


def _free_from(booked: list[float], at: float) -> float:
    """The earliest moment from `at` at least OVERALL_GAP from every booked one."""
    while True:
        index = bisect.bisect_left(booked, at - OVERALL_GAP + 1e-9)
        if index == len(booked) or booked[index] >= at + OVERALL_GAP - 1e-9:
            return at
        at = booked[index] + OVERALL_GAP
