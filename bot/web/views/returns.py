"""A return's page (versions and what each changed, findings, values, breakdowns, history, the review), its PDF
report, and the council's review actions (bot/web/views/review.py)."""

from __future__ import annotations

from sqlmodel import Session, col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from bot.reports.render import render_return_report
from bot.reports.stored import Located, keep_report, report_of
from bot.storage.models import Contact, Contract, Obligation, RenderedReport, Submission
from bot.web.reads.plans import plans_of_return
from bot.web.reads.returns import ReturnPage, return_page
from bot.web.views.base import now, render, require, workspace
from bot.web.views.plans import CouncilForms
from bot.web.views.review import actions_for


def obligation_for(request: Request, session: Session, action: str) -> tuple[Contact, Obligation]:
    """The return owed named in the path, if the signed-in contact may take `action` on it (404 alike for another
    provider's return and one that does not exist)."""
    try:
        obligation_id = int(request.path_params["obligation_id"])
    except ValueError:
        raise HTTPException(404) from None
    obligation = session.get(Obligation, obligation_id)
    contract_id = obligation.contract_id if obligation is not None else ""
    contact = require(request, session, action, contract_id)  # a contract nobody may see when there is none
    assert obligation is not None
    return contact, obligation


def _version(request: Request) -> int | None:
    text = request.query_params.get("version", "")
    return int(text) if text.isdigit() else None


def page_data(request: Request, session: Session) -> tuple[Contact, ReturnPage]:
    web = workspace(request)
    contact, obligation = obligation_for(request, session, "see_contract")
    view = return_page(session, web.parts.files, web.parts.settings, obligation, web.parts.today(now(request)),
                       _version(request))
    return contact, view


def page(request: Request) -> Response:
    web = workspace(request)
    with Session(web.parts.engine) as session:
        contact, view = page_data(request, session)
        actions = actions_for(request, session, contact, view)
        plans = plans_of_return(session, contact, view.obligation_id, view.contract_id, web.parts.today(now(request)))
    return render(request, "return.html", contact=contact, view=view, actions=actions, plans=plans,
                  council=CouncilForms(), title=f"{view.contract_name}, {view.period_label}")


def report_pdf(request: Request) -> Response:
    """The chosen version's PDF report: the one drawn for its reply, or drawn now."""
    web = workspace(request)
    with Session(web.parts.engine) as session:
        _, obligation = obligation_for(request, session, "see_contract")
        version = _version(request)
        submission = session.exec(select(Submission).where(Submission.obligation_id == obligation.id,
                                                           Submission.version == version)).first()
        if submission is None or submission.sha256 is None or submission.status in ("quarantined", "failed"):
            raise HTTPException(404)
        kept = session.exec(select(RenderedReport).where(RenderedReport.kind == "return",
                                                         RenderedReport.submission_id == submission.id)
                            .order_by(col(RenderedReport.id).desc())).first()
        name = f"{obligation.contract_id}-{obligation.period_id}-v{submission.version}.pdf"
        if kept is not None:
            data = web.parts.files.get(kept.sha256)
        else:
            contract = session.get(Contract, obligation.contract_id)
            assert contract is not None
            from kpi_core.calendar import parse_period

            found = Located(contract, parse_period(obligation.period_id, contract.year_start_month), obligation,
                            submission)
            report = report_of(session, web.parts.files, web.parts.settings, found, generated_at=now(request))
            data = render_return_report(report)
            keep_report(session, web.parts.files, data, "return", obligation.period_id, now(request),
                        obligation.contract_id, submission.id)
    return Response(data, media_type="application/pdf",
                    headers={"content-disposition": f'attachment; filename="{name}"'})
