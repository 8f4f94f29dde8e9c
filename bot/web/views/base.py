"""What every view shares: the workspace's parts, who is signed in, the one permission check, pages, CSV and
the answers for pages that are not there or not theirs.

A view is thin: it parses the request, calls `require` (bot/authz/policy.py, and nothing else), calls the same
function the command line and chat call, and renders. Another provider's object and one that does not exist get
the same 404.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlmodel import Session
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from bot.authz.policy import allowed, is_commissioner
from bot.reports.status import STATUSES
from bot.service.parts import Parts
from bot.storage.models import Contact
from bot.web.guards import Throttle
from kpi_core import formatting

TEMPLATES = Path(__file__).resolve().parents[3] / "templates" / "web"
SESSION_KEY = "contact"


@dataclass
class Workspace:
    """The running workspace: the application's parts, the clock, templates, and the sign-in throttle."""

    parts: Parts
    clock: Callable[[], datetime]
    env: Environment
    throttle: Throttle
    oidc: Any = None  # an Authlib client when Entra ID sign-in is configured
    extra: dict[str, Any] = field(default_factory=dict)


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.globals["statuses"] = tuple(STATUSES.values())
    env.globals["money"] = lambda amount: formatting.money(amount) if amount is not None else "no contract value given"
    return env


def workspace(request: Request) -> Workspace:
    return request.app.state.workspace


class SignIn(Exception):
    """Nobody is signed in (or their session ended): send them to the sign-in page."""


def now(request: Request) -> datetime:
    return workspace(request).clock()


def signed_in(request: Request, session: Session) -> Contact | None:
    """The active contact this browser is signed in as, or None. A session ends after `[web]
    session_idle_minutes` unused or `session_max_hours` in all; each request keeps an idle one alive."""
    web = workspace(request)
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict):
        return None
    settings = web.parts.settings.web
    moment = web.clock().timestamp()
    if moment - data.get("seen", 0) > settings.session_idle_minutes * 60 or \
            moment - data.get("at", 0) > settings.session_max_hours * 3600:
        request.session.clear()
        return None
    contact = session.get(Contact, data.get("id"))
    if contact is None or not contact.active:
        request.session.clear()
        return None
    data["seen"] = int(moment)
    request.session[SESSION_KEY] = data  # re-signs the cookie: idle time starts again
    return contact


def start_session(request: Request, contact_id: int, how: str) -> None:
    moment = int(now(request).timestamp())
    request.session.clear()
    request.session[SESSION_KEY] = {"id": contact_id, "at": moment, "seen": moment, "how": how}


def require(request: Request, session: Session, action: str, contract_id: str | None = None) -> Contact:
    """The signed-in contact, if they may take `action` (on `contract_id`); else the sign-in page (nobody signed
    in), 404 (a contract they may not see, or none), or 403 (a page their role has no use for)."""
    contact = signed_in(request, session)
    if contact is None:
        raise SignIn
    if allowed(session, contact, action, contract_id):
        return contact
    if contract_id is not None and allowed(session, contact, action):
        raise HTTPException(404)
    raise HTTPException(403)


def render(request: Request, template: str, status_code: int = 200, **context: object) -> HTMLResponse:
    web = workspace(request)
    token = request.scope.get("csrftoken")
    contact = context.pop("contact", None)
    assert contact is None or isinstance(contact, Contact)
    html = web.env.get_template(template).render(
        request=request, csrftoken=token() if token else "", contact=contact,
        commissioner=bool(contact and is_commissioner(contact)), path=request.url.path, **context)
    return HTMLResponse(html, status_code=status_code)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)  # after a POST: the browser GETs the page


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """A CSV cell that Excel will not run as a formula: text starting `=`, `+`, `-` or `@` gets a leading `'`
    (a number keeps its sign)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_START):
        try:
            float(text)
        except ValueError:
            return "'" + text
    return text


def csv_response(rows: Iterable[Sequence[object]], filename: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([cell(v) for v in row])
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",  # the BOM: Excel reads UTF-8
                    headers={"content-disposition": f'attachment; filename="{filename}"'})


def form_text(value: object, limit: int = 4000) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""
