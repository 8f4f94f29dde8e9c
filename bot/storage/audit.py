"""The audit log: who did what, when."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.settings.redaction import redacted
from bot.storage.db import table_of
from bot.storage.models import AuditEvent


def record(session: Session, at: datetime, actor: str, action: str, subject: str = "",
           detail: dict[str, Any] | None = None) -> AuditEvent:
    """Add an audit event to the session's transaction (it commits or rolls back with the work it describes); an
    error quoted in `detail` is redacted (bot/settings/redaction.py)."""
    event = AuditEvent(at=at, actor=actor, action=action, subject=subject, detail=redacted(detail or {}))
    session.add(event)
    return event


def event_row(at: datetime, actor: str, action: str, subject: str = "",
              detail: dict[str, Any] | None = None) -> dict[str, Any]:
    """An audit event as a row for `record_all` (its detail redacted as `record` does)."""
    return dict(at=at, actor=actor, action=action, subject=subject, detail=redacted(detail or {}))


def record_all(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Add many audit events (`event_row`s) to the session's transaction in one statement, in order."""
    if rows:
        session.execute(table_of(AuditEvent).insert(), list(rows))
