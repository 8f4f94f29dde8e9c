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
from bot.assessment.in_context import terms_of
from bot.storage.models import Contract
from jobs.messages import number
from kpi_core import loader

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
    rule: str = ""  # the contract's words for the rule, quoted in the service-failure notice
    source: str = ""  # where they are

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
    """The ladder late returns of `return_type` climb under `contract`, or None when the contract no longer owes
    that return. A contract whose terms have no service-failure rule escalates to warnings only."""
    terms = terms_of(settings, contract)
    if return_type not in terms.returns:
        return None
    count = terms.service_failure_after_late
    if count is None:
        return Ladder(None)
    own = loader.get(contract.framework_id).terms
    if own.service_failure_after_late == count and own.service_failure_rule:  # the schedule's own words
        return Ladder(count, own.service_failure_rule, own.service_failure_source)
    return Ladder(count, f"Returns submitted late for {number(count)} consecutive periods are a service failure",
                  "the contract's terms, as set in kpibot's configuration")
