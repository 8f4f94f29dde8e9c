"""The intake's own records, read back: a submission by its channel key, one still leased to this process, the
findings stored for it, the outcome an earlier submission already had (a replay answers a resend with it), what a
channel handed in rebuilt from the record, and the contact a sender is; the return a submission is pinned to
while it is processed, and whether its bytes are the latest version's."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from bot import config
from bot.assessment.in_context import prefetch_for, terms_of
from bot.assessment.plain_store import PlainStore
from bot.assessment.submission_kpis import local_date
from bot.authz.policy import visible_contracts
from bot.intake import saving
from bot.intake.received import IntakeResult, Received
from bot.intake.resolve import no_obligation, return_type_owed
from bot.intake.saving import Lost
from bot.processes import leases
from bot.storage.db import table_of, write_session
from bot.storage.files import FileStore
from bot.storage.history_read import Owed
from bot.storage.models import (
    Contact,
    Contract,
    FindingRow,
    Obligation,
    OutboxMessage,
    Submission,
    one_of,
)
from bot.storage.review_models import Review
from bot.storage.sync import ensure_obligations, obligations_missing
from kpi_core.calendar import Period
from kpi_core.findings import SEVERITIES, Finding
from kpi_core.terms import ContractTerms


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


class JustRecorded:
    """Submissions this process recorded and will process next, as written (submission and sender, detached):
    processing one need not read them again. A few are kept; processing takes its own out."""

    KEPT = 64

    def __init__(self) -> None:
        self._kept: dict[int, tuple[Submission, Contact]] = {}
        self._lock = threading.Lock()  # channels record from several threads

    def put(self, submission: Submission, contact: Contact) -> None:
        assert submission.id is not None
        with self._lock:
            self._kept[submission.id] = (submission, contact)
            while len(self._kept) > self.KEPT:
                del self._kept[next(iter(self._kept))]

    def take(self, submission_id: int) -> tuple[Submission, Contact] | None:
        with self._lock:
            return self._kept.pop(submission_id, None)


def recorded_key(session: Session, key: str) -> bool:
    """Is a submission recorded for the channel key `key` (one plain statement)?"""
    table = table_of(Submission)
    return session.execute(sa.select(table.c.id).where(table.c.idempotency_key == key)).first() is not None


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


def contact_of(session: Session, received: Received) -> Contact | None:
    """The active contact who sent `received` (by chat id on Telegram, else by address), or None."""
    if received.channel == "telegram":
        try:
            chat_id = int(received.sender)
        except ValueError:
            return None
        query = select(Contact).where(Contact.telegram_chat_id == chat_id)
    else:
        query = select(Contact).where(Contact.email == received.sender)
    return session.exec(query.where(Contact.active == True)).first()  # noqa: E712


def owed_and_saved(session: Session, store: PlainStore, submission_id: int, contract: Contract, period: Period,
                   received_at: datetime, zone: str,
                   terms: ContractTerms) -> tuple[Obligation, str | None, saving.Versions, Review | None]:
    """The return `contract` owes for `period` (else Rejected, as resolve.owed_return), the file's digest, the
    return's saved versions and its review (None when it has none), read in the judging read (nothing is written
    before the save), in the statement that reads the history the return is judged on (`store`'s, asked for the
    return with `owed`, on `session`'s connection): whether these bytes are the latest's is checked with them, and
    again under the lock when saving. Lost when the submission is no longer this process's. Until it is saved, a
    later-received submission of any return waits for it (`saving.under_lock`), so versions follow the order of
    receipt. The obligation and review join `session` as if it had read them."""
    return_type = return_type_owed(contract, period, local_date(received_at, zone))
    store.owed = Owed(submission_id, return_type, period.id)
    prefetch_for(store, contract, period, received_at, zone, terms)
    found = store.owed_read()
    if found is None or found.obligation is None:
        raise no_obligation(contract, return_type, period)
    digest: str | None = None
    rows = []
    mine = False
    for i, v, h, s, owner in found.saved:
        if i == submission_id:
            digest, mine = h, s == "received" and owner == leases.me()
        else:
            assert v is not None  # a saved version's
            rows.append((i, v, h, s))
    if not mine:
        raise Lost(submission_id)
    # As the session had read them (so what reads them next by id finds them there): clean, and detached with it.
    obligation = Obligation(**found.obligation)
    make_transient_to_detached(obligation)
    session.add(obligation)
    review = None
    if found.review is not None:
        review = Review(**found.review)
        make_transient_to_detached(review)
        session.add(review)
    return obligation, digest, saving.Versions(rows), review


def copy_of(engine: sa.Engine, submission_id: int) -> Submission:
    """A submission, detached (what a copy of it is told)."""
    with Session(engine) as session:
        found = session.get(Submission, submission_id)
        assert found is not None
        session.expunge(found)
        return found


def ensure_sender_obligations(engine: sa.Engine, settings: config.Settings, contact: Contact,
                              today: date) -> list[Contract]:
    """Create the obligations of the sender's contracts that have begun, in a short transaction of its own (read
    first: as a rule every one exists already, and nothing is written or committed). Return the contracts
    `contact` may see (`visible_contracts`, detached), as read here: the return's identification need not read
    them again."""
    with Session(engine) as session, session.no_autoflush:  # a due date changed is noticed, never written here
        allowed = visible_contracts(session, contact)
        for contract in allowed:
            if obligations_missing(session, contract, today, terms_of(settings, contract).returns) or session.dirty:
                break
        else:
            return allowed
    with write_session(engine, expire_on_commit=False) as session:
        allowed = visible_contracts(session, contact)
        for contract in allowed:
            ensure_obligations(session, contract, today, terms_of(settings, contract).returns)
        session.commit()
        return allowed
