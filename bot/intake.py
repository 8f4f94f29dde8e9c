"""The one intake: every channel hands a received file to `Intake.submit`, and every decision is made here.

1. Deduplicate: the same channel message (and attachment) is processed once; a replay returns the first outcome.
2. Identify the sender and the contracts they may submit for.
3. Store the raw file (content-addressed) and record the submission, committed before anything parses it.
4. Read, work out contract and period (explicit, cover sheet, caption/subject, single open return, else ask),
   validate and score.
5. Persist values, results, findings, the new version (superseding the old) and the reply in one transaction.
A failure after step 3 rolls back step 5 and marks the submission failed: the raw file and the record stay.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlmodel import Session, func, select

from bot import config, replies
from bot.assessing import assess_in_context
from bot.storage.audit import record
from bot.storage.files import FileStore
from bot.resolve import Held, Rejected, identify
from bot.reports import ReturnMeta, build_return_report, trends_from_history
from bot.storage.models import (
    Contact,
    Contract,
    FindingRow,
    Obligation,
    Organisation,
    OutboxMessage,
    RenderedReport,
    StoredFile,
    Submission,
)
from bot.storage.queries import obligation_for
from bot.storage.results import save_findings, save_results, save_values
from bot.storage.sync import ensure_obligations
from bot.submission_kpis import local_date
from kpi_core import loader
from kpi_core.assess import Assessment, ReturnTypeError, return_type_for
from kpi_core.calendar import Period
from kpi_core.findings import Finding
from kpi_core.returns.model import ParsedReturn
from kpi_core.returns.reader import read_return

log = logging.getLogger(__name__)

Outcome = Literal["accepted", "rejected", "failed", "held", "unknown_sender", "duplicate"]
CHANNEL_REPLY = {"cli": "local", "email": "email", "telegram": "telegram"}


@dataclass(frozen=True)
class Received:
    """A file as a channel received it."""

    channel: Literal["cli", "email", "telegram"]
    message_id: str
    sender: str  # an email address, or a Telegram chat id as text
    filename: str
    data: bytes
    received_at: datetime  # timezone-aware
    caption: str = ""  # message caption or email subject: may name the contract and period
    contract_id: str | None = None  # explicit (command line)
    period_id: str | None = None
    part: int = 0  # attachment number within the message

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.message_id}:{self.part}"


@dataclass(frozen=True)
class IntakeResult:
    outcome: Outcome
    submission_id: int | None
    reply: str
    contract_id: str | None = None
    period_id: str | None = None
    version: int | None = None
    on_time: bool | None = None
    findings: tuple[Finding, ...] = field(default=())
    assessment: Assessment | None = None


Reader = Callable[[bytes, str], ParsedReturn]


class Intake:
    def __init__(self, engine: sa.Engine, settings: config.Settings, files: FileStore,
                 reader: Reader | None = None) -> None:
        """`reader` reads a file into a ParsedReturn; services pass an IsolatedReader (a capped worker process),
        the default reads in this process with the configured limits."""
        self.engine = engine
        self.settings = settings
        self.files = files
        limits = config.read_limits(settings)
        self.read = reader or (lambda data, filename: read_return(data, filename, limits=limits))

    # -- the one entry point -------------------------------------------------------------------------------

    def submit(self, received: Received) -> IntakeResult:
        """Process a received file end to end; never raises for bad input."""
        with Session(self.engine) as session:
            earlier = session.exec(select(Submission).where(Submission.idempotency_key == received.key)).first()
            if earlier is not None:
                return self._replay(session, earlier)
            contact = self._sender(session, received)
            if contact is None:
                return self._unknown_sender(session, received)
            submission = self._record_receipt(session, received, contact)
            if submission is None:  # lost a race with another process handling the same message
                return self.submit(received)
            submission_id = submission.id
        assert submission_id is not None
        try:
            return self._process(submission_id, received)
        except Exception as exc:  # noqa: BLE001 - any failure must leave a clear record, never half a result
            log.exception("processing submission %s failed", submission_id)
            return self._fail(submission_id, received, exc)

    # -- steps -----------------------------------------------------------------------------------------------

    def _sender(self, session: Session, received: Received) -> Contact | None:
        if received.channel == "telegram":
            try:
                chat_id = int(received.sender)
            except ValueError:
                return None
            query = select(Contact).where(Contact.telegram_chat_id == chat_id)
        else:
            query = select(Contact).where(Contact.email == received.sender.strip().lower())
        contact = session.exec(query.where(Contact.active == True)).first()  # noqa: E712
        return contact

    def _store(self, session: Session, received: Received) -> str | None:
        """Store the raw file unless it is over the size limit; return its sha256."""
        if len(received.data) > self.settings.intake.max_upload_bytes:
            return None
        digest = self.files.put(received.data)
        if session.get(StoredFile, digest) is None:
            session.add(StoredFile(sha256=digest, size=len(received.data), first_seen_at=received.received_at))
            session.flush()
        return digest

    def _record_receipt(self, session: Session, received: Received, contact: Contact) -> Submission | None:
        digest = self._store(session, received)
        submission = Submission(
            idempotency_key=received.key, channel=received.channel, channel_message_id=received.message_id,
            sender_address=received.sender, sender_contact_id=contact.id, received_at=received.received_at,
            filename=received.filename[:255], sha256=digest, size=len(received.data))
        session.add(submission)
        try:
            session.flush()
        except sa.exc.IntegrityError:
            session.rollback()
            return None
        record(session, received.received_at, contact.email, "submission_received", f"submission:{submission.id}",
               {"channel": received.channel, "filename": received.filename, "sha256": digest,
                "size": len(received.data)})
        session.commit()
        session.refresh(submission)
        return submission

    def _process(self, submission_id: int, received: Received) -> IntakeResult:
        with Session(self.engine) as session:
            submission = session.get(Submission, submission_id)
            assert submission is not None and submission.sender_contact_id is not None
            contact = session.get(Contact, submission.sender_contact_id)
            assert contact is not None
            if submission.sha256 is None:
                limit = self.settings.intake.max_upload_bytes
                return self._reject(session, submission, contact, received, None, None, [Finding(
                    "error", "file_too_large", f"{received.filename} is {len(received.data):,} bytes; the limit is "
                    f"{limit:,} bytes", fix="Send the return workbook on its own, without embedded pictures.")])
            parsed = self.read(received.data, received.filename)
            try:
                contract, period = identify(session, contact, received, parsed.cover, self.settings.timezone)
            except Held as held:
                return self._hold(session, submission, contact, received, str(held))
            except Rejected as rejected:
                return self._reject(session, submission, contact, received, None, None, list(rejected.findings))
            framework = loader.get(contract.framework_id)
            try:
                return_type = return_type_for(framework, period)
            except ReturnTypeError as exc:
                return self._reject(session, submission, contact, received, contract, period,
                                    [Finding("error", "no_such_return", str(exc))])
            ensure_obligations(session, contract, period.end)
            obligation = obligation_for(session, contract.id, return_type, period.id)
            if obligation is None:
                return self._reject(session, submission, contact, received, contract, period, [Finding(
                    "error", "no_obligation", f"{contract.name} owes no {return_type} return for {period.label}",
                    fix=f"The contract starts on {contract.start:%d %B %Y}; check the period.")])
            assessed = assess_in_context(session, contract, period, parsed, received.received_at,
                                         self.settings.timezone)
            assessment = assessed.assessment
            today = local_date(received.received_at, self.settings.timezone)
            version = 1 + (session.exec(select(func.count()).select_from(Submission).where(
                Submission.obligation_id == obligation.id, Submission.version != None)).one() or 0)  # noqa: E711
            on_time = today <= obligation.due_date
            meta = ReturnMeta(contract.id, contract.name, self._provider_name(session, contract), received.received_at,
                              version, on_time, obligation.due_date, received.filename)
            reply = replies.assessed(received.channel, build_return_report(
                assessment, meta, trends_from_history(assessment, assessed.history), timezone=self.settings.timezone),
                self.settings.reports.attach_pdf)
            return self._save(session, submission, contact, received, contract, obligation, assessment, version,
                              on_time, reply)

    @staticmethod
    def _provider_name(session: Session, contract: Contract) -> str:
        provider = session.get(Organisation, contract.provider_id)
        return provider.name if provider else contract.provider_id

    def _store_report(self, session: Session, submission: Submission, reply: replies.Reply) -> str | None:
        """Keep the PDF like any other file, and record it as the submission's report."""
        if reply.attachment is None:
            return None
        digest = self.files.put(reply.attachment)
        if session.get(StoredFile, digest) is None:
            session.add(StoredFile(sha256=digest, size=len(reply.attachment), first_seen_at=submission.received_at))
            session.flush()
        session.add(RenderedReport(kind="return", contract_id=submission.contract_id, period_id=submission.period_id,
                                   submission_id=submission.id, sha256=digest, created_at=submission.received_at))
        return digest

    def _save(self, session: Session, submission: Submission, contact: Contact, received: Received,
              contract: Contract, obligation: Obligation, assessment: Assessment, version: int, on_time: bool,
              reply: replies.Reply) -> IntakeResult:
        now = received.received_at
        submission.contract_id, submission.obligation_id = contract.id, obligation.id
        submission.period_id, submission.version = obligation.period_id, version
        submission.on_time = on_time
        submission.error_count, submission.warning_count = len(assessment.errors), len(assessment.warnings)
        submission.processed_at = now
        superseded = None
        if assessment.accepted:
            superseded = session.exec(select(Submission).where(Submission.obligation_id == obligation.id,
                                                               Submission.status == "accepted")).first()
            if superseded is not None:
                superseded.status = "superseded"
                superseded.superseded_by_id = submission.id
            submission.status = "accepted"
            if obligation.first_accepted_at is None:
                obligation.first_accepted_at = now
            save_values(session, submission, assessment)
            save_results(session, submission, assessment)
        else:
            submission.status = "rejected"
            submission.reason = f"{len(assessment.errors)} error(s) in the return"
        save_findings(session, submission, assessment.findings)
        message = self._queue_reply(session, submission, contact, received, reply.text, reply.subject)
        message.attachment_sha256 = self._store_report(session, submission, reply)
        message.attachment_name = reply.attachment_name if message.attachment_sha256 else None
        record(session, now, contact.email, f"submission_{submission.status}", f"submission:{submission.id}",
               {"contract": contract.id, "period": obligation.period_id, "version": version,
                "errors": submission.error_count, "warnings": submission.warning_count,
                "superseded": superseded.id if superseded else None})
        session.commit()
        return IntakeResult(submission.status, submission.id, reply.text, contract.id,  # type: ignore[arg-type]
                            obligation.period_id, version, submission.on_time, assessment.findings, assessment)

    def _queue_reply(self, session: Session, submission: Submission, contact: Contact | None, received: Received,
                     text: str, subject: str) -> OutboxMessage:
        message = OutboxMessage(
            dedupe_key=f"reply:submission:{submission.id}", created_at=received.received_at,
            contact_id=contact.id if contact else None, channel=CHANNEL_REPLY[received.channel],
            address=received.sender, kind="reply", subject=subject[:300], body_text=text,
            next_attempt_at=received.received_at)
        session.add(message)
        return message

    def _reject(self, session: Session, submission: Submission, contact: Contact, received: Received,
                contract: Contract | None, period: Period | None, findings: list[Finding]) -> IntakeResult:
        submission.status = "rejected"
        submission.contract_id = contract.id if contract else None
        submission.period_id = period.id if period else None
        submission.error_count = sum(f.is_error for f in findings)
        submission.reason = "; ".join(f.message for f in findings)[:2000]
        submission.processed_at = received.received_at
        save_findings(session, submission, findings)
        text = replies.refusal(received.filename, findings)
        self._queue_reply(session, submission, contact, received, text, f"Return not accepted: {received.filename}")
        record(session, received.received_at, contact.email, "submission_rejected", f"submission:{submission.id}",
               {"findings": [f.code for f in findings]})
        session.commit()
        return IntakeResult("rejected", submission.id, text, submission.contract_id, submission.period_id,
                            findings=tuple(findings))

    def _hold(self, session: Session, submission: Submission, contact: Contact, received: Received,
              question: str) -> IntakeResult:
        submission.status = "held"
        submission.reason = question
        submission.processed_at = received.received_at
        self._queue_reply(session, submission, contact, received, question, "Which return is this?")
        record(session, received.received_at, contact.email, "submission_held", f"submission:{submission.id}",
               {"question": question})
        session.commit()
        return IntakeResult("held", submission.id, question)

    def _unknown_sender(self, session: Session, received: Received) -> IntakeResult:
        """Keep the file and a record, so nothing is lost; tell the sender how to get registered."""
        digest = self._store(session, received)
        submission = Submission(
            idempotency_key=received.key, channel=received.channel, channel_message_id=received.message_id,
            sender_address=received.sender, received_at=received.received_at, filename=received.filename[:255],
            sha256=digest, size=len(received.data), status="rejected", processed_at=received.received_at,
            reason="unknown sender")
        session.add(submission)
        try:
            session.flush()
        except sa.exc.IntegrityError:  # another process recorded this message first
            session.rollback()
            return self.submit(received)
        text = replies.unknown_sender(received.channel, received.sender)
        if received.channel != "email":  # no replies to unknown mail senders: that would be backscatter spam
            self._queue_reply(session, submission, None, received, text, "Not registered")
        record(session, received.received_at, received.sender, "submission_unknown_sender",
               f"submission:{submission.id}", {"channel": received.channel, "filename": received.filename})
        session.commit()
        return IntakeResult("unknown_sender", submission.id, text)

    def _fail(self, submission_id: int, received: Received, exc: Exception) -> IntakeResult:
        with Session(self.engine) as session:
            submission = session.get(Submission, submission_id)
            assert submission is not None
            submission.status = "failed"
            submission.reason = f"{type(exc).__name__}: {exc}"[:2000]
            submission.processed_at = received.received_at
            contact = session.get(Contact, submission.sender_contact_id) if submission.sender_contact_id else None
            text = replies.failure(received.filename)
            self._queue_reply(session, submission, contact, received, text, f"Return received: {received.filename}")
            record(session, received.received_at, "system", "submission_failed", f"submission:{submission_id}",
                   {"error": submission.reason})
            session.commit()
        return IntakeResult("failed", submission_id, text)

    def _replay(self, session: Session, submission: Submission) -> IntakeResult:
        findings = tuple(Finding(r.severity, r.code, r.message, r.location, r.fix, r.item)  # type: ignore[arg-type]
                         for r in session.exec(select(FindingRow).where(FindingRow.submission_id == submission.id)))
        reply = session.exec(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"reply:submission:{submission.id}")).first()
        return IntakeResult("duplicate", submission.id, reply.body_text if reply else "", submission.contract_id,
                            submission.period_id, submission.version, submission.on_time, findings)

