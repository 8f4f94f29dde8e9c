"""A small OpenID Connect provider standing in for Microsoft Entra ID, served by uvicorn on 127.0.0.1.

It speaks the authorization code flow as Entra ID's v2.0 endpoint does: metadata at
`/{tenant}/v2.0/.well-known/openid-configuration`, `/authorize` (which signs in whoever the test chose, or answers
with an error), `/token` (which checks the client secret and the code, and issues an RS256 ID token carrying the
nonce), and the signing keys at `/keys`. A test can make it sign with a key it does not publish (a forged token),
issue a token for another audience, or stop answering.
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from services import free_port
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

TENANT = "3f0c1a52-8d4e-4b7a-9c11-2a6f5e0d7b93"
CLIENT_ID = "7d1e9b40-kpibot-test"
CLIENT_SECRET = "entra-client-secret-for-tests"


@dataclass
class Provider:
    """What the fake provider will do next, and what it was asked."""

    url: str = ""
    claims: dict[str, Any] = field(default_factory=dict)  # the account signed in at /authorize
    error: str = ""  # answer /authorize with this error instead (e.g. access_denied)
    audience: str = CLIENT_ID
    forge: bool = False  # sign ID tokens with a key /keys does not publish
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    other_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    codes: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # code: (nonce, claims)
    token_requests: int = 0

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/{{tenant}}/v2.0/.well-known/openid-configuration"

    @property
    def issuer(self) -> str:
        return f"{self.url}/{TENANT}/v2.0"

    def sign_in_as(self, email: str, tid: str = TENANT, **more: Any) -> None:
        self.claims = {"preferred_username": email, "name": email.split("@")[0].title(), "tid": tid,
                       "oid": secrets.token_hex(8), **more}
        self.error = ""


def app_for(provider: Provider) -> Starlette:
    def metadata(request: Request) -> Response:
        base = f"{provider.url}/{request.path_params['tenant']}"
        return JSONResponse({"issuer": provider.issuer, "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                             "token_endpoint": f"{base}/oauth2/v2.0/token", "jwks_uri": f"{provider.url}/keys",
                             "response_types_supported": ["code"], "id_token_signing_alg_values_supported": ["RS256"],
                             "subject_types_supported": ["pairwise"], "scopes_supported": ["openid", "email"]})

    def keys(request: Request) -> Response:
        return JSONResponse({"keys": [provider.key.as_dict(private=False)]})

    def authorize(request: Request) -> Response:
        q = request.query_params
        back = q["redirect_uri"]
        if provider.error:
            return RedirectResponse(f"{back}?{urlencode({'error': provider.error, 'state': q['state']})}", 302)
        code = secrets.token_urlsafe(16)
        provider.codes[code] = (q.get("nonce", ""), dict(provider.claims))
        return RedirectResponse(f"{back}?{urlencode({'code': code, 'state': q['state']})}", 302)

    async def token(request: Request) -> Response:
        provider.token_requests += 1
        form = await request.form()
        client_id, secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        if (client_id, secret) != (CLIENT_ID, CLIENT_SECRET):
            return JSONResponse({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client "
                                 "secret provided."}, 401)
        found = provider.codes.pop(str(form.get("code", "")), None)  # a code works once
        if found is None:
            return JSONResponse({"error": "invalid_grant", "error_description": "AADSTS54005: OAuth2 "
                                 "Authorization code was already redeemed."}, 400)
        nonce, claims = found
        now = int(time.time())
        body = {"iss": provider.issuer, "aud": provider.audience, "iat": now, "nbf": now, "exp": now + 3600,
                "sub": claims.get("oid", "sub"), "nonce": nonce, **claims}
        key = provider.other_key if provider.forge else provider.key
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, body, key)
        return JSONResponse({"token_type": "Bearer", "access_token": secrets.token_urlsafe(24), "expires_in": 3600,
                             "id_token": id_token, "scope": "openid email profile"})

    return Starlette(routes=[
        Route("/{tenant}/v2.0/.well-known/openid-configuration", metadata),
        Route("/keys", keys),
        Route("/{tenant}/oauth2/v2.0/authorize", authorize),
        Route("/{tenant}/oauth2/v2.0/token", token, methods=["POST"]),
    ])


def serve() -> Iterator[Provider]:
    """Start the provider on a free port of 127.0.0.1; stop it when the generator is closed."""
    provider = Provider()
    port = free_port()
    provider.url = f"http://127.0.0.1:{port}"
    server = uvicorn.Server(uvicorn.Config(app_for(provider), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the fake OpenID provider did not start"
        time.sleep(0.02)
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(10)
