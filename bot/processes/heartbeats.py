"""Heartbeats: each periodic task and channel records when it last ran, so `kpibot status` shows a stopped one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.processes import leases
from bot.settings.redaction import redacted
from bot.storage.db import insert_ignore, write_session
from bot.storage.models import Heartbeat


def beat(engine: sa.Engine, name: str, now: datetime, detail: dict[str, Any]) -> None:
    """Record that `name` just ran (the newest beat per name is kept); an error in `detail` is redacted."""
    detail = redacted(detail)
    with write_session(engine) as session:
        if insert_ignore(session, Heartbeat, dict(name=name, at=now, owner=leases.me(), detail=detail)) == 0:
            row = session.get(Heartbeat, name)
            assert row is not None
            row.at, row.owner, row.detail = now, leases.me(), detail
        session.commit()


def heartbeats(engine: sa.Engine) -> dict[str, Heartbeat]:
    with Session(engine) as session:
        return {h.name: h for h in session.exec(select(Heartbeat))}
