"""A provider's pages: what is due and when (with the workbook to fill in), uploading a return through the one
intake (the answer is the one a chat reply gives, and the report follows), and their own history."""

from __future__ import annotations

import uuid

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from bot.intake.received import Received
from bot.intake.service import Unavailable
from bot.storage.models import Contract, Obligation, Organisation, Submission
from bot.storage.queries import accepted_values
from bot.web.reads.provider import provider_page
from bot.web.views.base import SignIn, form_text, now, render, require, signed_in, workspace
from bot.web.views.plans import waiting_on
from bot.web.views.returns import obligation_for
from kpi_core.assess import return_type_for
from kpi_core.calendar import parse_period
from kpi_core.loader import for_period

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# The page's title and heading (templates/web/uploaded.html) for each outcome of the intake.
UPLOADED_TITLES = {"accepted": "Return accepted", "duplicate": "Already received", "held": "Which return is this?",
                   "pending": "Being checked", "action_plan": "Action plan sent to the council"}


def page(request: Request) -> Response:
    web = workspace(request)
    with Session(web.parts.engine) as session:
        contact = require(request, session, "submit")
        today = web.parts.today(now(request))
        view = provider_page(session, web.parts.settings, contact, today)
        waiting = waiting_on(session, contact, today)
    return render(request, "provider.html", contact=contact, view=view, waiting=waiting, title="Returns")


def template(request: Request) -> Response:
    """The workbook to fill in for a return owed, with the year's earlier accepted figures for reference."""
    web = workspace(request)
    with Session(web.parts.engine) as session:
        _, obligation = obligation_for(request, session, "submit")
        contract = session.get(Contract, obligation.contract_id)
        assert contract is not None
        period = parse_period(obligation.period_id, contract.year_start_month)
        framework = for_period(contract.framework_id, period, contract.start)
        return_id = return_type_for(framework, period)
        found = accepted_values(session, contract.id, return_id, period.earlier_in_year())
        provider = session.get(Organisation, contract.provider_id)
        from bot.workbooks.template import build_template  # openpyxl loads only when a workbook is made

        data = build_template(framework, contract_id=contract.id, contract_name=contract.name,
                              provider_name=provider.name if provider else contract.provider_id, period=period,
                              earlier={p.id: found[p.id] for p in period.earlier_in_year() if p.id in found})
    name = f"{contract.id}-{obligation.period_id}.xlsx"
    return Response(data, media_type=XLSX, headers={"content-disposition": f'attachment; filename="{name}"'})


def upload_page(request: Request) -> Response:
    web = workspace(request)
    with Session(web.parts.engine) as session:
        contact = require(request, session, "submit")
        view = provider_page(session, web.parts.settings, contact, web.parts.today(now(request)))
    chosen = request.query_params.get("return", "")
    return render(request, "upload.html", contact=contact, view=view, chosen=chosen, errors={},
                  title="Upload a return")


async def upload(request: Request) -> Response:
    """Hand the file to the intake, as every channel does, and show its answer."""
    web = workspace(request)
    form = await request.form(max_files=1, max_fields=10)
    chosen = form_text(form.get("return"), 20)
    upload = form.get("file")

    def check() -> tuple[object, object, dict[str, str], Obligation | None]:
        with Session(web.parts.engine) as session:
            contact = signed_in(request, session)
            if contact is None:
                raise SignIn
            contact = require(request, session, "submit")
            view = provider_page(session, web.parts.settings, contact, web.parts.today(now(request)))
            errors: dict[str, str] = {}
            obligation = None
            if chosen:
                obligation = session.get(Obligation, int(chosen)) if chosen.isdigit() else None
                if obligation is None or obligation.id not in {c.obligation_id for c in view.choices}:
                    errors["return"] = "Choose the return this file is for"
            if not isinstance(upload, UploadFile) or not upload.filename:
                errors["file"] = "Choose the return file to upload"
            if obligation is not None:
                session.expunge(obligation)
            return contact, view, errors, obligation

    contact, view, errors, obligation = await run_in_threadpool(check)
    if errors:
        return render(request, "upload.html", 400, contact=contact, view=view, chosen=chosen, errors=errors,
                      title="Error: Upload a return")
    assert isinstance(upload, UploadFile)
    data = await upload.read()
    received = Received(channel="web", message_id=f"web-{uuid.uuid4()}", sender=contact.email,  # type: ignore[attr-defined]
                        filename=upload.filename or "return", data=data, received_at=now(request),
                        contract_id=obligation.contract_id if obligation else None,
                        period_id=obligation.period_id if obligation else None)
    try:
        result = await run_in_threadpool(web.parts.intake.submit, received)
    except Unavailable:
        return render(request, "error.html", 503, contact=contact, heading="kpibot is busy",
                      text="Nothing was recorded. Try again in a minute.", title="kpibot is busy")
    with Session(web.parts.engine) as session:
        submission = session.get(Submission, result.submission_id) if result.submission_id else None
        where = submission.obligation_id if submission else None
    return render(request, "uploaded.html", contact=contact, result=result, filename=received.filename,
                  obligation_id=where, title=UPLOADED_TITLES.get(result.outcome, "Return not accepted"))
