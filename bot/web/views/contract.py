"""A contract's page (indicators by period, the latest return's details, timeliness, accuracy, payments), and CSV."""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from bot.storage.models import Contract
from bot.web.reads.contract import ContractPage, contract_page
from bot.web.views.base import csv_response, now, render, require, workspace


def _page(request: Request) -> tuple[object, ContractPage]:
    web = workspace(request)
    contract_id = request.path_params["contract_id"]
    with Session(web.parts.engine) as session:
        contact = require(request, session, "see_contract", contract_id)
        contract = session.get(Contract, contract_id)
        assert contract is not None  # require() answered 404 for a contract that does not exist
        return contact, contract_page(session, web.parts.files, web.parts.settings, contract,
                                      web.parts.today(now(request)))


def page(request: Request) -> Response:
    contact, view = _page(request)
    return render(request, "contract.html", contact=contact, view=view, title=view.contract_name)


def as_csv(request: Request) -> Response:
    _, view = _page(request)
    return csv_response(view.csv_rows(), f"kpibot-{view.contract_id}.csv")
