"""What kpibot says about a schedule (assumptions, discrepancies, what it does not score) and later versions."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from kpi_core.framework.base import Model, Ref


class Assumption(Model):
    """A choice kpibot made where the schedule is silent or ambiguous, for the commissioner to confirm."""

    about: str
    text: str


class Discrepancy(Model):
    """Something in the schedule itself that does not add up; kpibot keeps the schedule's figures."""

    about: str
    text: str


class NotEncoded(Model):
    """A requirement of the schedule that kpibot does not score, and why."""

    about: str
    why: str


class IndicatorChange(Model):
    """Fields of one indicator that change in a later version (a new target, a reviewed threshold)."""

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)
    ref: Ref


class Version(Model):
    """A framework version in force from a contract year on: year-2 targets, a review at 24 months."""

    version: str
    from_contract_year: int = Field(ge=2, le=50)
    notes: str = ""
    indicators: tuple[IndicatorChange, ...] = ()
