"""`[meetings]`: when the quarterly meeting pack goes to the council before the performance meeting
(jobs/meetings.py)."""

from __future__ import annotations

from pydantic import Field

from bot.settings.base import Model


class Meetings(Model):
    # The pack goes to the contract's commissioners this many working days (England and Wales) before the meeting
    # the schedule sets (schedule 2.4.1: "the end of the month of the monitoring return").
    pack_working_days: int = Field(default=5, ge=0, le=30)
