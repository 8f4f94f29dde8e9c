"""The commissioners' overview: every contract by quarter, and what needs them beside it; as a page or CSV."""

from __future__ import annotations

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from bot.web.reads.overview import PANEL_ITEMS, overview, summary
from bot.web.views.base import csv_response, now, render, require, workspace


def _view(request: Request) -> tuple[object, object]:
    web = workspace(request)
    settings = web.parts.settings
    with Session(web.parts.engine) as session:
        contact = require(request, session, "overview")
        view = overview(session, contact, web.parts.today(now(request)), settings.timezone,
                        limit=None if request.query_params.get("all") else PANEL_ITEMS)
    return contact, view


def page(request: Request) -> Response:
    contact, view = _view(request)
    return render(request, "overview.html", contact=contact, view=view, summary=summary(view),  # type: ignore[arg-type]
                  title="Overview")


def as_csv(request: Request) -> Response:
    _, view = _view(request)
    return csv_response(view.csv_rows(), "kpibot-overview.csv")  # type: ignore[attr-defined]
