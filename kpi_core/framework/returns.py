"""The returns a contract requires and their due-date rules ("the 15th of the month after the quarter")."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from kpi_core.framework.base import Model


class DayOfNextMonth(Model):
    """`day` of the month after the period ends: the 15th of the month after the quarter."""

    rule: Literal["day_of_next_month"]
    day: int = Field(ge=1, le=28)
    roll_to_working_day: bool = False


class DateAfter(Model):
    """The first `day` `month` after the period ends: 30 April after the year."""

    rule: Literal["date_after"]
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    roll_to_working_day: bool = False

    @model_validator(mode="after")
    def _real_date(self) -> "DateAfter":
        import calendar

        if self.day > calendar.monthrange(2023, self.month)[1]:
            raise ValueError(f"month {self.month} has no day {self.day}")
        return self


class WorkingDaysAfter(Model):
    """N working days (England and Wales) after the period ends."""

    rule: Literal["working_days_after"]
    days: int = Field(ge=1, le=260)
    roll_to_working_day: bool = False


class DaysAfter(Model):
    """N calendar days after the period ends."""

    rule: Literal["days_after"]
    days: int = Field(ge=0, le=366)
    roll_to_working_day: bool = False


class EndOfNextMonth(Model):
    """The last day of the month after the period ends: "the end of the month of the monitoring return"."""

    rule: Literal["end_of_next_month"]
    roll_to_working_day: bool = False


DueRule = Annotated[DayOfNextMonth | DateAfter | WorkingDaysAfter | DaysAfter | EndOfNextMonth,
                    Field(discriminator="rule")]


class ReturnType(Model):
    """A monitoring return the contract requires, e.g. the quarterly workbook.

    `assumed` says, in words, what kpibot chose where the schedule is silent (no due date given, no such return
    named); empty when the schedule states the return and its due date.
    """

    label: str
    frequency: Literal["monthly", "quarterly", "annual"]
    due: DueRule
    meeting: DueRule | None = None  # the performance meeting on this return, when the schedule sets one
    assumed: str = ""
