"""Cross-site request forgery protection for every POST: a double-submit token of our own.

asgi-csrf was the plan, but its multipart check calls python-multipart's `FormParser(FileClass=...)`, which
python-multipart 0.0.26 removed (simonw/asgi-csrf#38; the release fixes CVE-2026-40347, so pinning below it is
no answer). This keeps asgi-csrf's design: the token is a random value signed with itsdangerous, kept in an HttpOnly
SameSite=Lax cookie and repeated in each form's `csrftoken` field (or an `x-csrftoken` header); a multipart form must
send its token before its file, so no upload is read before the request is known to come from our own page. A POST
without a matching token gets `refuse` and reaches no view. Templates read the token from `scope["csrftoken"]()`.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl

from itsdangerous import BadSignature, URLSafeSerializer
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "csrftoken"
FIELD = "csrftoken"
HEADER = b"x-csrftoken"
SAFE = {"GET", "HEAD", "OPTIONS"}
FORM_LIMIT = 64 * 1024  # a url-encoded form is small; a bigger one is not ours


class _Found(Exception):
    """The token field was read (its value in args[0])."""


class _FileFirst(Exception):
    """A file part came before the token."""


@dataclass
class _Part:
    """What is known of the multipart part being read."""

    field: bytes = b""
    value: bytes = b""
    name: bytes = b""
    file: bool = False
    data: bytes = b""


class CSRF:
    """Check the token on every unsafe request; set the cookie when a page used a token the browser lacks."""

    def __init__(self, app: ASGIApp, secret: str, refuse: Callable[[Scope, Send], Awaitable[None]],
                 secure: bool = False) -> None:
        self.app, self.refuse, self.secure = app, refuse, secure
        self.signer = URLSafeSerializer(secret, "csrftoken")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        cookie = self._valid(_cookie(headers.get(b"cookie", b"")))
        token = cookie or self.signer.dumps(secrets.token_urlsafe(24))
        used = False

        def token_for_page() -> str:
            nonlocal used
            used = True
            return token

        scope["csrftoken"] = token_for_page

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start" and used and cookie is None:
                value = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if self.secure else "")
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", value.encode())]}
            await send(message)

        if scope["method"] in SAFE:
            await self.app(scope, receive, sending)
            return
        sent = headers.get(HEADER, b"").decode("latin-1")
        if cookie is not None and sent and secrets.compare_digest(sent, cookie):
            await self.app(scope, receive, sending)
            return
        kind = headers.get(b"content-type", b"").decode("latin-1")
        form_token, replay = None, receive
        if cookie is not None:
            form_token, replay = await _token_in_body(kind, receive)
        if cookie is None or form_token is None or not secrets.compare_digest(form_token, cookie):
            await self.refuse(scope, sending)
            return
        await self.app(scope, replay, sending)

    def _valid(self, value: str | None) -> str | None:
        if not value:
            return None
        try:
            self.signer.loads(value)
        except BadSignature:
            return None
        return value


def _cookie(raw: bytes) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw.decode("latin-1"))
    except Exception:  # a malformed Cookie header is no token
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel else None


async def _token_in_body(kind: str, receive: Receive) -> tuple[str | None, Receive]:
    """The form's token and a `receive` that replays what was read to find it. Only as much of a multipart body
    is read as it takes to find the token; a file before it is no token."""
    mime, options = parse_options_header(kind)
    messages: list[Message] = []

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    if mime == b"application/x-www-form-urlencoded":
        body = b""
        while True:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            if len(body) > FORM_LIMIT or not message.get("more_body", False):
                break
        fields = dict(parse_qsl(body.decode("latin-1")))
        return fields.get(FIELD), replay
    if mime != b"multipart/form-data" or b"boundary" not in options:
        return None, replay
    part = _Part()

    def header_field(data: bytes, start: int, end: int) -> None:
        part.field += data[start:end]

    def header_value(data: bytes, start: int, end: int) -> None:
        part.value += data[start:end]

    def header_end() -> None:
        if part.field.lower() == b"content-disposition":
            _, params = parse_options_header(part.value)
            part.name, part.file = params.get(b"name", b""), b"filename" in params
        part.field, part.value = b"", b""

    def headers_done() -> None:
        if part.file:
            raise _FileFirst

    def part_data(data: bytes, start: int, end: int) -> None:
        if part.name == FIELD.encode() and len(part.data) < 1024:
            part.data += data[start:end]

    def part_end() -> None:
        if part.name == FIELD.encode():
            raise _Found(part.data.decode("latin-1"))
        part.name, part.file, part.data = b"", False, b""  # the next part starts afresh

    parser = MultipartParser(options[b"boundary"], {
        "on_header_field": header_field, "on_header_value": header_value, "on_header_end": header_end,
        "on_headers_finished": headers_done, "on_part_data": part_data, "on_part_end": part_end})
    try:
        while True:
            message = await receive()
            messages.append(message)
            parser.write(message.get("body", b""))
            if not message.get("more_body", False):
                return None, replay
    except _Found as found:
        return str(found.args[0]), replay
    except Exception:  # a file first (_FileFirst), or a body that is not well-formed multipart: no token
        return None, replay
