"""A fake Microsoft identity platform on 127.0.0.1: a real HTTP server (http.server, in a thread) that issues
client-credentials tokens like Entra ID's v2.0 token endpoint, answers Dovecot's token introspection (RFC 7662),
and an SMTP handler (aiosmtpd) that takes XOAUTH2 with its tokens, as Exchange Online does.

The test decides what happens: a wrong secret is answered as Entra ID answers it (AADSTS7000215), `revoke` makes
the servers refuse a token it issued, `reject_all` makes them refuse every token.
"""

from __future__ import annotations

import base64
import email
import itertools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from aiosmtpd.smtp import SMTP, AuthResult

TENANT = "council.example"
CLIENT_ID = "2f1c6a7e-0000-4000-8000-00000000c11e"
SECRET = "the-client-secret-value"
SCOPE = "https://outlook.office365.com/.default"
BAD_SECRET = {
    "error": "invalid_client",
    "error_description": ("AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the "
                          "request is the client secret value, not the client secret ID, for a secret added to app "
                          f"'{CLIENT_ID}'.\r\nTrace ID: 0f6c\r\nCorrelation ID: 9a1e\r\nTimestamp: 2025-10-01"),
    "error_codes": [7000215],
}


@dataclass
class Identity:
    """What the fake identity platform has issued and been asked."""

    username: str = ""  # whose mailbox the app may open (Dovecot's username_attribute)
    expires_in: int = 3600
    reject_all: bool = False
    token_requests: list[dict[str, str]] = field(default_factory=list)
    introspected: list[str] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)
    port: int = 0
    _numbers: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{{tenant}}/oauth2/v2.0/token"

    @property
    def introspection_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/introspect"

    def valid(self, token: str) -> bool:
        return not self.reject_all and token in self.issued and token not in self.revoked

    def revoke(self, token: str) -> None:
        self.revoked.add(token)

    def answer(self, path: str, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        if path == "/introspect":
            token = form.get("token", "")
            self.introspected.append(token)
            if not self.valid(token):
                return 200, {"active": False}
            return 200, {"active": True, "username": self.username, "scope": SCOPE}
        if path != f"/{TENANT}/oauth2/v2.0/token":
            return 400, {"error": "invalid_request",
                         "error_description": "AADSTS90002: Tenant 'x' not found.\r\nTrace ID: 1"}
        self.token_requests.append(form)
        if form.get("grant_type") != "client_credentials" or form.get("client_id") != CLIENT_ID:
            return 400, {"error": "unauthorized_client", "error_description": "AADSTS700016: Application not found"}
        if form.get("client_secret") != SECRET:
            return 401, BAD_SECRET
        token = f"eyJ0eXAi.token-{next(self._numbers)}"
        self.issued.append(token)
        return 200, {"token_type": "Bearer", "expires_in": self.expires_in, "ext_expires_in": self.expires_in,
                     "access_token": token}


class _Handler(BaseHTTPRequestHandler):
    identity: Identity

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        status, body = self.identity.answer(self.path, form)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class IdentityServer:
    identity: Identity
    server: ThreadingHTTPServer

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_identity(identity: Identity) -> IdentityServer:
    handler = type("Handler", (_Handler,), {"identity": identity})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    identity.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, name="fake-identity", daemon=True).start()
    return IdentityServer(identity, server)


@dataclass
class OAuthSmtp:
    """An SMTP handler taking XOAUTH2 with the identity's tokens (refusing others as Exchange Online does: a 334
    challenge with the error, then 535), keeping what it is sent and the bearer tokens it was shown."""

    identity: Identity
    bearers: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:  # noqa: N802 - aiosmtpd's name
        fields = base64.b64decode(args[1]).decode().split("\x01") if len(args) > 1 else []
        user = next((f.removeprefix("user=") for f in fields if f.startswith("user=")), "")
        bearer = next((f.removeprefix("auth=Bearer ") for f in fields if f.startswith("auth=Bearer ")), "")
        self.users.append(user)
        self.bearers.append(bearer)
        if self.identity.valid(bearer):
            return AuthResult(success=True, auth_data=user)
        await server.challenge_auth(json.dumps({"status": "401", "schemes": "bearer", "scope": SCOPE}))
        return AuthResult(success=False, handled=False, message="535 5.7.3 Authentication unsuccessful")

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        if not session.authenticated:
            return "530 5.7.57 Client not authenticated to send mail"
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 2.0.0 OK"
