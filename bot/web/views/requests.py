"""Requests for information in the workspace: a commissioner asks (contract, what, detail, a deadline written as
`2 working days` or a date) and downloads the answers; a provider answers each with any document. Both through
bot/plans/requests.py, the functions the command line and chat call: the same checks of the deadline, the same
caps and checks of the file (bot/plans/evidence.py), kept in the file store and never read as a return. A refusal
comes back in those functions' words beside the field, with what was typed still in it. Each route asks
bot/authz/policy.py first: asking is the council's (`review`), answering the provider's (`answer`), and another
provider's or council's request and one that does not exist are the same 404."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import quote

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from bot.assessment.submission_kpis import local_date
from bot.authz.policy import is_commissioner, visible_contracts
from bot.plans import requests as asks
from bot.review.scene import Act, Refused
from bot.storage.models import Contact
from bot.storage.plan_models import InfoRequest
from bot.web.reads.requests import requests_page
from bot.web.views.base import form_text, now, redirect, render, require, workspace
from bot.web.views.review import FLASH

ASK_FIELDS = {"no_what": "what", "bad_due": "due"}  # the field each of ask's refusals is about; else the contract


@dataclass
class Typed:
    """What was typed in the request form or an answer's note, and the mistakes beside the fields."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def page(request: Request, status: int = 200, typed: Typed | None = None) -> Response:
    web = workspace(request)
    with Session(web.parts.engine) as session:
        contact = require(request, session, "see_contract")
        view = requests_page(session, contact, web.parts.today(now(request)), web.parts.settings.timezone)
        contracts = [(c.id, c.name) for c in visible_contracts(session, contact)] if is_commissioner(contact) else []
    typed = typed or Typed()
    title = "Requests for information"
    key = typed.values.get("key") or secrets.token_urlsafe(12)  # the form sent twice is one request
    return render(request, "requests.html", status, contact=contact, view=view, contracts=contracts,
                  typed=typed.values, errors=typed.errors, message=request.session.pop(FLASH, ""), key=key,
                  limit=web.parts.settings.intake.max_upload_bytes,
                  title=f"Error: {title}" if typed.errors else title)


async def ask(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    return await run_in_threadpool(_ask, request, form)


def _ask(request: Request, form: FormData) -> Response:
    """Ask through bot/plans/requests.ask; the deadline is read by its due_date before, so that a form with two
    mistakes shows both."""
    web = workspace(request)
    values = {k: form_text(form.get(k), 4000 if k == "detail" else 300) for k in ("contract", "what", "detail", "due")}
    values["key"] = form_text(form.get("key"), 40)
    errors: dict[str, str] = {}
    with Session(web.parts.engine) as session:
        contact = require(request, session, "review")
        if values["contract"]:
            require(request, session, "review", values["contract"])  # another council's contract: 404
        else:
            errors["contract"] = "Choose the contract the request is for"
    assert contact.id is not None
    act = Act(contact.id, "web", now(request), key=f"web:{contact.id}:{values['key']}" if values["key"] else None)
    if not values["what"]:
        errors["what"] = "Say what is requested, for example Inspection report"
    if not values["due"]:
        errors["due"] = "Say when the answer is due: a number of working days (2 working days) or a date"
    else:
        try:
            asks.due_date(values["due"], local_date(act.at, web.parts.settings.timezone))
        except Refused as refused:
            errors["due"] = refused.text
    if not errors:
        try:
            outcome = asks.ask(web.parts.engine, web.parts.settings, act, values["contract"], values["what"],
                               values["due"], values["detail"])
        except Refused as refused:
            errors[ASK_FIELDS.get(refused.code, "contract")] = refused.text
        else:
            request.session[FLASH] = outcome.text
            return redirect(f"/requests#request-{outcome.review_id}")  # ask names the request there
    return page(request, 400, Typed(values, errors))


def request_in_path(request: Request, session: Session, action: str) -> tuple[Contact, InfoRequest]:
    """The request named in the path, if the signed-in contact may take `action` on its contract (another
    provider's request and one that does not exist get the same 404)."""
    try:
        request_id = int(request.path_params["request_id"])
    except ValueError:
        raise HTTPException(404) from None
    found = session.get(InfoRequest, request_id) if request_id < 2**31 else None
    contact = require(request, session, action, found.contract_id if found is not None else "")
    assert found is not None
    return contact, found


async def answer(request: Request) -> Response:
    """The provider's document, through bot/plans/requests.answer (its checks and caps); refused beside the field."""
    web = workspace(request)
    form = await request.form(max_files=1, max_fields=10)
    upload, note = form.get("file"), form_text(form.get("note"), 4000)

    def who() -> tuple[Contact, int]:
        with Session(web.parts.engine) as session:
            contact, found = request_in_path(request, session, "answer")
            return contact, found.id or 0

    contact, request_id = await run_in_threadpool(who)
    where = f"file-{request_id}"
    if not isinstance(upload, UploadFile) or not upload.filename:
        return page(request, 400, Typed({f"note-{request_id}": note}, {where: "Choose the document to send"}))
    data = await upload.read()
    assert contact.id is not None
    act = Act(contact.id, "web", now(request))
    try:
        outcome = await run_in_threadpool(asks.answer, web.parts.engine, web.parts.settings, web.parts.files, act,
                                          request_id, upload.filename, data, note)
    except Refused as refused:
        return await run_in_threadpool(page, request, 409 if refused.code == "acted_first" else 400,
                                       Typed({f"note-{request_id}": note}, {where: refused.text}))
    request.session[FLASH] = outcome.text
    return redirect("/requests#answered")


def answer_file(request: Request) -> Response:
    """The document that answered a request, as it was sent (to save, never to show in the page)."""
    web = workspace(request)
    with Session(web.parts.engine) as session:
        _, found = request_in_path(request, session, "see_contract")
    if found.state != "answered" or not found.sha256:
        raise HTTPException(404)
    data = web.parts.files.get(found.sha256)
    plain = "".join(ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in found.filename)
    return Response(data, media_type="application/octet-stream", headers={
        "content-disposition": f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(found.filename)}"})
