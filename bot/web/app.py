"""The web workspace as an ASGI application: routes, sessions, CSRF protection, guards and error pages.

Outermost first: `Guard` (security headers; bodies over the upload cap refused before anything buffers them),
CSRF (bot/web/csrf.py: every POST carries the token of a signed cookie, double-submit; a form's token comes before
its file), the signed session cookie (HttpOnly, SameSite=Lax, Secure behind HTTPS; idle sessions end: views/base.py),
then the routes. No page ever shows a traceback: faults are logged and answered with a plain page.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import datetime

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from bot.clock import utc_now
from bot.service.parts import Parts
from bot.web import routes
from bot.web.csrf import CSRF
from bot.web.guards import Guard, Throttle
from bot.web.oidc import client_for
from bot.web.views.base import TEMPLATES, SignIn, Workspace, environment

log = logging.getLogger("kpibot.web")
FORM_ALLOWANCE = 64 * 1024  # a form's other fields and multipart framing, beyond the file itself
MESSAGES = {400: ("Sorry, there is a problem with that request", "Go back and try again."),
            403: ("You cannot use this page", "This page is not part of your work in kpibot. If you think it should "
                  "be, ask the council's kpibot administrator."),
            404: ("Page not found", "If you typed the address, check it is correct. If you followed a link, the page "
                  "may not be one you can see."),
            405: ("Page not found", "If you typed the address, check it is correct."),
            500: ("Sorry, there is a problem with the service", "Nothing you did caused it and it has been recorded. "
                  "Try again later.")}


def secret_of(parts: Parts) -> str:
    """The key that signs session and CSRF cookies: KPIBOT_WEB_SECRET, else one made for this process (sessions
    then end when it stops, and two processes do not share them: set the variable in production)."""
    if parts.settings.web_secret:
        return parts.settings.web_secret
    log.warning("KPIBOT_WEB_SECRET is not set: signing sessions with a key made for this process only")
    return secrets.token_urlsafe(32)


def derived(secret: str, purpose: str) -> str:
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def create_app(parts: Parts, clock: Callable[[], datetime] = utc_now) -> Starlette:
    """The workspace over `parts` (the running application); `clock` is read once per request."""
    settings = parts.settings
    env = environment()
    web = Workspace(parts, clock, env, Throttle(settings.web.sign_in_requests_per_minute), oidc=client_for(settings))
    secret = secret_of(parts)

    def page(status: int, title: str = "", body: str = "") -> str:
        heading, text = MESSAGES.get(status, MESSAGES[400])
        return env.get_template("error.html").render(
            title=title or heading, heading=title or heading, text=body or text, contact=None, commissioner=False,
            csrftoken="", path="")

    async def csrf_failed(scope: Scope, send: Send) -> None:
        html = page(403, "Your form could not be sent", "For your security, forms expire or can only be sent from "
                    "pages of this workspace. Go back, reload the page and try again.")
        await HTMLResponse(html, status_code=403)(scope, _nothing, send)

    async def too_large(scope: Scope, receive: Receive, send: Send) -> None:
        limit = settings.intake.max_upload_bytes
        if str(scope.get("path", "")).startswith("/requests/"):  # a document answering a request for information
            html = page(413, "The file is too large", f"kpibot accepts documents of up to {_size(limit)}. Nothing "
                        "was kept and the request stays open: send a smaller file (a PDF of the document, or its "
                        "pages in parts).")
        else:
            html = page(413, "The file is too large", f"kpibot accepts return files of up to {_size(limit)}. A "
                        "return workbook is usually far smaller: check you chose the right file, save it as .xlsx "
                        "without pictures or extra sheets, and try again.")
        await HTMLResponse(html, status_code=413)(scope, _nothing, send)

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return HTMLResponse(page(status), status_code=status)

    async def sign_in_first(request: Request, exc: Exception) -> Response:
        if request.method == "GET":
            return RedirectResponse("/sign-in", status_code=303)
        return HTMLResponse(page(403, "You are signed out", "Your session ended. Sign in again, then try once more."),
                            status_code=403)

    async def fault(request: Request, exc: Exception) -> Response:
        log.exception("web: %s %s failed", request.method, request.url.path, exc_info=exc)
        return HTMLResponse(page(500), status_code=500)

    middleware = [
        Middleware(Guard, max_body=settings.intake.max_upload_bytes + FORM_ALLOWANCE, refuse=too_large,
                   hsts=settings.web.secure),
        Middleware(CSRF, secret=derived(secret, "csrf"), refuse=csrf_failed, secure=settings.web.secure),
        Middleware(SessionMiddleware, secret_key=derived(secret, "session"), session_cookie="kpibot_session",
                   max_age=settings.web.session_idle_minutes * 60, same_site="lax", https_only=settings.web.secure),
    ]
    app = Starlette(
        routes=[*routes.ROUTES, Mount("/static", StaticFiles(directory=TEMPLATES / "static"), name="static")],
        middleware=middleware,
        exception_handlers={HTTPException: http_error, SignIn: sign_in_first, Exception: fault},
    )
    app.state.workspace = web
    return app


async def _nothing() -> dict[str, object]:
    return {"type": "http.disconnect"}


def _size(count: int) -> str:
    return f"{count / 1024 / 1024:g} MB" if count >= 1024 * 1024 else f"{count // 1024} KB"


__all__ = ["Route", "create_app"]
