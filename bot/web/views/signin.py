"""Signing in and out: ask for a link, open it, use it once; or Microsoft Entra ID (bot/web/oidc.py)."""

from __future__ import annotations

import re

from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import Response

from bot.authz.policy import is_commissioner
from bot.web import signin as links
from bot.web.views.base import form_text, now, redirect, render, signed_in, start_session, workspace

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
REFUSED = {"unknown": "This sign-in link is not valid. Ask for a new one.",
           "used": "This sign-in link has already been used: each link works once. Ask for a new one.",
           "expired": f"This sign-in link has expired: links work for {links.MINUTES} minutes. Ask for a new one.",
           "inactive": "This sign-in link is no longer valid. Ask for a new one."}


def client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def home(request: Request) -> Response:
    """Commissioners start at the overview, providers at their returns; nobody signed in, at the sign-in page."""
    with Session(workspace(request).parts.engine) as session:
        contact = signed_in(request, session)
        if contact is None:
            return redirect("/sign-in")
        return redirect("/overview" if is_commissioner(contact) else "/provider")


def sign_in_page(request: Request) -> Response:
    web = workspace(request)
    return render(request, "sign_in.html", errors={}, email="", oidc=web.oidc is not None, title="Sign in")


async def sign_in(request: Request) -> Response:
    """Send a link to a registered address (the same answer whether or not it is registered)."""
    web = workspace(request)
    form = await request.form()
    email = form_text(form.get("email"), 254).lower()
    if not EMAIL.match(email):
        errors = {"email": "Enter your email address in the correct format, like name@example.gov.uk"}
        return render(request, "sign_in.html", 400, errors=errors, email=email, oidc=web.oidc is not None,
                      title="Error: Sign in")
    if not web.throttle.allow(client(request)):
        return render(request, "too_many.html", 429, title="Too many requests")
    from starlette.concurrency import run_in_threadpool

    await run_in_threadpool(links.ask, web.parts.engine, web.parts.settings, email, now(request))
    return render(request, "link_sent.html", email=email, minutes=links.MINUTES, title="Check your email or Telegram")


def link_page(request: Request) -> Response:
    """The page a link opens: a button that signs in. (Opening it signs nobody in, so a mail scanner that follows
    links cannot use one up.)"""
    token = request.path_params["token"]
    return render(request, "link.html", token=token, title="Sign in to kpibot")


async def use_link(request: Request) -> Response:
    web = workspace(request)
    form = await request.form()
    token = form_text(form.get("token"), 200)
    if not web.throttle.allow(client(request)):
        return render(request, "too_many.html", 429, title="Too many requests")
    from starlette.concurrency import run_in_threadpool

    used = await run_in_threadpool(links.redeem, web.parts.engine, token, now(request))
    if used.outcome != "ok" or used.contact_id is None:
        return render(request, "link_refused.html", 400, message=REFUSED[used.outcome], title="Sign-in link not valid")
    start_session(request, used.contact_id, "link")
    return redirect("/")


def sign_out(request: Request) -> Response:
    request.session.clear()
    return render(request, "signed_out.html", title="You have signed out")


def accessibility(request: Request) -> Response:
    """The accessibility statement (Public Sector Bodies Accessibility Regulations 2018)."""
    with Session(workspace(request).parts.engine) as session:
        contact = signed_in(request, session)
    return render(request, "accessibility.html", contact=contact, title="Accessibility statement")
