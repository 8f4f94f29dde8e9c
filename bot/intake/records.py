"""The intake's own records, read back: a submission by its channel key, one still leased to this process, the
findings stored for it, and the outcome an earlier submission already had (a replay answers a resend with it)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.intake import saving
from bot.intake.received import IntakeResult
from bot.processes import leases
from bot.storage.models import Contact, FindingRow, OutboxMessage, Submission
from kpi_core.findings import Finding


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
    return tuple(Finding(r.severity, r.code, r.message, r.location, r.fix, r.item)  # type: ignore[arg-type]
                 for r in session.exec(select(FindingRow).where(FindingRow.submission_id == submission_id)))

def replay(session: Session, submission: Submission) -> IntakeResult:
    findings = stored_findings(session, submission.id)
    reply = session.exec(select(OutboxMessage).where(col(OutboxMessage.dedupe_key).in_(
        [saving.reply_key(submission.id, stage) for stage in ("", "held", "confirm", "kept")]))  # type: ignore[arg-type]
        .order_by(col(OutboxMessage.id).desc())).first()
    return IntakeResult("duplicate", submission.id, reply.body_text if reply else "", submission.contract_id,
                        submission.period_id, submission.version, submission.on_time, findings,
                        duplicate_of=submission.id)
