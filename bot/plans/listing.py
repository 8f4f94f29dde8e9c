"""Which plans a person may see (bot/authz/policy.py): a commissioner their council's contracts', a provider's
contact their own contracts' only. What each shows is bot/assessment/plans.py's."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from bot.assessment.plans import PlanView, plan_views
from bot.authz.policy import visible_contracts
from bot.plans.scene import NOT_YOURS
from bot.review.scene import Refused
from bot.storage.models import Contact


def plans_for(session: Session, contact: Contact | None, today: date, contract_id: str | None = None,
              include_closed: bool = False) -> list[PlanView]:
    """The plans `contact` may see (everyone's for the operator, `contact` None), of one contract if named."""
    if contact is None:
        ids = None if contract_id is None else [contract_id]
    else:
        ids = [c.id for c in visible_contracts(session, contact)]
        if contract_id is not None:
            if contract_id not in ids:
                raise Refused(f"No contract {contract_id!r} among yours.", "not_yours")
            ids = [contract_id]
    return plan_views(session, today, ids, include_closed)


def plan_for(session: Session, contact: Contact | None, plan_id: int, today: date) -> PlanView:
    """One plan `contact` may see, or Refused in the same words whether or not it exists."""
    found = plan_views(session, today, None, True, [plan_id])
    if not found:
        raise Refused(NOT_YOURS, "not_yours")
    if contact is not None and found[0].contract_id not in {c.id for c in visible_contracts(session, contact)}:
        raise Refused(NOT_YOURS, "not_yours")
    return found[0]


def show_text(plan: PlanView) -> str:
    """The plan laid out as seed 002 lays it out, for the command line and chat."""
    lines = [f"Action plan {plan.id}: {plan.contract_name}", f"Indicator: {plan.ref} {plan.title}",
             f"Target: {plan.target}", f"Performance ({plan.period_id}): {plan.performance}, {plan.off_target}",
             f"State: {plan.state_words}"]
    if plan.comment:
        lines.append(f"Council's comment: {plan.comment}")
    if plan.reason:
        lines.append(f"Reason for non-compliance: {plan.reason}")
    for a in plan.actions:
        lines += [a.line, f"   How: {a.how}"]
    return "\n".join(lines)
