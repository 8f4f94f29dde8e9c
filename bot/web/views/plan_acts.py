"""The forms of an action plan's page: the provider completes it (seed 002's reason and actions), the council agrees
it, returns it with a comment or closes it with a note. Each calls bot/plans/acts.py, the functions the command
line and chat call; they decide who may do what in which state (bot/plans/table.py), and a refusal comes back in
their words beside the form, with what was typed still in it. Before that, each form asks bot/authz/policy.py (the
provider's people `answer` the council, its commissioners `review`): another provider's or council's plan and one
that does not exist are the same 404.

The completion form works without a script: it offers blank action rows, and "Add another action" sends the form
back with one more row (nothing is saved until "Send the plan"). Rows left blank are not actions. Each form carries
a key of its own, so a form sent twice (a double click, a reload) is one act.
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from bot.assessment.submission_kpis import local_date
from bot.plans import acts
from bot.plans import table as t
from bot.plans.drafts import MAX_ACTIONS, PARTS, ActionDraft, problems
from bot.review.scene import Act, Outcome, Refused
from bot.storage.models import Contact
from bot.web.views.base import form_text, now, redirect, workspace
from bot.web.views.plans import CouncilForms, PlanForm, blank, plan_in_path, plan_page
from bot.web.views.review import FLASH

FIELDS = {t.AGREE: "agree", t.SEND_BACK: "comment", t.CLOSE: "note"}  # the field a refusal is shown beside


async def complete(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=10 + 4 * (MAX_ACTIONS + 1))
    return await run_in_threadpool(_complete, request, form)


async def agree(request: Request) -> Response:
    return await _council(request, t.AGREE)


async def send_back(request: Request) -> Response:
    return await _council(request, t.SEND_BACK)


async def close(request: Request) -> Response:
    return await _council(request, t.CLOSE)


def typed(form: FormData) -> PlanForm:
    """The completion form as typed: the reason, and the action rows (at most one more than a plan may hold)."""
    count = form_text(form.get("rows"), 3)
    rows = min(int(count), MAX_ACTIONS + 1) if count.isdigit() and int(count) > 0 else 1
    return PlanForm(form_text(form.get("reason"), 8000),
                    [{p: form_text(form.get(f"action-{n}-{p}"), 2000) for p in PARTS} for n in range(1, rows + 1)],
                    key=form_text(form.get("key"), 40) or PlanForm().key)


def _act(contact: Contact, request: Request, key: str) -> Act:
    assert contact.id is not None
    return Act(contact.id, "web", now(request), key=f"web:{contact.id}:{key}" if key else None)


def _complete(request: Request, form: FormData) -> Response:
    """Add a row, or check the plan (bot/plans/drafts.py, as acts.complete does) and send it through
    acts.complete; mistakes are shown beside their fields."""
    web = workspace(request)
    with Session(web.parts.engine) as session:
        contact, plan = plan_in_path(request, session, "answer")
    shown = typed(form)
    filled = [r for r in shown.rows if any(r.values())]
    if form.get("more") is not None:  # "Add another action": the form again, one row longer; nothing saved
        shown.rows = filled + [blank() for _ in range(max(1, len(shown.rows) + 1 - len(filled)))]
        shown.rows = shown.rows[:MAX_ACTIONS]
        return plan_page(request, form=shown)
    # Shown again with the actions first, as numbered in the mistakes, and as many rows as before.
    shown.rows = filled + [blank() for _ in range(max(0 if len(filled) >= MAX_ACTIONS else 1,
                                                      len(shown.rows) - len(filled)))]
    drafts = [ActionDraft(r["what"], r["how"], r["who"], r["when"]) for r in filled]
    act = _act(contact, request, shown.key)
    _, _, found = problems(shown.reason, drafts, local_date(act.at, web.parts.settings.timezone))
    if found:
        shown.errors = {}
        for p in found:
            shown.errors.setdefault(p.where, p.text)
        return plan_page(request, 400, form=shown)
    try:
        outcome = acts.complete(web.parts.engine, web.parts.settings, act, plan.id or 0, shown.reason, drafts)
    except Refused as refused:  # the plan moved on (agreed, or someone acted first): said above its actions
        shown.errors = {"reason" if refused.code == "bad_plan" else "actions": refused.text}
        return plan_page(request, 409 if refused.code == "acted_first" else 400, form=shown)
    return _done(request, outcome, plan.id or 0)


async def _council(request: Request, action: str) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    return await run_in_threadpool(_council_now, request, form, action)


def _council_now(request: Request, form: FormData, action: str) -> Response:
    web = workspace(request)
    with Session(web.parts.engine) as session:
        contact, plan = plan_in_path(request, session, "review")
    field = FIELDS[action]
    text = form_text(form.get("text"), 4000)
    key = form_text(form.get("key"), 40)
    act = _act(contact, request, key)
    try:
        if action == t.AGREE:
            outcome = acts.agree(web.parts.engine, web.parts.settings, act, plan.id or 0)
        elif action == t.SEND_BACK:
            outcome = acts.send_back(web.parts.engine, web.parts.settings, act, plan.id or 0, text)
        else:
            outcome = acts.close(web.parts.engine, web.parts.settings, act, plan.id or 0, text)
    except Refused as refused:
        where = field if refused.code in ("no_comment", "no_note") else "actions"  # the form may be gone now
        shown = CouncilForms({field: text}, {where: refused.text}, key)
        return plan_page(request, 409 if refused.code == "acted_first" else 400, council=shown)
    return _done(request, outcome, plan.id or 0)


def _done(request: Request, outcome: Outcome, plan_id: int) -> Response:
    request.session[FLASH] = outcome.text
    return redirect(f"/plans/{plan_id}")
