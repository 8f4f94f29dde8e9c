"""Where the council's review of returns stands, read from storage: what waits on whom, each return's history,
the spot checks and corrections that count against accuracy, and the payments a person has confirmed.

The review's moves are made in bot/review; these reads serve everything below it that shows them (reports, the
data-submission KPIs) and everything above (the command line, chat, the scheduler's digest).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.storage.db import fetch_rows, table_of
from bot.storage.models import Contact, Contract, Obligation
from bot.storage.review_models import PaymentConfirmation, Review, ReviewEvent, ReviewQuery, SpotCheck

ON_COUNCIL = ("waiting", "answered")  # the council's move
ON_PROVIDER = ("queried",)  # the provider's move


@dataclass(frozen=True)
class Waiting:
    """A return whose review waits on someone: the council (to review it, or to read an answer) or the provider
    (to answer a query, by `respond_by`)."""

    review_id: int
    contract_id: str
    contract_name: str
    obligation_id: int
    return_type: str
    period_id: str
    due_date: date
    submission_id: int
    version: int
    state: str
    since: datetime
    on: str  # council | provider
    query_id: int | None = None
    asked_at: datetime | None = None
    respond_by: date | None = None
    reason: str = ""
    about: tuple[str, ...] = ()

    def overdue(self, today: date) -> bool:
        return self.respond_by is not None and today > self.respond_by


def waiting(session: Session, contract_ids: list[str] | set[str] | None = None) -> list[Waiting]:
    """Every review that waits on someone (of `contract_ids`, when given), oldest first. Plain columns, not ORM
    objects: the overview and the digest read hundreds of these a page."""
    query = (sa.select(col(Review.id), col(Review.contract_id), col(Contract.name), col(Review.obligation_id),
                       col(Obligation.return_type), col(Review.period_id), col(Obligation.due_date),
                       col(Review.submission_id), col(Review.version), col(Review.state), col(Review.since))
             .join(Contract, col(Contract.id) == Review.contract_id)
             .join(Obligation, col(Obligation.id) == Review.obligation_id)
             .where(col(Review.state).in_(ON_COUNCIL + ON_PROVIDER)))
    if contract_ids is not None:
        query = query.where(col(Review.contract_id).in_(list(contract_ids)))
    rows: Sequence[Sequence[Any]] = fetch_rows(session, query.order_by(col(Review.since), col(Review.id)))
    open_queries: dict[int, Sequence[Any]] = {}
    if rows:
        for row in fetch_rows(session, sa.select(col(ReviewQuery.review_id), col(ReviewQuery.id),
                                               col(ReviewQuery.asked_at), col(ReviewQuery.respond_by),
                                               col(ReviewQuery.state), col(ReviewQuery.reason),
                                               col(ReviewQuery.about))
                            .where(col(ReviewQuery.review_id).in_([r[0] for r in rows]),
                                   col(ReviewQuery.state).in_(("open", "answered")))
                            .order_by(col(ReviewQuery.id))):
            open_queries[row[0]] = row  # the latest, as bot/review/scene.py's open_query
    found = []
    for review_id, contract_id, name, obligation_id, return_type, period_id, due, submission_id, version, state, \
            since in rows:
        q = open_queries.get(review_id)
        found.append(Waiting(
            review_id, contract_id, name, obligation_id, return_type, period_id, due, submission_id, version, state,
            since, "provider" if state in ON_PROVIDER else "council",
            q[1] if q else None, q[2] if q else None, q[3] if q and q[4] == "open" else None,
            q[5] if q else "", tuple(q[6]) if q else ()))
    return found


def review_of(session: Session, obligation_id: int | None) -> Review | None:
    return session.exec(select(Review).where(Review.obligation_id == obligation_id)).first()


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    action: str
    version: int | None
    actor: str  # a name, or "kpibot"
    channel: str
    note: str
    to_state: str
    query_id: int | None = None  # the query it asked, answered or (a new version) corrected


def history(session: Session, review_id: int) -> list[HistoryEntry]:
    """The review's moves and spot checks, oldest first, with who made each."""
    rows = session.exec(select(ReviewEvent, Contact.name)
                        .outerjoin(Contact, col(Contact.id) == ReviewEvent.actor_contact_id)
                        .where(ReviewEvent.review_id == review_id)
                        .order_by(col(ReviewEvent.at), col(ReviewEvent.id))).all()
    return [HistoryEntry(e.at, e.action, e.version, name or e.actor, e.channel, e.note, e.to_state, e.query_id)
            for e, name in rows]


@dataclass(frozen=True)
class Inaccuracy:
    """Why a return counts against the accuracy of returns, beyond being rejected or corrected."""

    obligation_id: int
    at: datetime
    kind: str  # spot_check | query
    note: str


def inaccuracies(session: Session, obligation_ids: list[int]) -> dict[int, list[Inaccuracy]]:
    """Spot checks that found a return's figures inaccurate, and queries its provider answered with a corrected
    version, by obligation (oldest first)."""
    if not obligation_ids:
        return {}
    # Both kinds in one statement: the spot checks first, then the queries, each oldest first.
    spot, query, review = table_of(SpotCheck), table_of(ReviewQuery), table_of(Review)
    checks = sa.select(spot.c.obligation_id.label("obligation_id"), spot.c.checked_at.label("at"),
                       sa.literal(0).label("kind"), spot.c.note.label("note")) \
        .where(spot.c.obligation_id.in_(obligation_ids), spot.c.accurate.is_(False))
    queries = sa.select(review.c.obligation_id, query.c.asked_at, sa.literal(1), query.c.reason) \
        .join(review, review.c.id == query.c.review_id) \
        .where(review.c.obligation_id.in_(obligation_ids), query.c.state == "corrected")
    found: dict[int, list[Inaccuracy]] = {}
    for obligation_id, at, kind, note in session.execute(
            sa.union_all(checks, queries).order_by(sa.literal_column("kind"), sa.literal_column("at"))):
        found.setdefault(obligation_id, []).append(
            Inaccuracy(obligation_id, at, "query" if kind else "spot_check", note))
    return found


def confirmations(session: Session, contract_id: str, year_id: str) -> dict[str, PaymentConfirmation]:
    """The payments of a contract's year that a person has confirmed (and not reopened since), by rule."""
    return {c.rule_id: c for c in session.exec(select(PaymentConfirmation).where(
        PaymentConfirmation.contract_id == contract_id, PaymentConfirmation.year_id == year_id,
        PaymentConfirmation.state == "confirmed"))}


def state_of(session: Session, obligation_ids: list[int]) -> dict[int, str]:
    """The review state of each obligation that has a review."""
    if not obligation_ids:
        return {}
    return dict(session.exec(select(Review.obligation_id, Review.state)
                             .where(col(Review.obligation_id).in_(obligation_ids))).all())
