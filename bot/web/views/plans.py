"""Action plans in the workspace: the list (a provider's plans to complete first; a commissioner's plans to agree
first), and a plan's page laid out as seed 002 lays it out, with the forms bot/plans/table.py allows the person now
(sent to views/plan_acts.py). Which plans a person may see is bot/plans/listing.py's (bot/authz/policy.py)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from bot.assessment.plans import PlanView
from bot.authz.policy import is_commissioner
from bot.plans import table as t
from bot.plans.listing import plan_for, plans_for
from bot.plans.requests import requests_for
from bot.review.scene import Refused
from bot.storage.models import Contact
from bot.storage.plan_models import ActionPlan
from bot.web.reads.plans import PlanItem, history, overdue_first, plan_items, to_complete
from bot.web.views.base import now, render, require, workspace
from bot.web.views.review import FLASH

ROWS = 3  # blank action rows a new plan's form offers; "Add another action" adds one more (no script needed)


@dataclass
class PlanForm:
    """What the completion form shows: what was typed (or the plan as it stands), and the mistakes beside it."""

    reason: str = ""
    rows: list[dict[str, str]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    key: str = field(default_factory=lambda: secrets.token_urlsafe(12))

    @classmethod
    def of(cls, plan: PlanView) -> PlanForm:
        """The plan as it stands (a returned plan is corrected, not typed again), and blank rows to add to."""
        rows = [{"what": a.what, "how": a.how, "who": a.who, "when": a.when} for a in plan.actions]
        return cls(plan.reason, rows + [blank() for _ in range(max(1, ROWS - len(rows)))])


@dataclass
class CouncilForms:
    """The comment or note typed in the council's forms, the mistakes beside them, and the form's key."""

    typed: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    key: str = field(default_factory=lambda: secrets.token_urlsafe(12))


def blank() -> dict[str, str]:
    return {"what": "", "how": "", "who": "", "when": ""}


def plan_in_path(request: Request, session: Session, action: str) -> tuple[Contact, ActionPlan]:
    """The plan named in the path, if the signed-in contact may take `action` on its contract (another provider's
    plan and one that does not exist get the same 404)."""
    try:
        plan_id = int(request.path_params["plan_id"])
    except ValueError:
        raise HTTPException(404) from None
    plan = session.get(ActionPlan, plan_id) if plan_id < 2**31 else None
    contact = require(request, session, action, plan.contract_id if plan is not None else "")
    assert plan is not None
    return contact, plan


def item_of(request: Request, session: Session, contact: Contact, plan_id: int) -> PlanItem:
    try:
        found = plan_for(session, contact, plan_id, workspace(request).parts.today(now(request)))
    except Refused:
        raise HTTPException(404) from None
    return plan_items(session, contact, [found])[0]


def waiting_on(session: Session, contact: Contact, today: date) -> tuple[int, int]:
    """How many plans wait for `contact` to complete them and requests for their answer (a provider's home page);
    none for a commissioner, whose overview says what waits for them."""
    if is_commissioner(contact):
        return 0, 0
    plans = to_complete(plan_items(session, contact, plans_for(session, contact, today)))
    return len(plans), len(requests_for(session, contact))


def list_page(request: Request) -> Response:
    web = workspace(request)
    closed = request.query_params.get("closed") == "1"
    with Session(web.parts.engine) as session:
        contact = require(request, session, "see_contract")
        today = web.parts.today(now(request))
        items = overdue_first(plan_items(session, contact, plans_for(session, contact, today,
                                                                      include_closed=closed)), today)
    if is_commissioner(contact):
        first = [i for i in items if t.AGREE in i.may and i.plan.state == t.SUBMITTED]
        sections = [("to-agree", "Action plans to agree or return", first, "No completed plan waits for you."),
                    ("open", "Other action plans" if not closed else "Other action plans, closed ones too",
                     [i for i in items if i not in first], "No other plan is open.")]
    else:
        first = to_complete(items)
        sections = [("to-complete", "Action plans to complete", first, "No plan waits for you to complete it."),
                    ("others", "Your other action plans" if not closed else "Your other action plans, closed ones too",
                     [i for i in items if i not in first], "No other plan is open.")]
    return render(request, "plans.html", contact=contact, sections=sections, closed=closed, title="Action plans")


def plan_page(request: Request, status: int = 200, form: PlanForm | None = None,
              council: CouncilForms | None = None) -> Response:
    """The plan, its actions and history, and the forms the table allows; after a refused form, with its
    mistakes beside the fields and what was typed still in them."""
    web = workspace(request)
    with Session(web.parts.engine) as session:
        contact, plan = plan_in_path(request, session, "see_contract")
        item = item_of(request, session, contact, plan.id or 0)
        lines = history(session, plan.id or 0, web.parts.settings.timezone)
    form = form or PlanForm.of(item.plan)
    council = council or CouncilForms()
    errors = form.errors | council.errors
    title = f"Action plan {item.plan.id}: {item.plan.ref} {item.plan.title}"
    return render(request, "plan.html", status, contact=contact, item=item, history=lines, form=form,
                  council=council, errors=errors, message=request.session.pop(FLASH, ""),
                  title=f"Error: {title}" if errors else title)
