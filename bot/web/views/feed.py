"""The council's CSV feed of scored results, behind a token (`?token=...` or `Authorization: Bearer ...`)."""

from __future__ import annotations

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.web.feed import council_of, rows
from bot.web.views.base import csv_response, now, workspace


async def feed(request: Request) -> Response:
    web = workspace(request)
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.query_params.get("token", "")
    council = await run_in_threadpool(council_of, web.parts.engine, token[:200], now(request))
    if council is None:
        return PlainTextResponse("This feed needs a valid token, and this one is missing, unknown or revoked: ask "
                                 "the council's kpibot administrator for a feed token.", status_code=401,
                                 headers={"www-authenticate": 'Bearer realm="kpibot feed"'})

    def read() -> list[list[object]]:
        with Session(web.parts.engine) as session:
            return rows(session, council)
    return csv_response(await run_in_threadpool(read), "kpibot-results.csv")
