"""Escalation of late returns, as the lifestyle schedule sets it: three consecutive late periods is a service
failure ("the three periods are proportionate to the set timescales": three quarters for a quarterly return).
"""

from __future__ import annotations

from dataclasses import dataclass

SERVICE_FAILURE_RUN = 3


@dataclass(frozen=True, slots=True)
class Escalation:
    level: int  # 0 none, 1 late, 2 late again, 3 service failure
    label: str
    audience: tuple[str, ...]  # contact roles to tell

    @property
    def service_failure(self) -> bool:
        return self.level >= SERVICE_FAILURE_RUN


LEVELS = (
    Escalation(0, "On time", ()),
    Escalation(1, "Late: overdue notice to the provider", ("provider_submitter",)),
    Escalation(2, "Late for a second consecutive period: provider manager informed",
               ("provider_submitter", "provider_manager")),
    Escalation(3, "Service failure: three consecutive periods late", ("provider_submitter", "provider_manager",
                                                                       "commissioner")),
)


def escalation_for(consecutive_late: int) -> Escalation:
    """The escalation for a run of consecutive late or missing returns of one type."""
    return LEVELS[min(max(consecutive_late, 0), SERVICE_FAILURE_RUN)]
