"""Deliver due outbox messages: none lost, none sent twice where the channel could tell.

1. Recover messages left in `sending` by a process that stopped mid-delivery (its lease ran out, or its process
   is gone). Where sending again is harmless it is sent again: an email keeps its Message-ID, so mail clients and
   servers fold a repeat into one, and the local channel rewrites the same file. Elsewhere (Telegram, Teams) it
   may already have arrived, so it is marked `interrupted`: shown in `kpibot status` and `kpibot outbox list`,
   for an operator to `kpibot outbox retry ID`; so is a message a transport sent without getting an answer.
   Parts of a split chat message already delivered are never repeated.
2. Claim one due message with a conditional update (only one process wins it); a message whose PDF is still
   being drawn waits for it. Deliver outside any transaction, then record the outcome: sent; retry later (with
   exponential back-off, or when the far end said); or failed for good.
A permanent failure of the recipient (the user blocked the bot, the address does not exist) also disables that
channel for the contact, so nothing more is queued into a void; a permanent failure of one message (its content
refused) fails it alone. A failure of the whole channel (its server refuses the connection or kpibot's sign-in, or
says it is unavailable) pauses the channel instead (pauses.py): the message waits without using up an attempt, no
contact is disabled, and everything goes once the channel works again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.outbox import pauses
from bot.outbox.transport import Outbound, Transport, TransportError
from bot.processes import leases
from bot.settings.redaction import redact
from bot.storage.audit import record
from bot.storage.db import retrying, write_session
from bot.storage.files import FileStore
from bot.storage.models import Contact, OutboxMessage, RenderJob

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=15)
MAX_BACKOFF = timedelta(hours=6)
RESEND_SAFE = ("email", "local")  # channels where delivering again cannot show the reader a second copy


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
        self.recover(now)
        attempted = 0
        while attempted < limit and self.deliver_one(now):
            attempted += 1
        return attempted

    # -- 1. recovery -------------------------------------------------------------------------------------------

    def recover(self, now: datetime) -> int:
        """Deal with messages whose sender stopped mid-delivery; return how many."""
        with Session(self.engine) as session:
            rows = session.exec(select(OutboxMessage).where(OutboxMessage.status == "sending")).all()
            stale = [m.id for m in rows if m.claimed_at is None or m.claimed_at < now - STALE_AFTER
                     or leases.owner_gone(m.claimed_by)]
        for message_id in stale:
            assert message_id is not None
            retrying(lambda: self._recover_one(message_id, now))
        return len(stale)

    def _recover_one(self, message_id: int, now: datetime) -> None:
        with write_session(self.engine) as session:
            message = session.get(OutboxMessage, message_id)
            if message is None or message.status != "sending":
                return
            if message.channel in RESEND_SAFE:
                message.status, message.next_attempt_at = "pending", now
                message.last_error = "interrupted while sending; sent again (same Message-ID)"
                action = "outbox_resumed"
            else:
                message.status = "interrupted"
                message.last_error = (f"interrupted while sending (after {message.parts_sent} part(s)); it may "
                                      "have arrived. Check with the recipient, then `kpibot outbox retry "
                                      f"{message.id}` sends the rest.")
                action = "outbox_interrupted"
            message.claimed_by = None
            log.warning("outbox message %s to %s: %s", message.id, message.address, message.last_error)
            record(session, now, "system", action, f"outbox:{message.id}",
                   {"to": message.address, "channel": message.channel, "kind": message.kind,
                    "parts_sent": message.parts_sent})
            session.commit()

    def retry(self, message_id: int, now: datetime, actor: str = "operator") -> OutboxMessage:
        """Send an interrupted or failed message again (from the first part not yet delivered), to a contact whose
        channel its failure disabled too: the operator retrying it says the address is good again."""
        with write_session(self.engine, expire_on_commit=False) as session:
            message = session.get(OutboxMessage, message_id)
            if message is None:
                raise LookupError(f"no outbox message {message_id}")
            if message.status not in ("interrupted", "failed"):
                raise ValueError(f"message {message_id} is {message.status}; only interrupted or failed messages "
                                 "are retried")
            message.status, message.next_attempt_at, message.attempts = "pending", now, 0
            record(session, now, actor, "outbox_retry", f"outbox:{message.id}", {"to": message.address})
            contact = session.get(Contact, message.contact_id) if message.contact_id is not None else None
            if contact is not None and message.channel in ("email", "telegram") and \
                    getattr(contact, f"{message.channel}_disabled"):  # the operator says the address is good again
                setattr(contact, f"{message.channel}_disabled", False)
                record(session, now, actor, f"{message.channel}_enabled", f"contact:{contact.id}",
                       {"reason": f"outbox message {message.id} retried"})
            session.commit()
            return message

    # -- 2. delivery -------------------------------------------------------------------------------------------

    def _due(self, session: Session, now: datetime) -> list[int]:
        ready = sa.or_(col(OutboxMessage.render_job_id).is_(None),
                       col(RenderJob.status).in_(("done", "failed")))
        stopped = pauses.paused(session, now)
        ids = session.exec(
            select(col(OutboxMessage.id)).outerjoin(RenderJob, col(RenderJob.id) == OutboxMessage.render_job_id)
            .where(OutboxMessage.status == "pending", col(OutboxMessage.next_attempt_at) <= now, ready,
                   col(OutboxMessage.channel).not_in(stopped))
            .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id)).limit(5)).all()
        return [message_id for message_id in ids if message_id is not None]  # a stored row always has its id

    def _claim(self, now: datetime) -> int | None:
        with Session(self.engine) as session:
            candidates = self._due(session, now)
        for message_id in candidates:
            with write_session(self.engine) as session:
                claimed = session.exec(
                    sa.update(OutboxMessage)
                    .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.status) == "pending")
                    .values(status="sending", claimed_at=now, claimed_by=leases.me(),
                            attempts=OutboxMessage.attempts + 1))
                session.commit()
            if claimed.rowcount == 1:
                return message_id
        return None

    def deliver_one(self, now: datetime) -> bool:
        """Claim and deliver one due message; False when none is due."""
        message_id = retrying(lambda: self._claim(now))
        if message_id is None:
            return False
        with Session(self.engine) as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            outbound = self._outbound(session, message)
            channel, address, kind = message.channel, message.address, message.kind
        transport = self.transports.get(channel)
        try:
            if transport is None:
                raise TransportError(f"no transport configured for channel {channel!r}", permanent=True,
                                     scope="message")  # kpibot's set-up, not the contact's doing
            transport.send(outbound)
        except TransportError as exc:
            retrying(partial(self._failed, message_id, now, exc))
        except Exception as exc:  # noqa: BLE001 - an unexpected fault is retried like a transient one
            log.exception("outbox message %s: unexpected error", message_id)
            retrying(partial(self._failed, message_id, now, TransportError(f"{type(exc).__name__}: {exc}")))
        else:
            retrying(lambda: self._sent(message_id, now))
            log.info("sent %s %s to %s (%s)", kind, message_id, address, channel)
        return True

    def _outbound(self, session: Session, message: OutboxMessage) -> Outbound:
        text, sha = message.body_text, message.attachment_sha256
        if message.render_job_id is not None:
            job = session.get(RenderJob, message.render_job_id)
            if job is not None and job.status == "done":
                sha = job.sha256
            else:  # drawing the PDF failed for good: the text that does not promise it
                text, sha = message.fallback_text or message.body_text, None
        attachment = self.files.get(sha) if sha else None
        message_id = message.id

        def on_part(count: int) -> None:
            retrying(lambda: self._progress(message_id, count))

        return Outbound(address=message.address, subject=message.subject, text=text, html=message.body_html,
                        attachment=attachment, attachment_name=message.attachment_name if attachment else None,
                        message_id=f"kpibot-outbox-{message.id}", kind=message.kind,
                        headers={k: str(v) for k, v in message.headers.items()}, parts_sent=message.parts_sent,
                        on_part=on_part)

    def _progress(self, message_id: int | None, count: int) -> None:
        with write_session(self.engine) as session:
            session.exec(sa.update(OutboxMessage).where(col(OutboxMessage.id) == message_id)
                         .values(parts_sent=count))
            session.commit()

    def _sent(self, message_id: int, now: datetime) -> None:
        with write_session(self.engine) as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            message.status, message.sent_at, message.last_error, message.claimed_by = "sent", now, "", None
            record(session, now, "system", "outbox_sent", f"outbox:{message.id}",
                   {"channel": message.channel, "to": message.address, "kind": message.kind})
            pauses.resume(session, message.channel, now)
            session.commit()

    def _failed(self, message_id: int, now: datetime, exc: TransportError) -> None:
        with write_session(self.engine) as session:
            message = session.get(OutboxMessage, message_id)
            assert message is not None
            message.last_error, message.claimed_by = redact(str(exc))[:2000], None
            if exc.scope == "channel":  # nobody's fault but the channel's: it pauses, the message waits unharmed
                message.status, message.attempts = "pending", max(message.attempts - 1, 0)
                pauses.pause(session, message.channel, message.last_error, now, self.backoff)
            elif exc.interrupted:  # it may have arrived: like a sender killed after sending (see `recover`)
                message.status = "interrupted"
                message.last_error = (f"{message.last_error[:1800]}. It may have arrived: check with the recipient, "
                                      f"then `kpibot outbox retry {message.id}` sends it again.")
                log.warning("outbox message %s to %s: %s", message.id, message.address, message.last_error)
                record(session, now, "system", "outbox_interrupted", f"outbox:{message.id}",
                       {"to": message.address, "channel": message.channel, "kind": message.kind})
            elif exc.permanent or message.attempts >= self.max_attempts:
                message.status = "failed"
                if exc.permanent and exc.scope == "recipient" and message.contact_id is not None:
                    contact = session.get(Contact, message.contact_id)
                    if contact is not None and message.channel in ("email", "telegram"):
                        setattr(contact, f"{message.channel}_disabled", True)
                log.warning("outbox message %s to %s failed: %s", message.id, message.address, message.last_error)
                record(session, now, "system", "outbox_failed", f"outbox:{message.id}",
                       {"error": message.last_error, "permanent": exc.permanent, "attempts": message.attempts,
                        "disabled": exc.permanent and exc.scope == "recipient"})
            else:
                if exc.retry_after is not None:
                    delay = timedelta(seconds=exc.retry_after)
                else:
                    delay = min(self.backoff * (2 ** (message.attempts - 1)), MAX_BACKOFF)
                message.status = "pending"
                message.next_attempt_at = now + delay
                log.info("outbox message %s to %s: %s; trying again at %s", message.id, message.address,
                         message.last_error, message.next_attempt_at.isoformat(timespec="seconds"))
            session.commit()
