"""`[scheduler]`: when reminders, overdue notices, escalations and commissioners' reports go out (jobs/)."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Literal

from pydantic import Field, model_validator

from bot.settings.base import Model

Days = tuple[Annotated[int, Field(ge=0, le=366)], ...]


class Reminders(Model):
    """Reminder days for one return type (`[scheduler.return_types.<id>]`)."""

    reminder_days: Days | None = None  # days before the due date; 0 is the due date itself


class ContractReminders(Reminders):
    """Reminder days for one contract, and for its return types (`[scheduler.contracts.<id>]`)."""

    return_types: dict[str, Reminders] = {}


class Scheduler(Model):
    """`[scheduler]`: when reminders, overdue notices, escalations and commissioners' reports go out (jobs/)."""

    sweep_seconds: int = Field(default=300, ge=10, le=3600)  # how often `kpibot run` looks for what is due
    reminder_days: Days = (14, 3, 1, 0)
    return_types: dict[str, Reminders] = {}  # reminder days for one return type, e.g. annual
    contracts: dict[str, ContractReminders] = {}  # reminder days for one contract (and its return types)
    overdue_every_days: int = Field(default=7, ge=1, le=92)  # overdue notices: the working day after, then this
    overdue_max: int = Field(default=0, ge=0)  # at most this many overdue notices per return; 0: until accepted
    report_working_days: int = Field(default=5, ge=0, le=30)  # exception report this long after a deadline
    digest_weekday: Literal["monday", "tuesday", "wednesday", "thursday", "friday"] = "monday"
    send_from: time = time(9, 0)  # notices go out on working days between these local times
    send_until: time = time(17, 30)
    # Returns due before this date are not chased or escalated, and never count in a run of late periods. Unset,
    # it is the day the first `kpibot init` loaded the database (jobs/chase.py): a deployment starting in the
    # middle of a contract leaves its earlier returns to whoever handled them; an earlier day asks for them.
    chase_from: date | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "Scheduler":
        problems = ["send_from must be earlier than send_until"] if self.send_from >= self.send_until else []
        problems += [f"{where}: a day appears more than once in {list(days)}"
                     for where, days in self._all_days() if len(set(days)) != len(days)]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _all_days(self) -> list[tuple[str, Days]]:
        found = [("reminder_days", self.reminder_days)]
        for kind, table in (("return_types", self.return_types), ("contracts", self.contracts)):
            for key, entry in table.items():
                found += [(f"{kind}.{key}.reminder_days", entry.reminder_days)] if entry.reminder_days else []
                found += [(f"{kind}.{key}.return_types.{r}.reminder_days", e.reminder_days)
                          for r, e in getattr(entry, "return_types", {}).items() if e.reminder_days]
        return found

    def reminder_days_for(self, contract_id: str, return_type: str) -> Days:
        """The reminder days of one contract's return type: the most specific setting wins."""
        contract = self.contracts.get(contract_id)
        if contract is not None:
            for_type = contract.return_types.get(return_type)
            if for_type is not None and for_type.reminder_days is not None:
                return for_type.reminder_days
            if contract.reminder_days is not None:
                return contract.reminder_days
        for_type = self.return_types.get(return_type)
        if for_type is not None and for_type.reminder_days is not None:
            return for_type.reminder_days
        return self.reminder_days
