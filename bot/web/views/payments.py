"""A contract's payments for a year (`kpibot payments show`: the arithmetic, the returns they rest on, what still
stops them being confirmed) and the council's confirmation of them (`kpibot payments confirm`), through
bot/review/payments.py. The form carries the amounts the person was shown: if they changed since (a corrected
return), the confirmation is refused and the new figures are shown."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from bot.authz.policy import allowed
from bot.review.payments import YearPayments, confirm_payments, year_payments
from bot.review.scene import Act, Refused
from bot.storage.models import Contact
from bot.web.views.base import form_text, now, redirect, render, require, workspace

FLASH = "flash"
AMOUNT = "amount-"  # a form field per payment rule: the amount shown


def _preview(request: Request, action: str) -> tuple[Contact, YearPayments | None, str, bool]:
    web = workspace(request)
    contract_id, year_id = request.path_params["contract_id"], request.path_params["year_id"]
    with Session(web.parts.engine) as session:
        contact = require(request, session, action, contract_id)
        may_confirm = allowed(session, contact, "review", contract_id)
        try:
            return contact, year_payments(session, web.parts.files, web.parts.settings, contract_id, year_id), "", \
                may_confirm
        except Refused as refused:
            return contact, None, refused.text, may_confirm


def page(request: Request) -> Response:
    contact, preview, problem, may_confirm = _preview(request, "see_contract")
    message = request.session.pop(FLASH, "") if FLASH in request.session else ""
    return render(request, "payments.html", 200 if preview else 404, contact=contact, preview=preview,
                  problem=problem, may_confirm=may_confirm, errors={}, message=message,
                  contract_id=request.path_params["contract_id"], title=f"Payments {request.path_params['year_id']}")


async def confirm(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=50)
    return await run_in_threadpool(_confirm, request, form)


def _confirm(request: Request, form: FormData) -> Response:
    web = workspace(request)
    contract_id, year_id = request.path_params["contract_id"], request.path_params["year_id"]
    contact, preview, problem, _ = _preview(request, "review")
    shown: dict[str, Decimal | None] = {}
    for name, value in form.multi_items():
        if name.startswith(AMOUNT) and isinstance(value, str):
            try:
                shown[name[len(AMOUNT):]] = Decimal(value) if value else None
            except InvalidOperation:
                shown[name[len(AMOUNT):]] = Decimal(-1)  # never a real amount: refused as changed
    assert contact.id is not None
    key = form_text(form.get("key"), 40)
    act = Act(contact.id, "web", now(request), key=f"web:{contact.id}:{key}" if key else None)
    try:
        outcome = confirm_payments(web.parts.engine, web.parts.settings, web.parts.files, act, contract_id, year_id,
                                   shown)
    except Refused as refused:
        contact, preview, problem, may_confirm = _preview(request, "review")
        return render(request, "payments.html", 409 if refused.code == "acted_first" else 400, contact=contact,
                      preview=preview, problem=problem, may_confirm=may_confirm, errors={"confirm": refused.text},
                      message="", contract_id=contract_id, title=f"Error: Payments {year_id}")
    request.session[FLASH] = outcome.text
    return redirect(f"/contracts/{contract_id}/payments/{year_id}")
