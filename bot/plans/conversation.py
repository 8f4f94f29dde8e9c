"""The guided action-plan conversation in a chat: the reason for non-compliance, then each action's four parts
(what, how, who, when), "another action?", then a summary to confirm, sent with bot/plans/acts.complete.

The draft is a row of `plan_chat` (one per chat), not the chat library's memory: a restart of the bot, or another
process taking the next message, resumes where the provider was ("You were at action 2: who will be
responsible?"). Each answer moves the row with a conditional update on its `turn`, so one answer is taken once.
Every answer is checked as it is given, by the rules bot/plans/drafts.py holds for every channel; the plan is
checked again at every turn (someone may have completed it another way, or the council closed it) and once more by
`acts.complete`, the one place the plan moves. The chat channel says the answers and shows `choices` as buttons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.assessment.submission_kpis import local_date
from bot.authz.policy import is_commissioner
from bot.plans import table as t
from bot.plans.acts import complete, refusal_for
from bot.plans.drafts import MAX_ACTIONS, MIN_REASON, PART_WORDS, PARTS, ActionDraft, when_checked, who_problem
from bot.plans.listing import plans_for
from bot.plans.scene import scene_of, short_day
from bot.review.actions import clean
from bot.review.scene import Act, Refused
from bot.storage.db import write_session
from bot.storage.models import Contact
from bot.storage.plan_models import ActionPlan, PlanChat

REASON, MORE, CONFIRM = "reason", "more", "confirm"
ADD, DONE = "➕ Add another action", "✅ No, that is all"
SEND, AGAIN = "📨 Send it to the council", "↩️ Start again"
YES = ("yes", "y", "add", "another", "more", ADD.lower())
NO = ("no", "n", "done", "that is all", "that's all", "finished", DONE.lower())
QUESTIONS = {"what": "What is required?", "how": "How will it be achieved?", "who": "Who will be responsible?",
             "when": "When will results be realised? (a date, for example 31 March 2026)"}
CANCEL_HINT = "Send /cancel to stop (nothing is sent to the council)."


@dataclass(frozen=True)
class Reply:
    text: str
    choices: tuple[str, ...] = ()  # quick answers shown as buttons; none: the keyboard is taken away


def start(engine: sa.Engine, settings: config.Settings, contact_id: int, chat_id: int, plan_id: int | None,
          now: datetime) -> Reply:
    """Begin (or resume) completing a plan in this chat; `plan_id` None: the one plan waiting, or the list."""
    with write_session(engine, expire_on_commit=False) as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        draft = _draft(session, chat_id)
        if plan_id is None:
            if draft is not None and draft.contact_id == contact_id:
                return _resumed(session, draft)
            waiting = [p for p in plans_for(session, contact, local_date(now, settings.timezone))
                       if p.state in (t.REQUESTED, t.RETURNED)] if not is_commissioner(contact) else []
            if len(waiting) != 1:
                return Reply(_choose(waiting, is_commissioner(contact)))
            plan_id = waiting[0].id
    refusal = refusal_for(engine, contact_id, t.COMPLETE, plan_id, now)
    if refusal is not None:
        return Reply(refusal)
    with write_session(engine, expire_on_commit=False) as session:
        draft = _draft(session, chat_id)
        if draft is not None and draft.plan_id == plan_id and draft.contact_id == contact_id:
            return _resumed(session, draft)
        set_aside = ""
        if draft is not None:
            set_aside = f"(Your unfinished answers for action plan {draft.plan_id} were discarded.)\n\n"
            session.delete(draft)
            session.flush()
        plan = session.get(ActionPlan, plan_id)
        assert plan is not None
        session.add(PlanChat(chat_id=chat_id, contact_id=contact_id, plan_id=plan_id, revision=plan.revision,
                             step=REASON, started_at=now, updated_at=now))
        text = set_aside + _intro(session, plan) + "\n\nFirst, the reason for non-compliance: why is the indicator " \
            f"off target? {CANCEL_HINT}"
        session.commit()
    return Reply(text)


def cancel(engine: sa.Engine, contact_id: int, chat_id: int) -> Reply:
    """Stop the conversation: its answers are discarded and nothing is sent."""
    with write_session(engine) as session:
        draft = _draft(session, chat_id)
        if draft is None or draft.contact_id != contact_id:
            return Reply("Nothing to cancel: no action plan is being completed in this chat.")
        plan_id = draft.plan_id
        session.delete(draft)
        session.commit()
    return Reply(f"Cancelled: nothing was sent to the council. Send /plan {plan_id} to start action plan {plan_id} "
                 "again.")


def answer(engine: sa.Engine, settings: config.Settings, contact_id: int, chat_id: int, text: str, now: datetime,
           key: str) -> Reply | None:
    """Take `text` as the answer to the step this chat is at; None when no plan is being completed here."""
    with Session(engine) as session:
        draft = _draft(session, chat_id)
        if draft is None or draft.contact_id != contact_id:
            return None
        session.expunge(draft)
    refusal = refusal_for(engine, contact_id, t.COMPLETE, draft.plan_id, now)
    if refusal is None and not _same_revision(engine, draft):
        refusal = "It was completed another way since you began, and the council has returned it."
    if refusal is not None:
        _drop(engine, draft)
        return Reply(f"Action plan {draft.plan_id} can no longer be completed here: {refusal} Your answers were "
                     "discarded.")
    words = clean(text)
    if draft.step == CONFIRM:
        return _confirm(engine, settings, draft, words, now, key)
    reply, changes = _step(draft, words, local_date(now, settings.timezone))
    if changes and not _advance(engine, draft, now, **changes):
        return Reply("That answer crossed another one: look at the last question and answer it again.")
    return reply


# -- the steps --------------------------------------------------------------------------------------------------

def _step(draft: PlanChat, words: str, today: date) -> tuple[Reply, dict[str, object]]:
    """The reply to `words` at the draft's step, and what to change in the draft (nothing: ask again)."""
    actions = [dict(a) for a in draft.actions]
    if draft.step == REASON:
        if len(words) < MIN_REASON:
            return Reply("The reason for non-compliance is missing: say in a sentence or two why the indicator is "
                         f"off target. {CANCEL_HINT}"), {}
        return _ask(1, "what"), dict(reason=words, step="what")
    if draft.step == MORE:
        if words.lower() in YES and len(actions) < MAX_ACTIONS:
            return _ask(len(actions) + 1, "what"), dict(step="what")
        if words.lower() in NO or len(actions) >= MAX_ACTIONS:
            return _summary(draft.plan_id, draft.reason, actions), dict(step=CONFIRM)
        return Reply("Add another action? Answer yes or no.", (ADD, DONE)), {}
    part = draft.step
    if draft.step == "what":
        actions.append({})
    number = len(actions)
    if not words:
        return Reply(f"Action {number} needs {PART_WORDS[part]}. {QUESTIONS[part]}"), {}
    if part == "who" and (wrong := who_problem(words)):
        return Reply(f"Action {number}: {wrong} {QUESTIONS[part]}"), {}
    if part == "when":
        due, wrong = when_checked(words, today)
        if due is None or wrong:
            return Reply(f"Action {number}: {wrong}"), {}
        words = short_day(due)
    actions[-1][part] = words
    if part != "when":
        following = PARTS[PARTS.index(part) + 1]
        return _ask(number, following), dict(step=following, actions=actions)
    if len(actions) >= MAX_ACTIONS:
        return _summary(draft.plan_id, draft.reason, actions), dict(step=CONFIRM, actions=actions)
    return Reply(f"Action {number} noted. Add another action?", (ADD, DONE)), dict(step=MORE, actions=actions)


def _confirm(engine: sa.Engine, settings: config.Settings, draft: PlanChat, words: str, now: datetime,
             key: str) -> Reply:
    if words == AGAIN or words.lower() in ("start again", "again", "restart"):
        _advance(engine, draft, now, step=REASON, reason="", actions=[])
        return Reply(f"Starting again. The reason for non-compliance: why is the indicator off target? {CANCEL_HINT}")
    if words != SEND and words.lower() not in ("send", "yes", "y", "confirm"):
        return Reply("Send it to the council as it stands, or start again?", (SEND, AGAIN))
    drafts = [ActionDraft(a["what"], a["how"], a["who"], a["when"]) for a in draft.actions]
    try:
        outcome = complete(engine, settings, Act(draft.contact_id, "telegram", now, key=key), draft.plan_id,
                           draft.reason, drafts)
    except Refused as exc:
        if exc.code == "bad_plan":  # e.g. a date that has passed since it was written: the draft stays
            return Reply(f"{exc.text} Start again to change it.", (AGAIN,))
        _drop(engine, draft)
        return Reply(exc.text)
    _drop(engine, draft)
    return Reply(outcome.text)


# -- what the chat is told --------------------------------------------------------------------------------------

def _ask(number: int, part: str) -> Reply:
    lead = f"Action {number}. " if part == "what" else f"Action {number}: "
    return Reply(lead + QUESTIONS[part])


def _intro(session: Session, plan: ActionPlan) -> str:
    scene = scene_of(session, plan)
    lines = [f"📝 Completing action plan {plan.id}: {plan.ref} {plan.title}, {scene.contract.name}.",
             f"Target: {plan.target}. Performance ({scene.period_label}): {plan.performance}"
             + (f", {plan.off_target}" if plan.off_target else "") + ".",
             f"Please complete it by {short_day(plan.respond_by)}."]
    if plan.state == t.RETURNED and plan.comment:
        lines.append(f"The council returned it: “{plan.comment}”")
    lines.append("kpibot asks for the reason, then each action: what, how, who and when.")
    return "\n".join(lines)


def _summary(plan_id: int, reason: str, actions: Sequence[dict[str, str]]) -> Reply:
    lines = [f"Action plan {plan_id}, ready to send:", f"Reason for non-compliance: {reason}"]
    for n, a in enumerate(actions, start=1):
        lines += [f"{n}. {a['what']}", f"   How: {a['how']}", f"   Who: {a['who']}", f"   When: {a['when']}"]
    lines.append("\nSend it to the council?")
    return Reply("\n".join(lines), (SEND, AGAIN))


def _resumed(session: Session, draft: PlanChat) -> Reply:
    """Where the provider was, said as the question to answer next."""
    plan = session.get(ActionPlan, draft.plan_id)
    head = f"You were completing action plan {draft.plan_id}" + (f" ({plan.ref} {plan.title})" if plan else "")
    if draft.step == REASON:
        return Reply(f"{head}: the reason for non-compliance. Why is the indicator off target? {CANCEL_HINT}")
    if draft.step == MORE:
        return Reply(f"{head}, with {len(draft.actions)} action{'s' if len(draft.actions) != 1 else ''} written. "
                     "Add another action?", (ADD, DONE))
    if draft.step == CONFIRM:
        summary = _summary(draft.plan_id, draft.reason, draft.actions)
        return Reply(f"{head}.\n\n{summary.text}", summary.choices)
    number = len(draft.actions) + (1 if draft.step == "what" else 0)
    return Reply(f"{head}: you were at action {number}: {QUESTIONS[draft.step]} {CANCEL_HINT}")


def _choose(waiting: Sequence[object], commissioner: bool) -> str:
    if commissioner:
        return "Action plans are completed by the provider. /plans shows what waits for you to agree."
    if not waiting:
        return "No action plan waits for you to complete. /plans shows your open plans."
    lines = ["Which action plan? Send /plan and its number:"]
    lines += [f"• /plan {p.id}: {p.ref} {p.title}, {p.contract_name}" for p in waiting]  # type: ignore[attr-defined]
    return "\n".join(lines)


# -- the draft in the database ----------------------------------------------------------------------------------

def _draft(session: Session, chat_id: int) -> PlanChat | None:
    return session.exec(select(PlanChat).where(PlanChat.chat_id == chat_id)).first()


def _same_revision(engine: sa.Engine, draft: PlanChat) -> bool:
    with Session(engine) as session:
        plan = session.get(ActionPlan, draft.plan_id)
        return plan is not None and plan.revision == draft.revision


def _advance(engine: sa.Engine, draft: PlanChat, now: datetime, **changes: object) -> bool:
    """Write the draft's next step if nobody moved it since it was read."""
    with write_session(engine) as session:
        done = session.execute(sa.update(PlanChat).where(col(PlanChat.id) == draft.id, col(PlanChat.turn) == draft.turn)
                               .values(turn=draft.turn + 1, updated_at=now, **changes))
        session.commit()
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def _drop(engine: sa.Engine, draft: PlanChat) -> None:
    with write_session(engine) as session:
        session.execute(sa.delete(PlanChat).where(col(PlanChat.id) == draft.id))
        session.commit()
