"""Deliver due outbox messages, each at most once.

1. Give up on messages left in `sending` by a process that stopped mid-delivery: we cannot know whether they
   went out, and sending twice is worse than telling a person (they are marked failed and audited).
2. Claim one due message with a conditional update (only one process wins it), deliver it outside any
   transaction, then record the outcome: sent; retry later with exponential back-off; or failed for good.
A permanent failure (the user blocked the bot, the address does not exist) also disables that channel for the
contact, so nothing more is queued into a void.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.outbox.transport import Outbound, Transport, TransportError
from bot.storage.audit import record
from bot.storage.files import FileStore
from bot.storage.models import Contact, OutboxMessage

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=15)
MAX_BACKOFF = timedelta(hours=6)


class Dispatcher:
    def __init__(self, engine: sa.Engine, transports: Mapping[str, Transport], files: FileStore,
                 max_attempts: int = 8, backoff: timedelta = timedelta(seconds=60)) -> None:
        self.engine = engine
        self.transports = transports
        self.files = files
        self.max_attempts = max_attempts
        self.backoff = backoff

    def run_once(self, now: datetime, limit: int = 100) -> int:
        """Deliver up to `limit` due messages; return how many were attempted."""
        self.abandon_stale(now)
        attempted = 0
        while attempted < limit and self.deliver_one(now):
            attempted += 1
        return attempted

    def abandon_stale(self, now: datetime) -> int:
        with Session(self.engine) as session:
            stale = session.exec(select(OutboxMessage).where(OutboxMessage.status == "sending",
                                                             OutboxMessage.claimed_at < now - STALE_AFTER)).all()  # type: ignore[operator]
            for message in stale:
                message.status = "failed"
                message.last_error = ("interrupted while sending; not retried automatically because it may "
                                      "already have been delivered")
                record(session, now, "system", "outbox_abandoned", f"outbox:{message.id}", {"to": message.address})
            session.commit()
            return len(stale)

    def _claim(self, session: Session, now: datetime) -> OutboxMessage | None:
        candidates = session.exec(select(OutboxMessage.id).where(
            OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(5)).all()  # type: ignore[arg-type]
        for message_id in candidates:
            claimed = session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")  # type: ignore[arg-type]
                .values(status="sending", claimed_at=now, attempts=OutboxMessage.attempts + 1)
            )
            session.commit()
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                return session.get(OutboxMessage, message_id)
        return None

    def deliver_one(self, now: datetime) -> bool:
        """Claim and deliver one due message; False when none is due."""
        with Session(self.engine) as session:
            message = self._claim(session, now)
            if message is None:
                return False
            transport = self.transports.get(message.channel)
            try:
                if transport is None:
                    raise TransportError(f"no transport configured for channel {message.channel!r}", permanent=True)
                transport.send(self._outbound(message))
            except TransportError as exc:
                self._failed(session, message, now, exc)
            except Exception as exc:  # noqa: BLE001 - an unexpected fault is retried like a transient one
                log.exception("outbox message %s: unexpected error", message.id)
                self._failed(session, message, now, TransportError(f"{type(exc).__name__}: {exc}"))
            else:
                message.status = "sent"
                message.sent_at = now
                message.last_error = ""
                record(session, now, "system", "outbox_sent", f"outbox:{message.id}",
                       {"channel": message.channel, "to": message.address, "kind": message.kind})
            session.commit()
            return True

    def _outbound(self, message: OutboxMessage) -> Outbound:
        attachment = self.files.get(message.attachment_sha256) if message.attachment_sha256 else None
        return Outbound(address=message.address, subject=message.subject, text=message.body_text,
                        html=message.body_html, attachment=attachment, attachment_name=message.attachment_name,
                        message_id=f"kpibot-outbox-{message.id}")

    def _failed(self, session: Session, message: OutboxMessage, now: datetime, exc: TransportError) -> None:
        message.last_error = str(exc)[:2000]
        if exc.permanent or message.attempts >= self.max_attempts:
            message.status = "failed"
            if exc.permanent and message.contact_id is not None:
                contact = session.get(Contact, message.contact_id)
                if contact is not None and message.channel in ("email", "telegram"):
                    setattr(contact, f"{message.channel}_disabled", True)
            record(session, now, "system", "outbox_failed", f"outbox:{message.id}",
                   {"error": message.last_error, "permanent": exc.permanent, "attempts": message.attempts})
        else:
            delay = min(self.backoff * (2 ** (message.attempts - 1)), MAX_BACKOFF)
            message.status = "pending"
            message.next_attempt_at = now + delay
