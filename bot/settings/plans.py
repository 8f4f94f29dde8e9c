"""`[plans]`: how long a provider has to complete an action plan or answer a request for information, and when
an agreed action's date is reminded (bot/plans, jobs/plans.py)."""

from __future__ import annotations

from pydantic import Field

from bot.settings.base import Model


class Plans(Model):
    # An action plan is due this many working days (England and Wales) after the return whose red opened it.
    response_working_days: int = Field(default=10, ge=1, le=60)
    # An agreed action is reminded this many days before its date (on the working day before when it falls on a
    # holiday), once; past its date it climbs the escalation ladder at each overdue notice (jobs/plans.py).
    action_reminder_days: int = Field(default=5, ge=0, le=60)
    # A plan still to complete, and a request still to answer, is reminded this many days before its deadline.
    reminder_days: int = Field(default=2, ge=0, le=60)
