"""Action plans as the workspace shows them: bot/assessment/plans.py says where each stands (state, overdue
actions), bot/plans/table.py what each part may do next; this adds what a page needs besides: the state as a
word and a shape, the return that found the indicator red, the plan's history, and who acted, by name."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from bot.assessment.plans import PlanView, day_text, plan_views
from bot.authz.policy import review_role
from bot.plans import table as t
from bot.reports import display
from bot.storage.models import Contact, Contract, Organisation, Submission
from bot.storage.plan_models import ActionPlan, PlanEvent
from bot.web.reads.states import StateView
from kpi_core.calendar import parse_period

# Each state by word and shape as well as colour (the css classes are the return states' of the same sense).
TAGS = {t.REQUESTED: StateView("due", "Requested", "○"), t.SUBMITTED: StateView("received", "To agree", "◆"),
        t.RETURNED: StateView("queried", "Returned", "?"), t.AGREED: StateView("signed_off", "Agreed", "✓"),
        t.CLOSED: StateView("info", "Closed", "–")}
EVENT_WORDS = {t.OPEN: "asked the provider for the plan: the indicator was red in an accepted return",
               t.RED_AGAIN: "updated the plan: the indicator was red again in a later return",
               t.REFRESH: "updated the plan's figures from a corrected return",
               t.RECOVER: "closed the plan: the indicator is back on target",
               t.COMPLETE: "completed the plan", t.AGREE: "agreed the plan",
               t.SEND_BACK: "returned the plan with a comment", t.CLOSE: "closed the plan"}


@dataclass(frozen=True)
class Line:
    at: str  # `20 October 2025 at 09:00`
    who: str
    what: str
    note: str


@dataclass(frozen=True)
class PlanItem:
    """A plan, its tag, and what the person looking may do with it now (bot/plans/table.py)."""

    plan: PlanView
    tag: StateView
    period_label: str
    provider_name: str
    obligation_id: int | None  # the return that last found the indicator red
    may: tuple[str, ...]  # table actions: complete | agree | send_back | close

    @property
    def waiting(self) -> str:
        """`to complete by 25 July 2025`, `2 actions overdue`, or ''."""
        plan = self.plan
        if plan.state in (t.REQUESTED, t.RETURNED):
            return f"to complete by {day_text(plan.respond_by)}"
        late = len(plan.overdue_actions)
        return f"{late} action{'s' if late != 1 else ''} overdue" if late else ""

    @property
    def words(self) -> str:
        """What follows the state's tag: `to be completed by 25 July 2025` (overdue has a tag of its own)."""
        plan = self.plan
        if plan.state in (t.REQUESTED, t.RETURNED):
            return f"to be completed by the provider by {day_text(plan.respond_by)}"
        return {t.SUBMITTED: "completed by the provider: waiting for the council to agree it or return it",
                t.AGREED: "its actions are followed, each to its date"}.get(plan.state, plan.closed_how)

    @property
    def late(self) -> bool:
        return self.plan.overdue or bool(self.plan.overdue_actions)


def plan_items(session: Session, contact: Contact, plans: list[PlanView]) -> list[PlanItem]:
    """Each plan with its tag and what `contact` may do with it; three queries whatever the number of plans."""
    if not plans:
        return []
    stored = {p.id: p for p in session.exec(select(ActionPlan).where(col(ActionPlan.id).in_([p.id for p in plans])))}
    contracts = {c.id: c for c in session.exec(select(Contract).where(
        col(Contract.id).in_({p.contract_id for p in plans})))}
    names = dict(session.exec(select(Organisation.id, Organisation.name)).all())
    returns = dict(session.exec(select(Submission.id, Submission.obligation_id).where(
        col(Submission.id).in_([s.submission_id for s in stored.values()]))).all())
    parts = {c: review_role(session, contact, c) for c in contracts}
    found = []
    for p in plans:
        contract = contracts[p.contract_id]
        part = parts[p.contract_id]
        found.append(PlanItem(p, TAGS.get(p.state, TAGS[t.CLOSED]),
                              parse_period(p.period_id, contract.year_start_month).label,
                              names.get(contract.provider_id, contract.provider_id),
                              returns.get(stored[p.id].submission_id),
                              t.actions_in(p.state, part) if part else ()))
    return found


def history(session: Session, plan_id: int, zone: str) -> tuple[Line, ...]:
    """The plan's moves, oldest first, each with who took it (a person's name, or kpibot for the intake's)."""
    events = session.exec(select(PlanEvent).where(PlanEvent.plan_id == plan_id)
                          .order_by(col(PlanEvent.at), col(PlanEvent.id))).all()
    ids = {e.actor_contact_id for e in events if e.actor_contact_id is not None}
    people = dict(session.exec(select(Contact.id, Contact.name).where(col(Contact.id).in_(ids))).all()) if ids else {}
    return tuple(Line(display.moment(e.at, zone), people.get(e.actor_contact_id, "kpibot"),
                      EVENT_WORDS.get(e.action, e.action),
                      e.note if e.action in (t.SEND_BACK, t.CLOSE) else "") for e in events)


def to_complete(items: list[PlanItem]) -> list[PlanItem]:
    return [i for i in items if t.COMPLETE in i.may]


def overdue_first(items: list[PlanItem], today: date) -> list[PlanItem]:
    """Late ones first, then by the date they are waited for."""
    return sorted(items, key=lambda i: (not i.late, i.plan.respond_by if i.plan.state in (t.REQUESTED, t.RETURNED)
                                        else min((a.due for a in i.plan.actions), default=today), i.plan.id))


def plans_of_return(session: Session, contact: Contact, obligation_id: int, contract_id: str,
                    today: date) -> list[PlanItem]:
    """The plans a return's versions opened or last updated (closed ones too), for its page."""
    versions = select(Submission.id).where(Submission.obligation_id == obligation_id)
    ids = list(session.exec(select(ActionPlan.id).where(
        ActionPlan.contract_id == contract_id,
        col(ActionPlan.submission_id).in_(versions) | col(ActionPlan.opened_by_id).in_(versions))))
    if not ids:
        return []
    return plan_items(session, contact, plan_views(session, today, [contract_id], True, [i for i in ids if i]))
