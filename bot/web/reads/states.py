"""Where a return owed stands, in the five words of the workspace: due, late, received, queried, signed off.

Each state is shown by a word and a shape as well as a colour (the same rule as the reports' RAG statuses).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kpi_core.formatting import plural


@dataclass(frozen=True, slots=True)
class StateView:
    key: str  # css class: due, late, received, queried, signed_off
    word: str  # `Late`
    symbol: str  # a shape per state
    detail: str = ""  # `12 days overdue`, `arrived 6 days late`, `rejected: 2 errors`

    @property
    def label(self) -> str:
        return f"{self.symbol} {self.word}"


SYMBOLS = {"due": "○", "late": "■", "received": "◆", "queried": "?", "signed_off": "✓"}
WORDS = {"due": "Due", "late": "Late", "received": "Received", "queried": "Queried", "signed_off": "Signed off"}
# The review's states (bot/review/table.py) as the workspace's words.
REVIEW_STATE = {"waiting": "received", "answered": "received", "queried": "queried", "signed_off": "signed_off"}
LATEST_WORDS = {"rejected": "rejected", "held": "waiting for the provider to say which return it is",
                "failed": "could not be processed", "quarantined": "refused as possible personal data"}


def state_of(due: date, today: date, accepted: bool, review_state: str | None, latest_status: str | None,
             days_late_on_arrival: int | None) -> StateView:
    """The state of a return owed: `accepted` when a version is in force, with its review's state (None before
    reviews exist); otherwise the latest attempt's status (None when nothing came)."""
    if accepted:
        key = REVIEW_STATE.get(review_state or "", "received")
        detail = ""
        if review_state == "waiting" or (review_state is None and key == "received"):
            detail = "waiting for review" if review_state else ""
        elif review_state == "answered":
            detail = "query answered: waiting for review"
        if days_late_on_arrival:
            late = f"arrived {plural(days_late_on_arrival, 'day')} late"
            detail = f"{detail}; {late}" if detail else late
        return StateView(key, WORDS[key], SYMBOLS[key], detail)
    tried = LATEST_WORDS.get(latest_status or "", "")
    if today > due:
        overdue = f"{plural((today - due).days, 'day')} overdue"
        return StateView("late", WORDS["late"], SYMBOLS["late"], f"{overdue}; {tried}" if tried else overdue)
    return StateView("due", WORDS["due"], SYMBOLS["due"], f"due {due.day} {due:%b %Y}" + (f"; {tried}" if tried else ""))
