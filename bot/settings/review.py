"""`[review]`: how long a provider has to answer the council's query, when they are reminded, and how long a
Telegram prompt waits for the words it asked for (bot/review, jobs/queries.py)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from bot.settings.base import Model


class Review(Model):
    # A query's response deadline, in working days (England and Wales) after the day it is asked.
    response_working_days: int = Field(default=5, ge=1, le=60)
    # Reminders this many days before that deadline (0: on the day), moved to the working day before when needed;
    # after it, overdue notices follow `[scheduler] overdue_every_days` and `overdue_max`, as for returns.
    reminder_days: tuple[Annotated[int, Field(ge=0, le=60)], ...] = (2, 0)
    # A Telegram prompt (type the query's reason, type the answer) is forgotten after this many hours.
    prompt_hours: int = Field(default=24, ge=1, le=24 * 14)

    @field_validator("reminder_days")
    @classmethod
    def _distinct(cls, days: tuple[int, ...]) -> tuple[int, ...]:
        if len(set(days)) != len(days):
            raise ValueError(f"a day appears more than once in {list(days)}")
        return days
