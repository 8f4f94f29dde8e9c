"""The council's review actions on a return (sign off, query with a reason) and the provider's answer to a query:
forms that call bot/review/actions.py, the functions the command line, Telegram and email call. Those functions
decide who may do what in which state (bot/review/table.py); the page shows the forms the table allows
(views/review.py), and a refusal comes back in the functions' own words beside the form.

Each form carries the version it was shown (an act on a version since replaced is refused) and a key of its own,
so a form sent twice (a double click, a reload) is one act.
"""

from __future__ import annotations

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from bot.assessment.reviews import review_of
from bot.review import about, actions
from bot.review import table as t
from bot.review.scene import Act, Refused, open_query
from bot.web.views.base import form_text, now, redirect, render, workspace
from bot.web.views.returns import obligation_for, page_data
from bot.web.views.review import FLASH, actions_for


async def sign_off(request: Request) -> Response:
    return await _act(request, t.SIGN_OFF)


async def query(request: Request) -> Response:
    return await _act(request, t.QUERY)


async def answer(request: Request) -> Response:
    return await _act(request, t.ANSWER)


FIELDS = {t.SIGN_OFF: "sign-off", t.QUERY: "reason", t.ANSWER: "answer"}


async def _act(request: Request, action: str) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    return await run_in_threadpool(_act_now, request, form, action)


def _act_now(request: Request, form: FormData, action: str) -> Response:
    """Check the person may act on this return at all (bot/authz/policy.py: another provider's return is a 404),
    then act through bot/review; its refusal is shown beside the form."""
    web = workspace(request)
    with Session(web.parts.engine) as session:
        contact, obligation = obligation_for(request, session, "answer" if action == t.ANSWER else "review")
        review = review_of(session, obligation.id)
    text = form_text(form.get("text"), about.MAX_REASON + 1)
    submission = form_text(form.get("submission"), 20)
    key = form_text(form.get("key"), 40)
    assert contact.id is not None
    act = Act(contact.id, "web", now(request), key=f"web:{contact.id}:{key}" if key else None)
    try:
        if review is None or review.id is None:
            raise Refused("No version of this return has been accepted, so there is nothing to review yet.")
        if action == t.ANSWER:
            with Session(web.parts.engine) as session:
                asked = open_query(session, review.id)
            if asked is None or asked.id is None:
                raise Refused("No query on this return is waiting for an answer.")
            outcome = actions.answer(web.parts.engine, web.parts.settings, act, asked.id, text)
        else:
            if not submission.isdigit():
                raise HTTPException(400)
            if action == t.SIGN_OFF:
                outcome = actions.sign_off(web.parts.engine, web.parts.settings, act, review.id, int(submission))
            else:
                outcome = actions.query(web.parts.engine, web.parts.settings, act, review.id, int(submission), text)
    except Refused as refused:
        with Session(web.parts.engine) as session:
            contact, view = page_data(request, session)
            shown = actions_for(request, session, contact, view, {FIELDS[action]: refused.text},
                                {FIELDS[action]: text})
        return render(request, "return.html", 409 if refused.code == "acted_first" else 400, contact=contact,
                      view=view, actions=shown, title=f"Error: {view.contract_name}, {view.period_label}")
    request.session[FLASH] = outcome.text
    return redirect(f"/returns/{obligation.id}#review")
