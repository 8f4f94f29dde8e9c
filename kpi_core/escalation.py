"""Escalation of late returns, and the service failure rule where a contract has one.

The lifestyle schedule (2.5): "If data or information is not submitted ... as per the required timescales for three
consecutive periods, then this will result in service failure" ("the three periods are proportionate to the set
timescales": three quarters for a quarterly return). Other schedules state no such rule, so their escalation stops
at telling the provider's manager. A service failure is an event: recorded with its periods once the run reaches
the count, on the record for the rolling year after, while the run itself starts again.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kpi_core.calendar import add_months
from kpi_core.terms import ContractTerms

ROLLING_MONTHS = 12


@dataclass(frozen=True, slots=True)
class ServiceFailureRule:
    """`consecutive` late periods of one return type make a service failure."""

    consecutive: int


@dataclass(frozen=True, slots=True)
class Escalation:
    level: int  # 0 none, 1 late, 2 late again, 3 service failure
    label: str
    audience: tuple[str, ...]  # contact roles to tell

    @property
    def service_failure(self) -> bool:
        return self.level >= 3


ON_TIME = Escalation(0, "On time", ())
LATE = Escalation(1, "Late: overdue notice to the provider", ("provider_submitter",))
LATE_AGAIN = Escalation(2, "Late for a second consecutive period: provider manager informed",
                        ("provider_submitter", "provider_manager"))


def escalation_rule_for(terms: ContractTerms) -> ServiceFailureRule | None:
    """The contract's service failure rule, or None when its terms have none."""
    n = terms.service_failure_after_late
    return ServiceFailureRule(n) if n else None


def escalation_for(consecutive_late: int, rule: ServiceFailureRule | None) -> Escalation:
    """The escalation for a run of consecutive late or missing returns of one type under `rule`."""
    if consecutive_late <= 0:
        return ON_TIME
    if rule is not None and consecutive_late >= rule.consecutive:
        return Escalation(3, f"Service failure: {rule.consecutive} consecutive periods late",
                          ("provider_submitter", "provider_manager", "commissioner"))
    return LATE if consecutive_late == 1 else LATE_AGAIN


@dataclass(frozen=True, slots=True)
class PeriodRecord:
    """One obligation as the submission log knows it: was its return in by the due date?"""

    return_type: str
    period_id: str
    due: date
    timely: bool


@dataclass(frozen=True, slots=True)
class ServiceFailure:
    """A service failure: the late periods that made it, and the day it happened (the last one's due date)."""

    return_type: str
    periods: tuple[str, ...]
    occurred: date

    @property
    def key(self) -> str:
        return f"{self.return_type}:{self.periods[-1]}"


def service_failures(records: Sequence[PeriodRecord], rule: ServiceFailureRule | None) -> list[ServiceFailure]:
    """Every service failure in `records` (any order): each run of `rule.consecutive` late periods of one return
    type is one failure, after which the count starts again (six late quarters are two failures)."""
    if rule is None:
        return []
    failures = []
    by_type: dict[str, list[PeriodRecord]] = {}
    for record in sorted(records, key=lambda r: (r.return_type, r.due)):
        by_type.setdefault(record.return_type, []).append(record)
    for return_type, rows in by_type.items():
        run: list[PeriodRecord] = []
        for row in rows:
            run = [] if row.timely else run + [row]
            if len(run) == rule.consecutive:
                failures.append(ServiceFailure(return_type, tuple(r.period_id for r in run), run[-1].due))
                run = []
    return sorted(failures, key=lambda f: f.occurred)


def on_record(failures: Sequence[ServiceFailure], as_of: date, months: int = ROLLING_MONTHS) -> list[ServiceFailure]:
    """The failures still on the record on `as_of`: those that happened in the `months` up to it."""
    first = add_months(as_of.replace(day=1), -months)
    start = first.replace(day=min(as_of.day, calendar.monthrange(first.year, first.month)[1]))
    return [f for f in failures if start < f.occurred <= as_of]
