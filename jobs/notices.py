"""What every notice says about a return owed, whatever carries it (an email, a chat message, a Teams card)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class About:
    """A return owed, as every notice about it names it."""

    contract_id: str
    contract_name: str
    provider_name: str
    return_label: str  # `Quarterly monitoring return`
    period_label: str  # `Q2 2025-26 (July 2025 to September 2025)`
    period: str  # `Q2 2025-26`
    due: str  # `Wednesday 15 October 2025`
    due_short: str  # `15 October 2025`
    state: str  # what was received and not accepted, e.g. `A version received on 12 October 2025 was rejected.`


@dataclass(frozen=True)
class LatePeriod:
    period_label: str
    due: str
    received: str  # `received 18 July 2025, 3 days late` or `not received`
