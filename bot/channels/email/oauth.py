"""OAuth 2.0 access tokens for the mailbox (IMAP) and SMTP: the client-credentials grant (app-only, no user signs
in), as Microsoft 365 / Exchange Online asks for now that it refuses passwords.

- A token is asked for with the client id and secret, kept until shortly before it expires, and shared by the
  email channel's reader and the outbox's SMTP transport (one scope covers both on Exchange Online).
- A server that rejects a token gets one fresh token (`renew`); the caller gives up after that.
- The token endpoint's refusals (Entra ID's AADSTS codes) become one clear line saying what to check. Neither the
  token nor the secret is ever put in a message or a log.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from bot import config
from bot.clock import utc_now

SECRET_ENV = "KPIBOT_OAUTH_CLIENT_SECRET"
EARLY = timedelta(minutes=5)  # a token is renewed this long before it expires (at most half its life)
_AADSTS = re.compile(r"AADSTS\d+")
# What to check for the refusals an administrator meets when setting up (Entra ID's error codes).
HINTS = {
    "AADSTS7000215": f"the client secret is wrong: set {SECRET_ENV} to the secret's Value (not its Secret ID)",
    "AADSTS7000222": f"the client secret has expired: add a new one to the app and set {SECRET_ENV}",
    "AADSTS700016": "no such application in this tenant: check [email] oauth_client_id and oauth_tenant",
    "AADSTS90002": "no such tenant: check [email] oauth_tenant",
    "AADSTS900023": "the tenant is not a valid tenant id or domain: check [email] oauth_tenant",
    "AADSTS70011": "the scope is not valid: check [email] oauth_scope (https://outlook.office365.com/.default)",
    "AADSTS1002012": "the scope is not valid: check [email] oauth_scope (https://outlook.office365.com/.default)",
    "AADSTS7000218": f"no client secret was sent: set {SECRET_ENV}",
}


class TokenError(RuntimeError):
    """No access token could be had; the message says why and what to check (never the secret)."""


@dataclass(frozen=True)
class _Token:
    value: str
    renew_at: datetime


def xoauth2(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64) for `user` with `token`."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


class TokenProvider:
    def __init__(self, token_url: str, client_id: str, client_secret: str, scope: str,
                 clock: Callable[[], datetime] = utc_now, timeout: float = 30) -> None:
        """Tokens from `token_url` for `client_id`; `clock` decides when a kept token is too old."""
        self.token_url, self.client_id, self.scope = token_url, client_id, scope
        self._secret = client_secret
        self.clock, self.timeout = clock, timeout
        self._token: _Token | None = None
        self._lock = threading.Lock()  # the reader's thread and the outbox's share one provider

    def __repr__(self) -> str:
        return f"TokenProvider({self.token_url!r}, client_id={self.client_id!r})"

    def token(self) -> str:
        """A token valid for a few minutes more at least: the kept one, or a new one. Raises TokenError."""
        with self._lock:
            if self._token is None or self.clock() >= self._token.renew_at:
                self._token = self._fetch()
            return self._token.value

    def renew(self, rejected: str) -> str:
        """A new token after a server refused `rejected` (unless another caller has already replaced it)."""
        with self._lock:
            if self._token is None or self._token.value == rejected:
                self._token = self._fetch()
            return self._token.value

    def _fetch(self) -> _Token:
        if not self._secret:
            raise TokenError(f"{SECRET_ENV} is not set: kpibot needs the app's client secret to get a token")
        now = self.clock()
        form = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self._secret,
                "scope": self.scope}
        try:
            response = httpx.post(self.token_url, data=form, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise TokenError(f"cannot reach the token endpoint {self.token_url}: {type(exc).__name__}: {exc}") \
                from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise TokenError(f"the token endpoint {self.token_url} answered HTTP {response.status_code} "
                             "with no JSON: check [email] oauth_token_url")
        if response.status_code != 200 or "access_token" not in body:
            raise TokenError(refusal(self.token_url, response.status_code, body))
        try:
            lifetime = int(body.get("expires_in", 3600))  # Entra ID v1 sent a string, v2 a number
        except (TypeError, ValueError):
            lifetime = 3600
        value = str(body["access_token"])
        if not value or lifetime <= 0:
            raise TokenError(f"the token endpoint {self.token_url} gave an empty or expired token")
        early = min(EARLY, timedelta(seconds=lifetime / 2))
        return _Token(value, now + timedelta(seconds=lifetime) - early)


def refusal(url: str, status: int, body: dict[str, object]) -> str:
    """One line for a token endpoint's error answer (RFC 6749 5.2): what to check first (it must survive being
    cut short in `kpibot status`), then the endpoint's own words (the first line of its description)."""
    error = str(body.get("error") or f"HTTP {status}")[:80]
    description = str(body.get("error_description") or "").strip().splitlines()
    first = description[0].strip()[:300] if description else "no description"
    code = _AADSTS.match(first)
    hint = HINTS.get(code.group(0)) if code else None
    if code and hint:
        return f"the token endpoint refused kpibot: {code.group(0)}, {hint} ({error}: {first[code.end():].lstrip(': ')})"
    return f"the token endpoint {url} refused kpibot ({error}): {first}"


_shared: dict[tuple[str, str, str, str], TokenProvider] = {}
_shared_lock = threading.Lock()


def token_provider(settings: config.Settings) -> TokenProvider | None:
    """This process's provider for the deployment's `[email]` OAuth settings, shared by the mailbox reader and
    the SMTP transport so one token serves both (None when `auth` is "password")."""
    e = settings.email
    if e.auth != "oauth2":
        return None
    key = (e.token_url, e.oauth_client_id, settings.oauth_client_secret, e.oauth_scope)
    with _shared_lock:
        if key not in _shared:
            _shared[key] = TokenProvider(*key)
        return _shared[key]
