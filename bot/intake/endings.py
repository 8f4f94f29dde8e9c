"""How a submission ends when no new version is saved: refused, quarantined, held with a question, a copy of the
version in force, from an unknown sender, or failed. Each ending is one short transaction that records it, queues
its reply and writes its audit row, retried while the database is busy."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot import config
from bot.assessment.submission_kpis import local_date
from bot.intake import replies, saving
from bot.intake.received import IntakeResult, Received
from bot.intake.records import Sender, by_key, mine, replay, stored_findings
from bot.settings.redaction import redact
from bot.storage.audit import record
from bot.storage.db import insert_ignore, retrying, write_session
from bot.storage.files import FileStore
from bot.storage.models import AuditEvent, Contract, Obligation, StoredFile, Submission
from kpi_core.calendar import Period
from kpi_core.findings import Finding

PERSONAL_DATA = "personal_data"
WITHHELD = "(name withheld: the file was refused as possible personal data)"


class Endings:
    def __init__(self, engine: sa.Engine, settings: config.Settings, files: FileStore,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.engine = engine
        self.settings = settings
        self.files = files
        self.sleep = sleep

    def reject(self, submission_id: int, sender: Sender, received: Received, contract: Contract | None,
                period: Period | None, findings: list[Finding]) -> IntakeResult:
        findings = findings[:saving.MAX_FINDINGS_STORED]

        def write() -> IntakeResult:
            with write_session(self.engine) as session:
                submission = mine(session, submission_id)
                submission.status = "rejected"
                submission.contract_id = contract.id if contract else None
                submission.period_id = period.id if period else None
                submission.obligation_id = None  # refused before it could count against any return
                submission.error_count = sum(f.is_error for f in findings)
                submission.reason = "; ".join(f.message for f in findings)[:2000]
                submission.processed_at = received.received_at
                saving.save_findings(session, submission_id, findings)
                text = replies.refusal(received.filename, findings)
                saving.queue_reply(session, submission_id, sender.id, received, text,
                                   f"Return not accepted: {received.filename}")
                record(session, received.received_at, sender.email, "submission_rejected",
                       f"submission:{submission_id}", {"findings": [f.code for f in findings]})
                session.commit()
                return IntakeResult("rejected", submission_id, text, submission.contract_id, submission.period_id,
                                    findings=tuple(findings), reply_to=saving.reply_to(received))
        return retrying(write, sleep=self.sleep)

    def quarantine(self, submission_id: int, sender: Sender, received: Received,
                    findings: list[Finding]) -> IntakeResult:
        """Refuse a file that may hold personal data: keep it restricted until it is purged, echo nothing of it,
        not even its name (a file name can hold a patient's name or NHS number), and have the chat message that
        carried it deleted (an email is deleted from the mailbox by the email channel)."""
        refusal = [f for f in findings if f.code == PERSONAL_DATA]
        purge = received.received_at + timedelta(days=self.settings.intake.quarantine_days)
        text = replies.refusal("Your file", refusal)

        def write() -> IntakeResult:
            with write_session(self.engine) as session:
                submission = mine(session, submission_id)
                submission.status = "quarantined"
                submission.filename = WITHHELD
                submission.caption = ""
                submission.error_count = len(refusal)
                submission.reason = "refused: may hold personal data (file restricted, purged after "\
                                    f"{purge:%d %B %Y})"
                submission.processed_at = received.received_at
                stored = session.get(StoredFile, submission.sha256)
                if stored is not None:
                    stored.restricted = True
                    stored.purge_after = purge
                for event in session.exec(select(AuditEvent).where(
                        AuditEvent.subject == f"submission:{submission_id}")):
                    event.detail = {**event.detail, "filename": WITHHELD}
                saving.save_findings(session, submission_id, refusal)
                saving.queue_reply(session, submission_id, sender.id, received, text, "Return not accepted")
                saving.queue_removal(session, submission_id, sender.id, received)  # not kept in the chat
                record(session, received.received_at, sender.email, "submission_quarantined",
                       f"submission:{submission_id}", {"purge_after": purge.isoformat()})
                session.commit()
                return IntakeResult("quarantined", submission_id, text, findings=tuple(refusal),
                                    reply_to=saving.reply_to(received))
        return retrying(write, sleep=self.sleep)

    def hold(self, submission_id: int, sender: Sender, received: Received, question: str,
             contract_id: str | None = None) -> IntakeResult:
        """Keep the file until the sender says which return it is (`contract_id`: the contract, when known)."""
        def write() -> IntakeResult:
            with write_session(self.engine) as session:
                submission = mine(session, submission_id)
                submission.status = "held"
                submission.reason = question
                submission.processed_at = received.received_at
                saving.queue_reply(session, submission_id, sender.id, received, question, "Which return is this?",
                                   stage="held")
                record(session, received.received_at, sender.email, "submission_held",
                       f"submission:{submission_id}", {"question": question})
                session.commit()
                return IntakeResult("held", submission_id, question, contract_id,
                                    reply_to=saving.reply_to(received))
        return retrying(write, sleep=self.sleep)

    def ask_undo(self, submission_id: int, sender: Sender, received: Received, contract: Contract,
                 obligation: Obligation, question: str) -> IntakeResult:
        """Hold a file that would undo corrections until the sender says whether to use it (a chat's buttons:
        `Intake.confirm`). It counts for nothing meanwhile."""
        def write() -> IntakeResult:
            with write_session(self.engine) as session:
                submission = mine(session, submission_id)
                submission.status, submission.reason = "confirming", question[:2000]
                submission.contract_id, submission.period_id = contract.id, obligation.period_id
                submission.obligation_id = None
                submission.processed_at = received.received_at
                submission.lease_owner = submission.lease_until = None
                saving.queue_reply(session, submission_id, sender.id, received, question, "Use these figures?",
                                   stage="confirm")
                record(session, received.received_at, sender.email, "submission_confirming",
                       f"submission:{submission_id}", {"contract": contract.id, "period": obligation.period_id})
                session.commit()
                return IntakeResult("confirm", submission_id, question, contract.id, obligation.period_id,
                                    reply_to=saving.reply_to(received))
        return retrying(write, sleep=self.sleep)

    def keep(self, submission_id: int, actor: str, now: datetime) -> IntakeResult | None:
        """The sender chose to keep the version in force: the held file ends as withdrawn, and nothing changes.
        None when it is no longer waiting for that answer."""
        def write() -> IntakeResult | None:
            with write_session(self.engine) as session:
                submission = session.get(Submission, submission_id)
                if submission is None or submission.status != "confirming":
                    return None
                in_force = session.exec(select(Submission.version).where(
                    Submission.contract_id == submission.contract_id, Submission.period_id == submission.period_id,
                    Submission.status == "accepted")).first()
                text = (f"Kept version {in_force} as it is: {submission.filename} was not used, and nothing has "
                        "changed." if in_force else f"{submission.filename} was not used; nothing has changed.")
                submission.status, submission.reason = "withdrawn", "the sender kept the version in force"
                saving.queue_reply(session, submission_id, submission.sender_contact_id, self._again(submission),
                                   text, f"Not used: {submission.filename}", stage="kept")
                record(session, now, actor, "submission_withdrawn", f"submission:{submission_id}",
                       {"kept_version": in_force})
                session.commit()
                return IntakeResult("duplicate", submission_id, text, submission.contract_id, submission.period_id,
                                    in_force)
        return retrying(write, sleep=self.sleep)

    @staticmethod
    def _again(submission: Submission) -> Received:
        """What a reply to a stored submission needs of its arrival (channel, sender, thread): queued as of its
        arrival, as every reply to it is (`Intake.answer` resumes a held file the same way)."""
        return Received(channel=submission.channel, message_id=submission.channel_message_id,  # type: ignore[arg-type]
                        sender=submission.sender_address, filename=submission.filename, data=b"",
                        received_at=submission.received_at, caption=submission.caption)

    def duplicate(self, submission_id: int, sender: Sender, received: Received, contract: Contract,
                   obligation: Obligation, same: Submission) -> IntakeResult:
        def write() -> IntakeResult:
            with write_session(self.engine) as session:
                return self.write_duplicate(session, mine(session, submission_id), sender.id, sender.email,
                                             received, contract.id, obligation.period_id, same)
        return retrying(write, sleep=self.sleep)

    def write_duplicate(self, session: Session, submission: Submission, contact_id: int, actor: str,
                         received: Received, contract_id: str, period_id: str, same: Submission) -> IntakeResult:
        """Record `submission` as a copy of the version `same` (one submission: the copy counts for nothing)."""
        when = local_date(same.received_at, self.settings.timezone)
        text = replies.already_received(received.filename, same.version or 0, f"{when:%d %B %Y}")
        submission.status, submission.duplicate_of_id, submission.obligation_id = "duplicate", same.id, None
        submission.processed_at = received.received_at
        submission.reason = f"identical to version {same.version} (submission {same.id})"
        submission.lease_owner = submission.lease_until = None
        saving.queue_reply(session, submission.id, contact_id, received, text, f"Already received: {received.filename}")
        record(session, received.received_at, actor, "submission_duplicate", f"submission:{submission.id}",
               {"same_as": same.id, "version": same.version})
        session.commit()
        return IntakeResult("duplicate", submission.id, text, contract_id, period_id, same.version, same.on_time,
                            stored_findings(session, same.id), duplicate_of=same.id, reply_to=saving.reply_to(received))

    def write_overtaken(self, session: Session, submission: Submission, job: saving.Save,
                        newer: Submission) -> IntakeResult:
        """Record `submission` as not applied: a return received after it was saved first (`newer`), so saving it
        now would put older figures in force. Its sender is told, with the version in force."""
        zone, received = self.settings.timezone, job.received
        when = lambda at: f"{at.astimezone(ZoneInfo(zone)):%d %B %Y %H:%M}"  # noqa: E731
        standing = saving.in_force(session, job.obligation.id)
        period = job.assessed.assessment.period
        text = replies.overtaken(received.filename, when(received.received_at),
                                 f"{job.contract.name}, {period.label}", when(newer.received_at), newer.version or 0,
                                 (standing.version or 0, when(standing.received_at)) if standing else None)
        submission.status, submission.obligation_id = "overtaken", None  # it counts for nothing
        submission.contract_id, submission.period_id = job.contract.id, job.obligation.period_id
        submission.processed_at = received.received_at
        submission.reason = f"not applied: version {newer.version} (submission {newer.id}) was received after it"
        submission.lease_owner = submission.lease_until = None
        saving.queue_reply(session, submission.id, job.contact_id, received, text,
                           f"Return not applied: {received.filename}")
        record(session, received.received_at, job.actor, "submission_overtaken", f"submission:{submission.id}",
               {"newer": newer.id, "newer_version": newer.version, "in_force": standing.id if standing else None})
        session.commit()
        return IntakeResult("overtaken", submission.id, text, job.contract.id, job.obligation.period_id,
                            on_time=job.on_time, reply_to=saving.reply_to(received))

    def unknown_sender(self, received: Received) -> IntakeResult:
        """Keep the file (restricted, purged in time, within a bound on how many are kept) and a record, so
        nothing is lost; tell a chat how to get registered, but never answer an unknown email address."""
        text = replies.unknown_sender(received.channel, received.sender)
        intake = self.settings.intake

        def write() -> IntakeResult:
            with write_session(self.engine) as session:
                held = session.exec(select(func.count()).select_from(StoredFile).where(
                    StoredFile.restricted == True, col(StoredFile.purged_at).is_(None))).one()  # noqa: E712
                keep = held < intake.unknown_sender_max_files and len(received.data) <= intake.max_upload_bytes
                digest = self.files.put(received.data) if keep else None
                if digest is not None:
                    insert_ignore(session, StoredFile, dict(
                        sha256=digest, size=len(received.data), first_seen_at=received.received_at, restricted=True,
                        purge_after=received.received_at + timedelta(days=intake.quarantine_days)))
                submission = Submission(
                    idempotency_key=received.key, channel=received.channel, channel_message_id=received.message_id,
                    sender_address=received.sender, received_at=received.received_at, filename=received.filename,
                    sha256=digest, size=len(received.data), status="rejected", processed_at=received.received_at,
                    caption=received.caption, reason="unknown sender" if keep else
                    "unknown sender (file not kept: too many files from unknown senders are held)")
                session.add(submission)
                session.flush()
                assert submission.id is not None
                if received.channel != "email":  # no replies to unknown mail senders: that would be backscatter
                    saving.queue_reply(session, submission.id, None, received, text, "Not registered")
                record(session, received.received_at, received.sender, "submission_unknown_sender",
                       f"submission:{submission.id}", {"channel": received.channel, "filename": received.filename,
                                                       "kept": keep})
                session.commit()
                return IntakeResult("unknown_sender", submission.id, text)
        try:
            return retrying(write, sleep=self.sleep)
        except sa.exc.IntegrityError:  # another process recorded this message first
            with Session(self.engine) as session:
                earlier = by_key(session, received.key)
                assert earlier is not None
                return replay(session, earlier)

    def fail(self, submission_id: int, received: Received, exc: Exception) -> IntakeResult:
        text = replies.failure(received.filename)

        def write() -> IntakeResult:
            with write_session(self.engine) as session:
                submission = session.get(Submission, submission_id)
                assert submission is not None
                if submission.status != "received":  # finished by another process meanwhile
                    return replay(session, submission)
                submission.status = "failed"
                submission.obligation_id = None
                submission.reason = redact(f"{type(exc).__name__}: {exc}")[:2000]
                submission.processed_at = received.received_at
                saving.queue_reply(session, submission_id, submission.sender_contact_id, received, text,
                                   f"Return received: {received.filename}")
                record(session, received.received_at, "system", "submission_failed", f"submission:{submission_id}",
                       {"error": submission.reason})
                session.commit()
                return IntakeResult("failed", submission_id, text, reply_to=saving.reply_to(received))
        return retrying(write, sleep=self.sleep)
