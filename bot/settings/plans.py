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
    # A framework's evidence documents (the annual return's insurance certificate, workforce development plan,
    # policies: items with `document` in the framework) are asked for as requests this many days before the return
    # they belong to is due, or as soon as it arrives. Returns due before the deployment started are not asked.
    evidence_lead_days: int = Field(default=30, ge=0, le=366)
    # An insurance certificate (an evidence document with an expiry date) is reminded to the provider and the
    # council this many days before it lapses, once.
    insurance_reminder_days: int = Field(default=30, ge=1, le=366)
