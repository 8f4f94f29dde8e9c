"""What the service runs: periodic tasks and channels. Defined here, below both the scheduler's sweeps (jobs/) and
the run loop (bot/service/), so each builds on it and neither imports the other's callers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Task:
    """Periodic work: `run(now)` does what is due and returns how much it found (for the log)."""

    name: str
    run: Callable[[datetime], int]
    every_seconds: float


class Channel(Protocol):
    """A way returns come in (Telegram, email); it runs on the service's event loop until stopped."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...
