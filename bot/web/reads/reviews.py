"""The council's review of returns, as the workspace reads it: bot/review keeps the rules and makes the moves;
bot/assessment/reviews.py says what waits on whom. This reads, for many returns at once (two queries), the state
of each return's review and its query still waiting, for the grid, the return page and the feed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col

from bot.storage.db import fetch_rows
from bot.storage.review_models import Review, ReviewQuery


@dataclass(frozen=True)
class ReviewState:
    review_id: int
    obligation_id: int
    submission_id: int
    version: int
    state: str  # waiting | queried | answered | signed_off
    since: datetime
    query_id: int | None = None  # the query still waiting (asked, or answered and not yet settled)
    respond_by: date | None = None  # while it waits for the provider's answer
    reason: str = ""


def review_states(session: Session, obligation_ids: list[int]) -> dict[int, ReviewState]:
    """Each obligation's review, by obligation id (an obligation with no accepted version has none)."""
    if not obligation_ids:
        return {}
    # Plain columns: a page of hundreds of ORM objects costs more than its SQL.
    reviews = fetch_rows(session, sa.select(col(Review.id), col(Review.obligation_id), col(Review.submission_id),
                                            col(Review.version), col(Review.state), col(Review.since))
                         .where(col(Review.obligation_id).in_(obligation_ids)))
    asked: dict[int, tuple[int, date | None, str, str]] = {}  # review: its latest query's id, by, state, reason
    for of_review, query_id, respond_by, query_state, reason in fetch_rows(session, sa.select(
            col(ReviewQuery.review_id), col(ReviewQuery.id), col(ReviewQuery.respond_by), col(ReviewQuery.state),
            col(ReviewQuery.reason))
            .where(col(ReviewQuery.review_id).in_([r[0] for r in reviews]),
                   col(ReviewQuery.state).in_(("open", "answered")))
            .order_by(col(ReviewQuery.id))) if reviews else ():
        assert query_id is not None
        asked[of_review] = (query_id, respond_by, query_state, reason)  # the latest, as bot/review/scene.py's
    found = {}
    for review_id, obligation_id, submission_id, version, state, since in reviews:
        assert review_id is not None
        waiting = asked.get(review_id)
        found[obligation_id] = ReviewState(
            review_id, obligation_id, submission_id, version, state, since, waiting[0] if waiting else None,
            waiting[1] if waiting is not None and waiting[2] == "open" else None, waiting[3] if waiting else "")
    return found
