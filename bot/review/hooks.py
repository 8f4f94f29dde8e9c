"""The intake's side of the review: each accepted version opens its return's review, or the review follows it.

Called by the intake inside the transaction that saves the version (holding the return's lock), so the version,
its review and what they tell commit together. A new version of a return under review moves it by the table's
`resubmit` row, whatever state it was in: a query it answers is closed as corrected (linked to the version), a
sign-off it replaces is reopened (both sides are told), and a year's payment confirmed on the version it replaces
is reopened too. The reply to the provider says what the new version means for the review and for the accuracy
of returns (`before` and `reply_note`, read before the reply is written).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.assessment.reviews import review_of
from bot.review import about as subjects
from bot.review import table as t
from bot.review.accuracy import counts_against
from bot.review.messages import reaches, tell, when
from bot.review.payments import Confirmed, reopen_payments
from bot.review.scene import audiences, open_query, scene_of
from bot.storage.audit import event_row
from bot.storage.db import table_of
from bot.storage.models import Contact, Submission
from bot.storage.review_models import Review, ReviewEvent, ReviewQuery

ATTEMPTS = 5  # a review moved by someone else between the read and the conditional update is read again


@dataclass(frozen=True)
class Before:
    """Where a return's review stood before a new version arrived."""

    state: str  # `new` when no version was accepted before
    version: int | None = None
    signed_off: str = ""  # `Carol on 6 October 2025 at 10:30`
    query_asked: str = ""  # when the open query was asked
    query_about: tuple[str, ...] = ()
    accuracy: str = ""  # how a correction counts against the accuracy of returns
    # The review and its open query as read (detached): the save moves this row, if it has not moved meanwhile.
    review: Review | None = None
    query: ReviewQuery | None = None


def before(session: Session, settings: config.Settings, review: Review | None) -> Before:
    """Where `review` (a return's review, just read; None when it has none) stands, with its open query (read
    before the reply to a new version is written)."""
    if review is None:
        return Before(t.NEW)
    scene = scene_of(session, settings, review)
    # A query waits only while the review is queried or answered (bot/review/table.py): a query is asked into
    # `queried`, and each move to `waiting` or `signed_off` settles it (a corrected version, a sign-off), so a
    # review waiting or signed off has none to read.
    query = open_query(session, review.id) if review.state in (t.QUERIED, t.ANSWERED) else None
    signer = session.get(Contact, review.signed_off_by) if review.signed_off_by else None
    return Before(review.state, review.version,
                  f"{signer.name} on {when(review.signed_off_at, settings)}" if signer else "",
                  when(query.asked_at, settings) if query else "",
                  tuple(subjects.shown(scene.framework, query.about)) if query else (),
                  counts_against(settings, scene, "query" if query else "corrected"), review, query)


def reply_note(was: Before, accepted: bool) -> str:
    """What the reply to a new version says about the review (nothing when the version was not accepted: the one
    in force stays under review)."""
    if not accepted:
        return ""
    if was.state == t.NEW:
        return ("The council reviews every accepted return: you will hear when it is signed off, or if the council "
                "has a question about it.")
    lines = []
    if was.query_asked:
        about = f" about {'; '.join(was.query_about)}" if was.query_about else ""
        lines.append(f"This version answers the council's query of {was.query_asked}{about}.")
    elif was.state == t.SIGNED_OFF:
        lines.append(f"Version {was.version} was signed off by {was.signed_off}: this version reopens the review.")
    lines.append("It now waits for the council's review.")
    if was.accuracy:
        lines.append(was.accuracy)
    return " ".join(lines)


def version_accepted(session: Session, settings: config.Settings, submission: Submission, channel: str,
                     summary: str, now: datetime, seen: Before | None,
                     confirmed: Sequence[Confirmed]) -> list[dict[str, Any]]:
    """Open the review of the return `submission` is a version of, or move it onto `submission`; return the audit
    events to record with the version's own. `seen` is the review as read before the lock, when no version of the
    return was saved since (so no review was opened since): it is moved if it has not moved meanwhile (its state,
    version and `since` unchanged, so its open query is the same), else read again."""
    sender = session.get(Contact, submission.sender_contact_id) if submission.sender_contact_id else None
    if seen is not None:
        review = session.merge(seen.review, load=False) if seen.review is not None else None
    else:
        review = review_of(session, submission.obligation_id)
    if review is None:
        return _open(session, settings, submission, sender, channel, summary, now)
    for attempt in range(ATTEMPTS):
        if attempt:  # read just now, in this transaction (or before the lock), the first time
            review = session.exec(select(Review).where(Review.id == review.id)
                                  .execution_options(populate_existing=True)).one()
        prior, old_version, old_id, since = review.state, review.version, review.submission_id, review.since
        query = (session.merge(seen.query, load=False) if seen.query else None) if seen is not None and not attempt \
            else open_query(session, review.id)
        signer, signed_at = review.signed_off_by, review.signed_off_at
        done = session.execute(sa.update(Review).where(
            col(Review.id) == review.id, col(Review.state) == prior, col(Review.submission_id) == old_id,
            col(Review.since) == since).values(
            submission_id=submission.id, version=submission.version, state=t.WAITING, since=now,
            signed_off_by=None, signed_off_at=None))
        if done.rowcount == 1:  # type: ignore[attr-defined]
            break
    else:
        raise RuntimeError(f"review {review.id} kept changing under a new version; the save is retried")
    # The update set the session's copy of the review too (its criteria are evaluated in Python): not read again.
    assert (review.submission_id, review.state) == (submission.id, t.WAITING)
    scene = scene_of(session, settings, review)
    if query is not None:
        query.state, query.corrected_by_id, query.closed_at, query.closed_how = "corrected", submission.id, now, \
            "corrected"
    row = t.transition(prior, t.RESUBMIT)
    assert row is not None
    event = _event(session, review, t.RESUBMIT, prior, sender, channel, now,
                   f"version {submission.version} replaces version {old_version}", query.id if query else None)
    if reaches(settings, row):  # the story and who hears it, read only when someone can be told
        signed = session.get(Contact, signer) if signer else None
        if query is not None:
            lead = (f"🔁 Version {submission.version}, sent in answer to your query of "
                    f"{when(query.asked_at, settings)} about "
                    f"{'; '.join(subjects.shown(scene.framework, query.about)) or 'this return'}")
        elif prior == t.SIGNED_OFF:
            lead = (f"🔓 Reopened: version {old_version} was signed off by "
                    f"{signed.name if signed else 'the council'} on {when(signed_at, settings)}; "
                    f"version {submission.version} replaces it")
        else:
            lead = f"🆕 Version {submission.version} replaces version {old_version}, which was waiting for review"
        story = scene.story(who=sender.name if sender else "the provider", when=when(now, settings), lead=lead,
                            summary=summary, note=query.reason if query else "",
                            asked=when(query.asked_at, settings) if query else "",
                            accuracy=counts_against(settings, scene, "query" if query else "corrected"),
                            signed=f"{signed.name} on {when(signed_at, settings)}" if signed else "")
        people = audiences(session, scene.contract, exclude=None, asker=query.asked_by if query else None,
                           signer=signer)
        people.seen.add(sender.id or 0 if sender and sender.role != "commissioner" else 0)  # their reply says it
        tell(session, settings, row, event, story, people, query.id if query else None)
    if old_id is not None:
        reopen_payments(session, settings, scene, old_id, submission, sender, channel, now, confirmed)
    return [_audit(review, event, now)]


def _open(session: Session, settings: config.Settings, submission: Submission, sender: Contact | None, channel: str,
          summary: str, now: datetime) -> list[dict[str, Any]]:
    assert submission.obligation_id is not None and submission.contract_id and submission.period_id
    assert submission.id is not None and submission.version is not None
    review = Review(obligation_id=submission.obligation_id, contract_id=submission.contract_id,
                    period_id=submission.period_id, submission_id=submission.id, version=submission.version,
                    state=t.WAITING, since=now, opened_at=now)
    review.id = _inserted(session, review)
    scene = scene_of(session, settings, review)
    row = t.transition(t.NEW, t.OPEN)
    assert row is not None
    event = _event(session, review, t.OPEN, t.NEW, sender, channel, now, f"version {submission.version} accepted")
    if reaches(settings, row):
        story = scene.story(who=sender.name if sender else "the provider", when=when(now, settings),
                            lead=f"📥 New return for your review, received {when(now, settings)}", summary=summary)
        tell(session, settings, row, event, story, audiences(session, scene.contract, exclude=None))
    return [_audit(review, event, now)]


def _event(session: Session, review: Review, action: str, prior: str, sender: Contact | None, channel: str,
           now: datetime, note: str, query_id: int | None = None) -> ReviewEvent:
    event = ReviewEvent(review_id=review.id, submission_id=review.submission_id, version=review.version,
                        action=action, from_state=prior, to_state=t.WAITING,
                        actor_contact_id=sender.id if sender else None, actor=sender.email if sender else "kpibot",
                        channel=channel, at=now, note=note, query_id=query_id)
    event.id = _inserted(session, event)
    return event


def _inserted(session: Session, row: Review | ReviewEvent) -> int:
    """Insert `row` as one Core statement, not through the session (nothing reads it back); return its id."""
    table = table_of(type(row))
    return int(session.execute(_insert(table), {c.name: getattr(row, c.name) for c in table.columns
                                                if c.name != "id"}).scalar_one())


@functools.cache
def _insert(table: sa.Table) -> sa.Insert:
    """An insert of every column but the id, returning the id: built once, its values bound at each call."""
    return table.insert().returning(table.c.id)


def _audit(review: Review, event: ReviewEvent, now: datetime) -> dict[str, Any]:
    return event_row(now, event.actor, f"review_{event.action}", f"review:{review.id}",
                     {"contract": review.contract_id, "period": review.period_id, "version": review.version,
                      "channel": event.channel, "from": event.from_state, "to": event.to_state,
                      "query": event.query_id})
