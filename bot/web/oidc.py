"""Sign-in with the council's Microsoft Entra ID: OpenID Connect's authorization code flow, through Authlib.

Authlib does the protocol: the provider's metadata and keys, the state and nonce kept in the signed session, the
code exchanged with the client secret (KPIBOT_WEB_OIDC_CLIENT_SECRET), and the ID token's signature, issuer,
audience, expiry and nonce checked. kpibot then decides who the person is, here and nowhere else:
- the token must come from the council's own tenant (`tid`), when `[web] oidc_tenant` is a Directory (tenant) ID;
- the account's address (`email`, else `preferred_username`, the user principal name) must be an active contact;
- and that contact must be one of the council's commissioners: the council's directory vouches for council staff,
  never for a provider's people, who sign in by link.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from bot import config
from bot.authz.policy import is_commissioner
from bot.storage.models import Contact

NAME = "entra"
CALLBACK = "/sign-in/entra/callback"
TENANT_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def client_for(settings: config.Settings) -> Any | None:
    """An Authlib client for the configured Entra ID app, or None when `[web] oidc_client_id` is not set. Nothing
    is fetched yet: the provider's metadata is read on the first sign-in."""
    web = settings.web
    if not web.oidc_enabled:
        return None
    from authlib.integrations.starlette_client import OAuth  # loaded only where Entra ID sign-in is set up

    oauth = OAuth()
    oauth.register(NAME, client_id=web.oidc_client_id, client_secret=settings.web_oidc_client_secret,
                   server_metadata_url=web.metadata_url, client_kwargs={"scope": "openid email profile"})
    return oauth.create_client(NAME)


@dataclass(frozen=True)
class Who:
    """Who the council's directory says signed in: the contact, or why they may not."""

    contact_id: int | None
    refusal: str = ""


def address_of(claims: Mapping[str, Any]) -> str:
    """The account's email address as Entra ID gives it: `email` when the tenant sets one, else the user
    principal name (`preferred_username`), which is the work address in most councils."""
    for claim in ("email", "preferred_username"):
        value = claims.get(claim)
        if isinstance(value, str) and "@" in value:
            return value.strip().lower()
    return ""


def who_signed_in(session: Session, settings: config.Settings, claims: Mapping[str, Any]) -> Who:
    """The commissioner the verified ID token's claims name, or a sentence saying why nobody is signed in."""
    tenant = settings.web.oidc_tenant
    if TENANT_ID.match(tenant) and str(claims.get("tid", "")).lower() != tenant.lower():
        return Who(None, "That Microsoft account belongs to another organisation's directory. Sign in with your "
                         "council account, or ask for a sign-in link by email.")
    address = address_of(claims)
    if not address:
        return Who(None, "Your Microsoft account did not give kpibot an email address. Ask for a sign-in link by "
                         "email instead, and ask your IT team to include the email claim for kpibot.")
    contact = session.exec(select(Contact).where(Contact.email == address,
                                                 Contact.active == True)).first()  # noqa: E712
    if contact is None or contact.id is None:
        return Who(None, f"{address} is not registered with kpibot. Ask the council's kpibot administrator to add "
                         "you, or sign in with the address that is registered.")
    if not is_commissioner(contact):
        return Who(None, "Signing in with a council account is for the council's commissioners. Providers sign in "
                         "with a link sent by email or Telegram.")
    return Who(contact.id)
