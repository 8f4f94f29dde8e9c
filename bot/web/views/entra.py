"""Signing in with the council's Microsoft Entra ID (bot/web/oidc.py): off to Microsoft, and back.

Whatever goes wrong (Microsoft unreachable, the person cancels, a state or token that does not check out, an
account kpibot does not know) ends on a plain page that says what to do, with the link sign-in beside it: never a
traceback, and nobody half signed in.
"""

from __future__ import annotations

import logging

import httpx
import httpx2
from authlib.integrations.base_client.errors import OAuthError
from joserfc.errors import JoseError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from bot.storage.audit import record
from bot.storage.db import write_session
from bot.web.oidc import CALLBACK, who_signed_in
from bot.web.views.base import now, redirect, render, start_session, workspace
from bot.web.views.signin import client

log = logging.getLogger("kpibot.web")
# Authlib reaches Microsoft with httpx2 when it is installed (a dependency: Authlib and Starlette both moved to it),
# with httpx before that: an unreachable Microsoft raises either's error, and either gets the plain page.
UNREACHABLE_ERRORS = (httpx.HTTPError, httpx2.HTTPError)
UNREACHABLE = ("Microsoft sign-in cannot be reached just now. Try again in a few minutes, or ask for a sign-in link "
               "by email.")
NOT_COMPLETED = "Signing in with your council account was not completed. Try again, or ask for a sign-in link."
CANCELLED = "You cancelled signing in with your council account. Try again, or ask for a sign-in link."


async def start(request: Request) -> Response:
    """Send the browser to Microsoft, with a fresh state and nonce kept in the signed session."""
    web = workspace(request)
    if web.oidc is None:
        raise HTTPException(404)
    if not web.throttle.allow(client(request)):
        return render(request, "too_many.html", 429, title="Too many requests")
    try:
        return await web.oidc.authorize_redirect(request, web.parts.settings.web.base_url.rstrip("/") + CALLBACK)
    except (*UNREACHABLE_ERRORS, OAuthError, ValueError, KeyError) as exc:  # metadata unreachable or not OpenID
        log.warning("web: Entra ID metadata could not be read: %s", exc)
        return _refused(request, UNREACHABLE, 502)


async def callback(request: Request) -> Response:
    """Microsoft's answer: check it (Authlib), find the commissioner it names, and sign them in."""
    web = workspace(request)
    if web.oidc is None:
        raise HTTPException(404)
    if request.query_params.get("error"):
        cancelled = request.query_params["error"] == "access_denied"
        log.info("web: Entra ID sign-in refused by Microsoft: %s", request.query_params.get("error"))
        return _refused(request, CANCELLED if cancelled else NOT_COMPLETED, 400)
    try:
        token = await web.oidc.authorize_access_token(request)
    except UNREACHABLE_ERRORS as exc:
        log.warning("web: Entra ID token endpoint could not be reached: %s", exc)
        return _refused(request, UNREACHABLE, 502)
    except (OAuthError, JoseError, ValueError, KeyError) as exc:  # a forged or replayed state, a bad token
        log.warning("web: Entra ID sign-in refused: %s", type(exc).__name__)
        return _refused(request, NOT_COMPLETED, 400)
    claims = token.get("userinfo") or {}
    settings, moment = web.parts.settings, now(request)

    def decide() -> tuple[int | None, str]:
        with write_session(web.parts.engine) as session:
            who = who_signed_in(session, settings, claims)
            action = "web_signed_in" if who.contact_id else "web_sign_in_refused"
            subject = f"contact:{who.contact_id}" if who.contact_id else ""
            record(session, moment, str(claims.get("preferred_username") or claims.get("sub") or "unknown")[:200],
                   action, subject, {"how": "entra"} if who.contact_id else {"how": "entra", "why": who.refusal})
            session.commit()
            return who.contact_id, who.refusal

    contact_id, refusal = await run_in_threadpool(decide)
    if contact_id is None:
        request.session.clear()
        return _refused(request, refusal, 403)
    start_session(request, contact_id, "entra")
    return redirect("/")


def _refused(request: Request, message: str, status: int) -> Response:
    return render(request, "entra_refused.html", status, message=message, title="You are not signed in")


__all__ = ["callback", "start"]
