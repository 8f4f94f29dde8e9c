"""The provider's and the council's acts on an action plan: one function each, whatever the channel.

Every act is one write transaction that
1. finds who acts and the part they play in the contract (bot/authz/policy.py), and refuses anyone who plays none
   in the same words whether or not the plan exists;
2. refuses an act the table (bot/plans/table.py) has no row for, in words that say what to do instead;
3. moves the plan with a conditional update (`UPDATE action_plan ... WHERE id = ? AND state = ? AND revision = ?`):
   no row changed means someone else acted first, and the act is refused saying so;
4. writes the plan's history and the audit log, and queues the row's messages, all before it commits.
The command line and Telegram (and later the web workspace) call these and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.assessment.submission_kpis import local_date
from bot.authz.policy import review_role
from bot.plans import table as t
from bot.plans.drafts import ActionDraft, checked
from bot.plans.notify import People, tell
from bot.plans.scene import NOT_YOURS, PlanScene, scene_of, short_day, story
from bot.review.actions import clean
from bot.review.messages import names, when
from bot.review.scene import Act, Outcome, Refused, actor
from bot.storage.audit import record
from bot.storage.db import retrying, write_session
from bot.storage.models import Contact
from bot.storage.plan_models import ActionPlan, PlanAction, PlanEvent

MIN_COMMENT = 10


class Raced(Exception):
    """The conditional update changed no row: someone else moved the plan first."""


def complete(engine: sa.Engine, settings: config.Settings, act: Act, plan_id: int, reason: str,
             actions: Sequence[ActionDraft]) -> Outcome:
    """The provider's reason for non-compliance and actions (what, how, who, when): the plan goes to the council."""
    def work(session: Session) -> Outcome:
        scene, contact, part = _begin(session, act, plan_id)
        _allowed(scene, t.COMPLETE, part)
        text, written = checked(reason, actions, local_date(act.at, settings.timezone))
        plan = scene.plan
        revision = plan.revision + 1
        _move(session, settings, scene, act, contact, part, t.COMPLETE,
              values=dict(reason=text, revision=revision, comment=""),
              note=f"revision {revision}: {len(written)} action{'s' if len(written) != 1 else ''}",
              before_tell=lambda: session.add_all(
                  PlanAction(plan_id=plan_id, revision=revision, number=a.number, what=a.what, how=a.how,
                             who=a.who, due=a.due) for a in written))
        dates = ", ".join(short_day(a.due) for a in written)
        return Outcome(t.COMPLETE, t.SUBMITTED, f"Thank you: {scene.what} was sent to the council with "
                       f"{len(written)} action{'s' if len(written) != 1 else ''} (by {dates}). The council will agree "
                       "it or return it with a comment.", plan_id)
    return _run(engine, act, work)


def agree(engine: sa.Engine, settings: config.Settings, act: Act, plan_id: int) -> Outcome:
    """Agree the plan: each action's date becomes a commitment, reminded before and chased after."""
    def work(session: Session) -> Outcome:
        scene, contact, part = _begin(session, act, plan_id)
        told = _move(session, settings, scene, act, contact, part, t.AGREE,
                     values=dict(agreed_by=contact.id, agreed_at=act.at))
        return Outcome(t.AGREE, t.AGREED, f"Agreed: {scene.what}. Its actions are now followed: each is reminded "
                       f"before its date and chased after it. Told: {names(told)}.", plan_id)
    return _run(engine, act, work)


def send_back(engine: sa.Engine, settings: config.Settings, act: Act, plan_id: int, comment: str) -> Outcome:
    """Return the plan to the provider with a comment saying what to change."""
    comment = clean(comment)

    def work(session: Session) -> Outcome:
        scene, contact, part = _begin(session, act, plan_id)
        _allowed(scene, t.SEND_BACK, part)
        if len(comment) < MIN_COMMENT:
            raise Refused("Say what the provider should change (for example: 'Action 2 needs a named owner and a "
                          "date before the next return').", "no_comment")
        told = _move(session, settings, scene, act, contact, part, t.SEND_BACK, note=comment,
                     values=dict(comment=comment, agreed_by=None, agreed_at=None), comment=comment)
        return Outcome(t.SEND_BACK, t.RETURNED, f"Returned: {scene.what}, with your comment. Told: {names(told)}.",
                       plan_id)
    return _run(engine, act, work)


def close(engine: sa.Engine, settings: config.Settings, act: Act, plan_id: int, note: str) -> Outcome:
    """Close the plan (its actions are done, or it is no longer needed), saying why."""
    note = clean(note)

    def work(session: Session) -> Outcome:
        scene, contact, part = _begin(session, act, plan_id)
        _allowed(scene, t.CLOSE, part)
        if len(note) < MIN_COMMENT:
            raise Refused("Say why the plan closes (for example: 'All actions done; the target was re-negotiated').",
                          "no_note")
        told = _move(session, settings, scene, act, contact, part, t.CLOSE, note=note, comment=note,
                     values=dict(closed_at=act.at, closed_how="closed by the council"))
        return Outcome(t.CLOSE, t.CLOSED, f"Closed: {scene.what}. Told: {names(told)}.", plan_id)
    return _run(engine, act, work)


# -- the steps every act shares ----------------------------------------------------------------------------------

def _run(engine: sa.Engine, act: Act, work: Callable[[Session], Outcome]) -> Outcome:
    """`work` in one write transaction (again after a transient database error); a repeated channel message gets
    the outcome it had; an act someone else beat is refused."""
    def once() -> Outcome:
        with write_session(engine, expire_on_commit=False) as session:
            if act.key is not None and (earlier := _replay(session, act.key)) is not None:
                return earlier
            try:
                outcome = work(session)
                session.commit()
                return outcome
            except Raced:
                session.rollback()
                raise Refused("Someone else acted on this plan a moment before you: look at it again. Nothing was "
                              "changed.", "acted_first") from None
    return retrying(once)


def part_in(session: Session, contact: Contact, plan: ActionPlan) -> str | None:
    """The part `contact` plays in `plan`'s contract: commissioner, provider, or None (bot/authz/policy.py)."""
    return review_role(session, contact, plan.contract_id)


def _begin(session: Session, act: Act, plan_id: int) -> tuple[PlanScene, Contact, str | None]:
    contact = actor(session, act)
    plan = session.get(ActionPlan, plan_id)
    part = part_in(session, contact, plan) if plan is not None else None
    if plan is None or part is None:
        raise Refused(NOT_YOURS, "not_yours")
    return scene_of(session, plan), contact, part


def _allowed(scene: PlanScene, action: str, part: str | None) -> None:
    row = t.transition(scene.plan.state, action)
    if part is None or row is None or part not in row.who:
        raise Refused(f"Action plan {scene.plan.id} ({scene.plan.ref} {scene.plan.title}): "
                      + t.refusal(scene.plan.state, action, part), "not_allowed")


def _move(session: Session, settings: config.Settings, scene: PlanScene, act: Act, contact: Contact,
          part: str | None, action: str, *, values: dict[str, object] | None = None, note: str = "",
          comment: str = "", before_tell: Callable[[], None] | None = None) -> list[Contact]:
    """Move the plan by the table's row for `action`, record it and queue what it tells; raise Raced when the plan
    moved since it was read."""
    plan = scene.plan
    _allowed(scene, action, part)
    row = t.transition(plan.state, action)
    assert row is not None
    prior, revision = plan.state, plan.revision
    done = session.execute(sa.update(ActionPlan).where(
        col(ActionPlan.id) == plan.id, col(ActionPlan.state) == prior, col(ActionPlan.revision) == revision)
        .values(state=row.next, since=act.at, **(values or {})))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Raced(plan.id)
    session.refresh(plan)
    if before_tell is not None:
        before_tell()
        session.flush()
    event = PlanEvent(plan_id=plan.id or 0, action=action, from_state=prior, to_state=row.next,
                      actor_contact_id=contact.id, actor=contact.email, channel=act.channel, at=act.at, note=note,
                      source_key=act.key)
    session.add(event)
    session.flush()
    told = tell(session, settings, tuple((x.template, x.to) for x in row.tell), event,
                story(session, settings, scene, who=contact.name, when=when(act.at, settings), comment=comment),
                People.of(session, scene.contract, exclude=contact.id))
    record(session, act.at, contact.email, f"plan_{action}", f"action_plan:{plan.id}",
           {"contract": plan.contract_id, "indicator": plan.ref, "channel": act.channel, "from": prior,
            "to": row.next, "revision": plan.revision, "told": len(told)})
    return told


def _replay(session: Session, key: str) -> Outcome | None:
    event = session.exec(select(PlanEvent).where(PlanEvent.source_key == key)).first()
    if event is None:
        return None
    return Outcome(event.action, event.to_state, "Already recorded: nothing more to do.", event.plan_id,
                   replayed=True)


def refusal_for(engine: sa.Engine, contact_id: int, action: str, plan_id: int, now: datetime) -> str | None:
    """Why `contact_id` may not take `action` on the plan now (before asking them to type it), or None."""
    with Session(engine) as session:
        try:
            scene, _, part = _begin(session, Act(contact_id, "", now), plan_id)
            _allowed(scene, action, part)
        except Refused as exc:
            return exc.text
    return None
