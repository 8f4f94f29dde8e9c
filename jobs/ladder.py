"""The escalation ladder for late returns, per contract and return type.

A run of consecutive late periods of one return climbs the ladder: the first late period is told to the provider
(the overdue notice is that notice), the second is a warning to the provider with its manager and the commissioner
copied, and the run reaching the contract's count is a service failure, notified to the commissioner once, citing
the contract's rule. An on-time return resets the run; after a service failure the count starts again, so six late
quarters are two service failures, and the late periods in between carry on being warned about.

`ladder_for` is the one place that decides which contracts escalate and how far.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot import config
from bot.storage.models import Contract
from kpi_core.escalation import SERVICE_FAILURE_RUN

# The lifestyle schedule, 2.5 Data Submission KPIs: the rule a service-failure notice cites.
RULE = ("If data or information is not submitted to the Council as per the required timescales for three "
        "consecutive periods, then this will result in service failure")
RULE_SOURCE = "Contract Management and Quality Assurance schedule, 2.5 Data Submission KPIs"

Kind = Literal["late", "warning", "service_failure"]
PROVIDER = ("provider_submitter", "provider_manager")


@dataclass(frozen=True)
class Step:
    """Where one late period stands on the ladder, and whom its escalation notice goes to."""

    level: int  # written to Obligation.escalation_level: 1 late, 2 late again, 3 service failure
    kind: Kind
    run: int  # consecutive late periods, this one included
    audience: tuple[str, ...]  # contact roles told (the level-1 notice is the overdue notice itself)


@dataclass(frozen=True)
class Ladder:
    failure_after: int | None  # consecutive late periods that make a service failure; None: no such rule
    rule: str = RULE
    source: str = RULE_SOURCE

    def step(self, run: int) -> Step:
        """The step for the `run`-th consecutive late period (run >= 1)."""
        n = self.failure_after
        if n is not None and run % n == 0:
            return Step(3, "service_failure", run, ("commissioner",))
        if run == 1:
            return Step(1, "late", run, ())
        level = 3 if n is not None and run > n else 2
        return Step(level, "warning", run, (*PROVIDER, "commissioner"))


def ladder_for(contract: Contract, return_type: str, settings: config.Settings) -> Ladder | None:
    """The ladder late returns of `return_type` climb under `contract`, or None when they escalate nowhere.

    Today every contract has the lifestyle schedule's rule (kpi_core/escalation.py). Where a contract's terms
    decide (issue 12), this is the line to change: the count from the contract's terms
    (`service_failure_after_late`, None when the contract has no such rule) and its own wording."""
    return Ladder(SERVICE_FAILURE_RUN)
