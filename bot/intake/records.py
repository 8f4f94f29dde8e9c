"""The intake's own records, read back: a submission by its channel key, one still leased to this process, the
findings stored for it, the outcome an earlier submission already had (a replay answers a resend with it), what a
channel handed in rebuilt from the record, and the contact a sender is; the return a submission is pinned to
while it is processed, and whether its bytes are the latest version's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.assessment.in_context import terms_of
from bot.authz.policy import visible_contracts
from bot.intake import saving
from bot.intake.received import IntakeResult, Received
from bot.processes import leases
from bot.storage.db import table_of, write_session
from bot.storage.files import FileStore
from bot.storage.models import (
    Contact,
    Contract,
    FindingRow,
    Obligation,
    OutboxMessage,
    Submission,
    one_of,
)
from bot.storage.sync import ensure_obligations
from kpi_core.findings import SEVERITIES, Finding


class Lost(Exception):
    """Another process finished or took over this submission meanwhile; its outcome stands."""


@dataclass(frozen=True)
class Sender:
    id: int
    email: str
    name: str
    role: str

    @classmethod
    def of(cls, contact: Contact) -> "Sender":
        assert contact.id is not None
        return cls(contact.id, contact.email, contact.name, contact.role)

    @property
    def on_behalf(self) -> bool:
        return self.role == "commissioner"


def by_key(session: Session, key: str) -> Submission | None:
    return session.exec(select(Submission).where(Submission.idempotency_key == key)).first()



def mine(session: Session, submission_id: int) -> Submission:
    """The submission, still unfinished and still leased to this process; else Lost."""
    submission = session.get(Submission, submission_id)
    if submission is None or submission.status != "received" or submission.lease_owner != leases.me():
        raise Lost(submission_id)
    return submission



def stored_findings(session: Session, submission_id: int | None) -> tuple[Finding, ...]:
    return tuple(Finding(one_of(r.severity, SEVERITIES), r.code, r.message, r.location, r.fix, r.item)
                 for r in session.exec(select(FindingRow).where(FindingRow.submission_id == submission_id)))

def replay(session: Session, submission: Submission) -> IntakeResult:
    findings = stored_findings(session, submission.id)
    reply = session.exec(select(OutboxMessage).where(col(OutboxMessage.dedupe_key).in_(
        [saving.reply_key(submission.id, stage) for stage in ("", "held", "confirm", "kept")]))
        .order_by(col(OutboxMessage.id).desc())).first()
    return IntakeResult("duplicate", submission.id, reply.body_text if reply else "", submission.contract_id,
                        submission.period_id, submission.version, submission.on_time, findings,
                        duplicate_of=submission.id)


def waiting_for_file(submission: Submission) -> bool:
    """Recorded before its file came (a Telegram upload), and the file not fetched yet."""
    return submission.source_ref is not None and submission.sha256 is None


def received_again(session: Session, files: FileStore, submission_id: int) -> Received:
    """Rebuild what the channel handed in from the submission's record and its stored raw file."""
    s = session.get(Submission, submission_id)
    assert s is not None
    data = files.get(s.sha256) if s.sha256 else b"" if waiting_for_file(s) else b"\0" * s.size
    part = int(s.idempotency_key.rsplit(":", 1)[1]) if s.idempotency_key.count(":") >= 2 else 0
    return Received(channel=s.channel, message_id=s.channel_message_id,  # type: ignore[arg-type]
                    sender=s.sender_address, filename=s.filename, data=data, received_at=s.received_at,
                    caption=s.caption, contract_id=s.requested_contract_id, period_id=s.requested_period_id,
                    part=part, source=s.source_ref or "")


def sender_of(session: Session, received: Received) -> Sender | None:
    """The active contact who sent `received` (by chat id on Telegram, else by address), or None."""
    if received.channel == "telegram":
        try:
            chat_id = int(received.sender)
        except ValueError:
            return None
        query = select(Contact).where(Contact.telegram_chat_id == chat_id)
    else:
        query = select(Contact).where(Contact.email == received.sender)
    contact = session.exec(query.where(Contact.active == True)).first()  # noqa: E712
    return None if contact is None else Sender.of(contact)


def pin(engine: sa.Engine, submission_id: int, contract: Contract,
        obligation: Obligation) -> tuple[str | None, saving.Versions]:
    """Say which return the submission is for while it is still being processed, so a later-received version of
    the same return waits for it (versions follow the order of receipt); Lost when it is no longer this process's.
    Return the file's digest and the return's saved versions: whether these bytes are the latest's is checked
    with them, and again under the lock when saving."""
    table = table_of(Submission)
    with write_session(engine) as session:
        pinned = session.execute(table.update().where(
            table.c.id == submission_id, table.c.status == "received", table.c.lease_owner == leases.me())
            .values(contract_id=contract.id, obligation_id=obligation.id, period_id=obligation.period_id)
            .returning(table.c.sha256)).first()
        if pinned is None:
            raise Lost(submission_id)
        versions = saving.versions(session, obligation.id)
        session.commit()
    return pinned[0], versions


def copy_of(engine: sa.Engine, submission_id: int) -> Submission:
    """A submission, detached (what a copy of it is told)."""
    with Session(engine) as session:
        found = session.get(Submission, submission_id)
        assert found is not None
        session.expunge(found)
        return found


def ensure_sender_obligations(engine: sa.Engine, settings: config.Settings, contact_id: int, today: date) -> None:
    """Create the obligations of the sender's contracts that have begun, in a short transaction of its own."""
    with write_session(engine) as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        for contract in visible_contracts(session, contact):
            ensure_obligations(session, contract, today, terms_of(settings, contract).returns)
        session.commit()
