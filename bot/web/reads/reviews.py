"""The council's review of returns, as the workspace reads it (bot/review keeps the rules; this only reads).

Filled in once the review workflow is on this branch; until then no return has a review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session


@dataclass(frozen=True)
class ReviewState:
    review_id: int
    obligation_id: int
    submission_id: int
    version: int
    state: str  # waiting | queried | answered | signed_off
    since: datetime
    query_id: int | None = None
    respond_by: date | None = None
    reason: str = ""


def review_states(session: Session, obligation_ids: list[int]) -> dict[int, ReviewState]:
    """Each obligation's review, by obligation id (none before reviews exist)."""
    return {}
