"""The council's and the provider's acts on a return under review: one function each, whatever the channel.

Every act is one write transaction that
1. finds who acts and the part they play in the contract's review (bot/authz/policy.py), and refuses anyone who
   plays none in the same words whether or not the return exists;
2. refuses an act on a version since replaced, and an act the table (bot/review/table.py) has no row for, in
   words that say what to do instead;
3. moves the review with a conditional update (`UPDATE review ... WHERE id = ? AND state = ? AND submission_id
   = ?`): no row changed means someone else acted first, and the act is refused saying who and what;
4. writes the review's history (who, when, through which channel, on which version) and the audit log, and queues
   the row's messages, all before it commits.
The command line, Telegram, email and (later) the web workspace call these and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.assessment.submission_kpis import local_date
from bot.review import about as subjects
from bot.review import table as t
from bot.review.accuracy import counts_against
from bot.review.messages import Story, names, tell, when
from bot.review.scene import Act, Outcome, Refused, Scene, actor, audiences, open_query, part_of, scene_of
from bot.storage.audit import record
from bot.storage.db import retrying, write_session
from bot.storage.models import Contact
from bot.storage.review_models import Review, ReviewEvent, ReviewQuery, SpotCheck
from kpi_core.duedates import add_working_days

NOT_YOURS = "That return is not one you may review or answer for: it is not one of your contracts."
MAX_TEXT = subjects.MAX_REASON
DONE = {t.OPEN: "received it", t.RESUBMIT: "sent a new version", t.SIGN_OFF: "signed it off", t.QUERY: "queried it",
        t.ANSWER: "answered the query", t.SPOT_CHECK: "recorded a spot check"}


class Raced(Exception):
    """The conditional update changed no row: someone else moved the review first."""


def clean(text: str | None) -> str:
    """What a person typed, without trailing spaces, runs of blank lines or control characters, bounded."""
    lines = ["".join(ch for ch in line if ch.isprintable() or ch == "\t").rstrip()
             for line in (text or "").replace("\r\n", "\n").split("\n")]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    return "\n".join(kept).strip()[:MAX_TEXT]


# -- the acts ----------------------------------------------------------------------------------------------------

def sign_off(engine: sa.Engine, settings: config.Settings, act: Act, review_id: int, submission_id: int) -> Outcome:
    """Agree the version's figures for the period. An open query closes with it."""
    def work(session: Session) -> Outcome:
        scene, contact, part = _begin(session, settings, act, review_id, submission_id)
        query = open_query(session, review_id)
        event, told = _move(session, settings, scene, act, contact, part, t.SIGN_OFF,
                            values=dict(signed_off_by=contact.id, signed_off_at=act.at),
                            query_id=query.id if query else None, asker=query.asked_by if query else None)
        if query is not None:
            query.state, query.closed_at, query.closed_how = "closed", act.at, "signed off"
        return Outcome(t.SIGN_OFF, t.SIGNED_OFF, f"Signed off: {scene.what}. Told: {names(told)}.", review_id,
                       query.id if query else None)
    return _run(engine, settings, act, work)


def query(engine: sa.Engine, settings: config.Settings, act: Act, review_id: int, submission_id: int, reason: str,
          about: Sequence[str] = ()) -> Outcome:
    """Ask the provider about the version: `reason` names the indicators or items in question (so may `about`)."""
    reason = clean(reason)

    def work(session: Session) -> Outcome:
        scene, contact, part = _begin(session, settings, act, review_id, submission_id)
        _allowed(scene, t.QUERY, part)
        hint = subjects.examples(scene.framework, scene.obligation.return_type)
        if len(reason) < subjects.MIN_REASON:
            raise Refused("A query needs a reason: say what looks wrong and name the indicators or items in "
                          f"question, for example {hint}.", "no_reason")
        named = _about(scene, about) + subjects.named_in(scene.framework, scene.obligation.return_type, reason)
        named = tuple(dict.fromkeys(named))
        if not named:
            raise Refused(f"Name the indicators or items in question in the reason (for example {hint}), so the "
                          "provider knows what to check.", "no_subject")
        earlier = open_query(session, review_id)
        if earlier is not None:  # answered, and asked again
            earlier.state, earlier.closed_at, earlier.closed_how = "closed", act.at, "queried again"
        respond_by = add_working_days(local_date(act.at, settings.timezone), settings.review.response_working_days)
        asked = ReviewQuery(review_id=review_id, submission_id=submission_id, version=scene.review.version,
                            asked_by=contact.id or 0, asked_at=act.at, channel=act.channel, reason=reason,
                            about=list(named), respond_by=respond_by)
        session.add(asked)
        session.flush()
        shown = tuple(subjects.shown(scene.framework, named))
        story = scene.story(who=contact.name, when=when(act.at, settings), note=reason, about=shown,
                            asked=when(act.at, settings), respond_by=f"{respond_by:%A} {respond_by.day} "
                            f"{respond_by:%B %Y}", again=earlier is not None)
        event, told = _move(session, settings, scene, act, contact, part, t.QUERY, note=reason, query_id=asked.id,
                            story=story)
        return Outcome(t.QUERY, t.QUERIED, f"Query sent about {scene.what} ({'; '.join(shown)}), to be answered by "
                       f"{story.respond_by}. Told: {names(told)}.", review_id, asked.id)
    return _run(engine, settings, act, work)


def answer(engine: sa.Engine, settings: config.Settings, act: Act, query_id: int, text: str) -> Outcome:
    """The provider's explanation of a query (a corrected file is a new version instead: see hooks.py)."""
    text = clean(text)

    def work(session: Session) -> Outcome:
        asked = session.get(ReviewQuery, query_id)
        review = session.get(Review, asked.review_id) if asked is not None else None
        if asked is None or review is None:
            raise Refused(NOT_YOURS, "not_yours")
        scene, contact, part = _begin(session, settings, act, review.id or 0, None)
        if part is None:
            raise Refused(NOT_YOURS, "not_yours")
        if asked.state != "open":
            raise Refused(_closed(session, settings, asked), "closed")
        _allowed(scene, t.ANSWER, part)
        if not text:
            raise Refused("Write your explanation of the figures in question (or send the corrected return "
                          "file instead).", "no_answer")
        done = session.execute(sa.update(ReviewQuery).where(col(ReviewQuery.id) == query_id,
                                                            col(ReviewQuery.state) == "open").values(
            state="answered", answer=text, answered_by=contact.id, answered_at=act.at, answer_channel=act.channel))
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise Raced(review.id)
        story = scene.story(who=contact.name, when=when(act.at, settings), note=text,
                            about=tuple(subjects.shown(scene.framework, asked.about)),
                            asked=when(asked.asked_at, settings), summary=asked.reason)
        event, told = _move(session, settings, scene, act, contact, part, t.ANSWER, note=text, query_id=query_id,
                            asker=asked.asked_by, story=story)
        return Outcome(t.ANSWER, t.ANSWERED, f"Your answer about {scene.what} was passed to {names(told)}. The "
                       "council will sign the return off or ask again.", review.id, query_id)
    return _run(engine, settings, act, work)


def record_spot_check(engine: sa.Engine, settings: config.Settings, act: Act, review_id: int, submission_id: int,
                      accurate: bool, note: str) -> Outcome:
    """Record that the council checked the version's figures against its own evidence, and what it found."""
    note = clean(note)

    def work(session: Session) -> Outcome:
        scene, contact, part = _begin(session, settings, act, review_id, submission_id)
        _allowed(scene, t.SPOT_CHECK, part)
        if len(note) < subjects.MIN_REASON:
            raise Refused("Say what was checked and what was found (for example: 'Q2 quit dates checked against "
                          "the clinic records: 12 counted twice').", "no_note")
        session.add(SpotCheck(review_id=review_id, obligation_id=scene.obligation.id or 0,
                              submission_id=submission_id, version=scene.review.version, checked_by=contact.id or 0,
                              checked_at=act.at, channel=act.channel, accurate=accurate, note=note))
        counts = counts_against(settings, scene, "spot_check") if not accurate else ""
        story = scene.story(who=contact.name, when=when(act.at, settings), note=note, accurate=accurate,
                            accuracy=counts)
        event, told = _move(session, settings, scene, act, contact, part, t.SPOT_CHECK,
                            note=("accurate: " if accurate else "inaccurate: ") + note, story=story)
        found = "accurate" if accurate else "inaccurate"
        return Outcome(t.SPOT_CHECK, scene.review.state, f"Spot check recorded: the figures of {scene.what} were "
                       f"found {found}.{(' ' + counts) if counts else ''} Told: {names(told)}.", review_id)
    return _run(engine, settings, act, work)


# -- the steps every act shares ----------------------------------------------------------------------------------

def _run(engine: sa.Engine, settings: config.Settings, act: Act, work: Callable[[Session], Outcome]) -> Outcome:
    """`work` in one write transaction (again after a transient database error); a repeated channel message
    gets the outcome it had; an act someone else beat is refused saying what happened."""
    def once() -> Outcome:
        with write_session(engine, expire_on_commit=False) as session:
            if act.key is not None and (earlier := _replay(session, settings, act.key)) is not None:
                return earlier
            try:
                outcome = work(session)
                session.commit()
                return outcome
            except Raced as raced:
                session.rollback()
                raise Refused(_beaten(session, settings, raced.args[0]), "acted_first") from None
            except sa.exc.IntegrityError:  # the same channel message, handled by another process a moment ago
                session.rollback()
                earlier = _replay(session, settings, act.key) if act.key is not None else None
                if earlier is None:
                    raise
                return earlier
    return retrying(once)


def _begin(session: Session, settings: config.Settings, act: Act, review_id: int,
           submission_id: int | None) -> tuple[Scene, Contact, str | None]:
    """The return's scene, who acts and their part; refuse a stranger, and an act on a replaced version."""
    contact = actor(session, act)
    review = session.get(Review, review_id)
    if review is None:
        raise Refused(NOT_YOURS, "not_yours")
    scene = scene_of(session, settings, review)
    part = part_of(session, contact, scene.contract)
    if part is None and submission_id is not None:
        raise Refused(NOT_YOURS, "not_yours")
    if submission_id is not None and submission_id != review.submission_id:
        old = session.exec(select(ReviewEvent).where(ReviewEvent.review_id == review_id,
                                                     ReviewEvent.submission_id == review.submission_id)
                           .order_by(col(ReviewEvent.id))).first()
        since = f" on {when(old.at, settings)}" if old else ""
        raise Refused(f"That version of {scene.contract.name}, {scene.period.label} was replaced by version "
                      f"{review.version}{since}: look at version {review.version} instead.", "superseded")
    return scene, contact, part


def _allowed(scene: Scene, action: str, part: str | None) -> None:
    row = t.transition(scene.review.state, action)
    if part is None or row is None or part not in row.who:
        raise Refused(f"{scene.what}: " + t.refusal(scene.review.state, action, part), "not_allowed")


def _move(session: Session, settings: config.Settings, scene: Scene, act: Act, contact: Contact, part: str | None,
          action: str, *, values: dict[str, object] | None = None, note: str = "", query_id: int | None = None,
          asker: int | None = None, story: Story | None = None) -> tuple[ReviewEvent, list[Contact]]:
    """Move the review by the table's row for `action`, record it and queue what it tells; raise Raced when the
    review moved since it was read."""
    review = scene.review
    _allowed(scene, action, part)
    row = t.transition(review.state, action)
    assert row is not None
    prior, signer = review.state, review.signed_off_by  # the update below refreshes the review it changes
    done = session.execute(sa.update(Review).where(
        col(Review.id) == review.id, col(Review.state) == prior,
        col(Review.submission_id) == review.submission_id).values(state=row.next, since=act.at, **(values or {})))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Raced(review.id)
    event = ReviewEvent(review_id=review.id, submission_id=review.submission_id, version=review.version,
                        action=action, from_state=prior, to_state=row.next, actor_contact_id=contact.id,
                        actor=contact.email, channel=act.channel, at=act.at, note=note, query_id=query_id,
                        source_key=act.key)
    session.add(event)
    session.flush()
    people = audiences(session, scene.contract, exclude=contact.id, asker=asker, signer=signer)
    told = tell(session, settings, row, event, story or scene.story(who=contact.name, when=when(act.at, settings)),
                people, query_id)
    record(session, act.at, contact.email, f"review_{action}", f"review:{review.id}",
           {"contract": review.contract_id, "period": review.period_id, "version": review.version,
            "channel": act.channel, "from": prior, "to": row.next, "query": query_id, "told": len(told)})
    return event, told


def _about(scene: Scene, about: Sequence[str]) -> tuple[str, ...]:
    """Indicator references and item ids given explicitly (the command line's --about), each checked."""
    refs = {i.ref.lower(): i.ref for i in scene.framework.indicators_for(scene.obligation.return_type)}
    items = {d.id.lower(): d.id for d in scene.framework.items_for(scene.obligation.return_type)}
    found = []
    for word in (w.strip() for w in about if w.strip()):
        key = refs.get(word.lower()) or items.get(word.lower())
        if key is None:
            raise Refused(f"{scene.return_label} of {scene.contract.name} has no indicator or item {word!r}; name "
                          f"one it has, for example {subjects.examples(scene.framework, scene.obligation.return_type)}.",
                          "unknown_subject")
        found.append(key)
    return tuple(found)


def _closed(session: Session, settings: config.Settings, asked: ReviewQuery) -> str:
    """Why a query no longer waits for an answer."""
    if asked.state == "answered":
        return (f"That query was answered on {when(asked.answered_at, settings)}; the council has the answer and "
                "will sign the return off or ask again.")
    if asked.state == "corrected":
        return (f"That query was answered by a corrected version on {when(asked.closed_at, settings)}; there is "
                "nothing more to answer.")
    how = {"signed off": "the council signed the return off", "queried again": "the council asked again"}
    return (f"That query was closed on {when(asked.closed_at, settings)} ({how.get(asked.closed_how, 'settled')}); "
            "there is nothing to answer.")


def _beaten(session: Session, settings: config.Settings, review_id: int) -> str:
    """What someone else did a moment before: the act that lost is refused with this."""
    review = session.get(Review, review_id)
    last = session.exec(select(ReviewEvent, Contact.name).outerjoin(Contact, col(Contact.id) ==
                                                                    ReviewEvent.actor_contact_id)
                        .where(ReviewEvent.review_id == review_id).order_by(col(ReviewEvent.id).desc())).first()
    if review is None or last is None:
        return "Someone else acted on this return a moment before you. Nothing was changed."
    event, name = last
    now = t.STATE_WORDS.get(review.state, review.state)
    if event.action in (t.RESUBMIT, t.OPEN):
        return (f"Version {review.version} arrived at {when(event.at, settings)}, a moment before you, and replaced "
                f"the version you acted on: it is now {now}. Nothing was changed.")
    return (f"{name or event.actor} {DONE.get(event.action, event.action)} at {when(event.at, settings)}, a moment "
            f"before you: it is now {now}. Nothing was changed.")


def _replay(session: Session, settings: config.Settings, key: str) -> Outcome | None:
    event = session.exec(select(ReviewEvent).where(ReviewEvent.source_key == key)).first()
    if event is None:
        return None
    return Outcome(event.action, event.to_state, f"Already recorded on {when(event.at, settings)}: nothing more "
                   "to do.", event.review_id, event.query_id, replayed=True)


def refusal_for(engine: sa.Engine, settings: config.Settings, contact_id: int, action: str, review_id: int,
                now: datetime, submission_id: int | None = None, query_id: int | None = None) -> str | None:
    """Why `contact_id` may not take `action` now (before asking them to type its words), or None when they may."""
    with Session(engine) as session:
        try:
            if query_id is not None:
                asked = session.get(ReviewQuery, query_id)
                if asked is None:
                    return NOT_YOURS
                review_id = asked.review_id
            scene, contact, part = _begin(session, settings, Act(contact_id, "", now), review_id,
                                          submission_id)
            if part is None:
                return NOT_YOURS
            if query_id is not None and asked is not None and asked.state != "open":
                return _closed(session, settings, asked)
            _allowed(scene, action, part)
        except Refused as exc:
            return exc.text
    return None
