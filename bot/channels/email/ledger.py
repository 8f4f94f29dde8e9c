"""The email channel's own records: the ledger of mailbox messages (`inbound_mail`), and the few answers and
notices it queues in the outbox itself (the intake queues the replies to returns).

A message is known by where it is (account, folder, UIDVALIDITY, UID); when the server renumbers a folder (a new
UIDVALIDITY), by its Message-ID and the sha256 of each file it carries. Every answer's outbox key is derived from
the message, so seeing a message again never answers it twice.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot.authz.policy import is_commissioner, visible_contracts
from bot.channels.email.message import Inbound
from bot.outbox.email_threads import reply_headers
from bot.storage.db import insert_ignore
from bot.storage.models import Contact, InboundMail, OutboxMessage

CAP_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Location:
    """Where a message is: its UID is valid only with the folder's UIDVALIDITY."""

    account: str
    folder: str
    uidvalidity: int
    uid: int


def recorded(session: Session, where: Location) -> InboundMail | None:
    return session.exec(select(InboundMail).where(
        InboundMail.account == where.account, InboundMail.folder == where.folder,
        InboundMail.uidvalidity == where.uidvalidity, InboundMail.uid == where.uid)).first()


def same_message(session: Session, account: str, message: Inbound) -> InboundMail | None:
    """The record of this very message seen elsewhere (before the folder was renumbered, or delivered twice):
    the same Message-ID with the same files."""
    for row in session.exec(select(InboundMail).where(InboundMail.account == account,
                                                      InboundMail.message_id == message.message_id)):
        if row.attachment_hashes == message.attachment_hashes:
            return row
    return None


def identity(session: Session, account: str, message: Inbound) -> str:
    """What the intake and the answers key this message on: its Message-ID, unless an earlier message with other
    files came with the same one (some systems reuse ids), when ` #` and a digest of the files keep the two apart
    (a Message-ID has no spaces, so the reply still finds the id to thread on)."""
    others = session.exec(select(InboundMail.attachment_hashes).where(
        InboundMail.account == account, InboundMail.message_id == message.message_id)).all()
    if not any(hashes != message.attachment_hashes for hashes in others):
        return message.message_id
    digest = hashlib.sha256(" ".join(message.attachment_hashes).encode()).hexdigest()[:16]
    return f"{message.message_id[:180]} #{digest}"


def record(session: Session, where: Location, message: Inbound, arrived: datetime, outcome: str) -> None:
    """Add the message to the ledger (a second process recording it too changes nothing); the caller commits."""
    insert_ignore(session, InboundMail, dict(
        account=where.account, folder=where.folder, uidvalidity=where.uidvalidity, uid=where.uid,
        message_id=message.message_id[:300], sender=message.sender or ", ".join(message.senders)[:254],
        subject=message.subject[:300], attachment_hashes=message.attachment_hashes, received_at=arrived,
        outcome=outcome[:32], moved_at=None))


def moved(session: Session, where: Location, now: datetime) -> None:
    session.exec(sa.update(InboundMail).where(
        col(InboundMail.account) == where.account, col(InboundMail.folder) == where.folder,
        col(InboundMail.uidvalidity) == where.uidvalidity, col(InboundMail.uid) == where.uid).values(moved_at=now))


def contact_for(session: Session, address: str) -> Contact | None:
    """The active contact with exactly this address (case-insensitive; `alice+x@` is not `alice@`)."""
    if not address:
        return None
    return session.exec(select(Contact).where(func.lower(Contact.email) == address.lower(),
                                              Contact.active == True)).first()  # noqa: E712


def replies_this_hour(session: Session, address: str, now: datetime) -> int:
    """Emails to `address` sent in the last hour or still waiting to go: what the per-sender cap counts."""
    return session.exec(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.channel == "email", func.lower(OutboxMessage.address) == address.lower(),
        sa.or_(col(OutboxMessage.status).in_(("pending", "sending")),
               col(OutboxMessage.sent_at) >= now - CAP_WINDOW))).one()


def answer(session: Session, message: Inbound, key: str, contact: Contact, what: str, subject: str, text: str,
           now: datetime) -> None:
    """Queue a short answer to `message` in its thread, once per message (`key`: its identity) and kind."""
    queue(session, f"email:{what}:{key}", contact, "email", contact.email, "reply", subject, text, now,
          reply_headers(message.message_id, message.references, message.subject))


def queue(session: Session, key: str, contact: Contact, channel: str, address: str, kind: str, subject: str,
          text: str, now: datetime, headers: dict[str, str] | None = None) -> None:
    insert_ignore(session, OutboxMessage, dict(
        dedupe_key=key[:300], created_at=now, contact_id=contact.id, channel=channel, address=address, kind=kind,
        subject=subject[:300], body_text=text, body_html=None, attachment_sha256=None, attachment_name=None,
        status="pending", attempts=0, next_attempt_at=now, claimed_at=None, sent_at=None, last_error="",
        render_job_id=None, fallback_text=None, parts_sent=0, claimed_by=None, headers=headers or {}))


def commissioners_for(session: Session, contact: Contact) -> list[Contact]:
    """Who commissions what `contact` submits (for a commissioner: their own council's commissioners)."""
    if is_commissioner(contact):
        councils = {contact.organisation_id}
    else:
        councils = {c.commissioner_id for c in visible_contracts(session, contact)}
    if not councils:
        return []
    return list(session.exec(select(Contact).where(
        col(Contact.organisation_id).in_(councils), Contact.role == "commissioner",
        Contact.active == True).order_by(col(Contact.id))))  # noqa: E712


def contract_names(session: Session, contact: Contact) -> str:
    return ", ".join(f"{c.name} ({c.id})" for c in visible_contracts(session, contact))
