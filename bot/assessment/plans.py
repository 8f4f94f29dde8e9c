"""Where action plans stand, read once for everyone who shows them: the command line, chat, reports, the digest.

A plan is overdue when it is still to complete (requested or returned) after its deadline; an action is overdue
when its plan is agreed and its date has passed. `today` is an argument: this module reads no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from bot.storage.models import Contract
from bot.storage.plan_models import ActionPlan, PlanAction

WAITING_ON_PROVIDER = ("requested", "returned")
STATE_WORDS = {"requested": "requested from the provider", "submitted": "completed: waiting for the council",
               "returned": "returned to the provider", "agreed": "agreed", "closed": "closed"}


def day_text(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


@dataclass(frozen=True)
class ActionView:
    number: int
    what: str
    how: str
    who: str
    due: date
    overdue: bool

    @property
    def when(self) -> str:
        return day_text(self.due)

    @property
    def line(self) -> str:
        """`1. Re-train pharmacy advisers (Rebecca Mellor), by 31 March 2026: OVERDUE`."""
        return f"{self.number}. {self.what} ({self.who}), by {day_text(self.due)}" + (": OVERDUE" if self.overdue
                                                                                       else "")


@dataclass(frozen=True)
class PlanView:
    id: int
    contract_id: str
    contract_name: str
    ref: str
    title: str
    state: str
    target: str
    performance: str
    off_target: str
    period_id: str
    respond_by: date
    reason: str
    comment: str
    closed_how: str
    overdue: bool  # still to complete after its deadline
    actions: tuple[ActionView, ...]

    @property
    def state_words(self) -> str:
        words = STATE_WORDS.get(self.state, self.state)
        if self.state in WAITING_ON_PROVIDER:
            words += f", due by {day_text(self.respond_by)}" + (" (OVERDUE)" if self.overdue else "")
        if self.state == "closed" and self.closed_how:
            words += f" ({self.closed_how})"
        return words

    @property
    def overdue_actions(self) -> tuple[ActionView, ...]:
        return tuple(a for a in self.actions if a.overdue)

    @property
    def headline(self) -> str:
        """`Plan 3: 1.5 Smoking quitters: agreed, 1 action overdue`."""
        late = len(self.overdue_actions)
        return (f"Plan {self.id}: {self.ref} {self.title}: {self.state_words}"
                + (f", {late} action{'s' if late != 1 else ''} overdue" if late else ""))


def plan_views(session: Session, today: date, contract_ids: Iterable[str] | None = None,
               include_closed: bool = False, plan_ids: Iterable[int] | None = None) -> list[PlanView]:
    """The plans of `contract_ids` (all when None), newest first within each contract."""
    query = select(ActionPlan, Contract.name).join(Contract, col(Contract.id) == ActionPlan.contract_id)
    if contract_ids is not None:
        query = query.where(col(ActionPlan.contract_id).in_(list(contract_ids)))
    if plan_ids is not None:
        query = query.where(col(ActionPlan.id).in_(list(plan_ids)))
    if not include_closed:
        query = query.where(ActionPlan.state != "closed")
    rows = session.exec(query.order_by(col(ActionPlan.contract_id), col(ActionPlan.id))).all()
    actions: dict[tuple[int, int], list[PlanAction]] = {}
    ids = [p.id for p, _ in rows]
    if ids:
        for a in session.exec(select(PlanAction).where(col(PlanAction.plan_id).in_(ids))
                              .order_by(col(PlanAction.number))):
            actions.setdefault((a.plan_id, a.revision), []).append(a)
    found = []
    for plan, name in rows:
        agreed = plan.state == "agreed"
        views = tuple(ActionView(a.number, a.what, a.how, a.who, a.due, agreed and a.due < today)
                      for a in actions.get((plan.id or 0, plan.revision), []))
        found.append(PlanView(plan.id or 0, plan.contract_id, name, plan.ref, plan.title, plan.state, plan.target,
                              plan.performance, plan.off_target, plan.period_id, plan.respond_by, plan.reason,
                              plan.comment, plan.closed_how,
                              plan.state in WAITING_ON_PROVIDER and plan.respond_by < today, views))
    return found
