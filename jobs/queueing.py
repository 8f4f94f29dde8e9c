"""Queue notices exactly once: each under a unique key, with its outbox messages, in one transaction.

A notice is a decision (`reminder:o12:d3`: obligation 12's reminder three days before) and one outbox message per
recipient (`reminder:o12:d3:c4:email`, the notice's key with the recipient and channel; a Teams channel, which is
no contact, by its name: `report:...:t-example-council:teams`). The decision row is
inserted first with insert-or-ignore: only the transaction that inserts it queues the messages, so a second
scheduler on the same database, or a restarted one repeating a sweep, finds it there and queues nothing. A kill
mid-way leaves nothing (the transaction rolls back) and the next sweep does it again. The dispatcher sends them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from bot.outbox.card import CARD, Card
from bot.outbox.transport import REPLY_MARKUP
from bot.storage.db import insert_ignore, retrying, write_session
from bot.storage.models import Notice, Obligation, OutboxMessage
from jobs.recipients import Recipient

log = logging.getLogger("kpibot.scheduler")
CHUNK = 200  # decisions per transaction: a long burst commits as it goes, and never holds the lock for long
EMAIL_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}  # RFC 3834; Exchange


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    attachment_sha256: str | None = None
    attachment_name: str | None = None
    card: Card | None = None  # what a Teams channel is posted (bot/outbox/card.py)
    markup: dict[str, Any] | None = None  # a chat message's buttons (Telegram's inline keyboard)


@dataclass(frozen=True)
class Outgoing:
    recipient: Recipient
    message: Message


@dataclass
class Decision:
    """One notice: its key, what it is about, and the message to each recipient (none for a decision that only
    records a step, such as an on-time period on the escalation ladder)."""

    key: str
    kind: str  # reminder | overdue | ladder | report | digest
    outbox_kind: str
    obligation_id: int | None = None
    level: int = 0
    outgoing: list[Outgoing] = field(default_factory=list)
    escalation_level: int | None = None  # written to the obligation with the decision
    organisations: tuple[str, ...] = ()  # whose contacts the messages may go to
    why: str = ""  # what it is about, for a person reading `kpibot run --dry-run`
    # Rows recorded with the notice, in the same transaction (inserted unless already there): the stored file and
    # rendered report a message attaches, a service failure on the record.
    rows: list[tuple[type[SQLModel], dict[str, Any]]] = field(default_factory=list)

    def recipient_key(self, outgoing: Outgoing) -> str:
        r = outgoing.recipient
        return f"{self.key}:{f'c{r.contact_id}' if r.contact_id is not None else f't-{r.address}'}:{r.channel}"


def existing(session: Session, keys: Sequence[str]) -> set[str]:
    """Which of `keys` are already notices."""
    if session.get_bind().dialect.name == "postgresql":  # one array parameter: one round trip, however many
        return set(session.execute(sa.text("SELECT key FROM notice WHERE key = ANY(:keys)"),
                                   {"keys": list(keys)}).scalars())
    found: set[str] = set()
    for start in range(0, len(keys), 500):  # SQLite is in-process: small IN lists cost nothing extra
        found.update(session.exec(select(Notice.key).where(col(Notice.key).in_(keys[start:start + 500]))).all())
    return found


def _insert_new(session: Session, model: type[Any], rows: list[dict[str, Any]], *columns: str) -> list[Any]:
    """Insert rows, skipping those another transaction already made; return `columns` of the rows inserted."""
    if not rows:
        return []
    dialect = session.get_bind().dialect.name
    table = model.__table__
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    statement = insert.on_conflict_do_nothing().returning(*(table.c[c] for c in columns))
    return [tuple(row) for row in session.execute(statement, rows)]


def queue(engine: sa.Engine, decisions: Sequence[Decision], now: datetime) -> int:
    """Record `decisions` not yet recorded and queue their messages; return how many messages were queued."""
    queued = 0
    for start in range(0, len(decisions), CHUNK):
        chunk = decisions[start:start + CHUNK]
        queued += retrying(lambda: _queue_chunk(engine, chunk, now))
    return queued


def _queue_chunk(engine: sa.Engine, decisions: Sequence[Decision], now: datetime) -> int:
    with write_session(engine) as session:
        won = {key for (key,) in _insert_new(session, Notice, [
            dict(key=d.key, obligation_id=d.obligation_id, kind=d.kind, level=d.level, created_at=now)
            for d in decisions], "key")}
        mine = [d for d in decisions if d.key in won]
        by_model: dict[type[SQLModel], list[dict[str, Any]]] = {}
        for model, row in (r for d in mine for r in d.rows):
            by_model.setdefault(model, []).append(row)
        for model, rows in by_model.items():  # in a stable order: files before the reports that name them
            insert_ignore(session, model, rows)
        rows = [_outbox_row(d, o, now) for d in mine for o in d.outgoing]
        ids = dict(_insert_new(session, OutboxMessage, rows, "dedupe_key", "id"))
        insert_ignore(session, Notice, [
            dict(key=d.recipient_key(o), obligation_id=d.obligation_id, kind=d.outbox_kind, level=d.level,
                 created_at=now, outbox_id=ids.get(d.recipient_key(o))) for d in mine for o in d.outgoing])
        for d in mine:
            if d.escalation_level is not None and d.obligation_id is not None:
                session.exec(sa.update(Obligation).where(col(Obligation.id) == d.obligation_id)
                             .values(escalation_level=d.escalation_level))
        session.commit()
    for d in mine:
        for o in d.outgoing:
            log.info("queued %s %s for %s (%s %s)", d.outbox_kind, d.key, o.recipient.name, o.recipient.channel,
                     o.recipient.address)
    return len(ids)


def _outbox_row(decision: Decision, outgoing: Outgoing, now: datetime) -> dict[str, Any]:
    r, m = outgoing.recipient, outgoing.message
    return dict(dedupe_key=decision.recipient_key(outgoing), created_at=now, contact_id=r.contact_id,
                channel=r.channel, address=r.address, kind=decision.outbox_kind, subject=m.subject[:300],
                body_text=m.text, attachment_sha256=m.attachment_sha256, attachment_name=m.attachment_name,
                status="pending", attempts=0, next_attempt_at=now, parts_sent=0, last_error="",
                headers=dict(EMAIL_HEADERS) if r.email else {CARD: m.card.to_json()} if m.card
                else {REPLY_MARKUP: json.dumps(m.markup)} if m.markup else {})
