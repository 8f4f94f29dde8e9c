"""The one intake: every channel hands a received file to `Intake.submit`, and every decision is made here.

1. Receive: clean the channel's strings; the same channel message (and attachment) is processed once, and a
   replay returns the first outcome. Identify the sender. Store the raw file (content-addressed) and record the
   submission, leased to this process, committed before anything parses it.
2. Read the file (in a worker process in the service) with no transaction open. A file that looks like personal
   data is quarantined; one that is not a return at all is refused before kpibot asks which contract it is for.
3. Work out contract and period (explicit, cover sheet, caption/subject, single open return, else ask), and spot
   a file identical to the version already in force.
4. Validate and score, reading the accepted history (steps 3 and 4 are one read transaction; nothing is written).
5. Save under the obligation's lock, after any earlier-received submission that may be of the same return (waited
   for while its process lives, at most 30 s): the submission pinned to its return, the next version (unique, in
   order of receipt), superseding the old, values, results, findings, the reply and the PDF to draw, in one short
   transaction. A submission finishing after one received later was saved (it was resumed after a crash, or was
   slower than the wait) is not applied: versions follow the order of receipt (the submission's id), never the
   order of saving, and its sender is told which version is in force.
A fault after step 1 marks the submission failed and rolls the rest back; the raw file and the record stay. A
process killed after step 1 leaves the submission `received`: the next process to look (a resend of the same
message, `kpibot init`, the running service) resumes it, so it is answered once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.assessment.in_context import assess_in_context, organisation_name, terms_of
from bot.assessment.plain_store import PlainStore
from bot.assessment.submission_kpis import local_date
from bot.clock import utc_now
from bot.intake import plan_files, replies, saving, undoing
from bot.intake.endings import Endings
from bot.intake.fetching import Fetcher, Fetching
from bot.intake.received import IntakeResult, Received, normalised
from bot.intake.records import (
    JustRecorded,
    Lost,
    Sender,
    by_key,
    contact_of,
    copy_of,
    ensure_sender_obligations,
    mine,
    owed_and_saved,
    received_again,
    recorded_key,
    replay,
    waiting_for_file,
)
from bot.intake.resolve import Held, Rejected, identify
from bot.processes import leases
from bot.reports.context import ReturnMeta
from bot.review import hooks as review
from bot.settings.redaction import redact
from bot.storage.audit import event_row, record_all
from bot.storage.db import insert_ignore, is_transient, retrying, write_session
from bot.storage.files import FileStore
from bot.storage.models import Contact, StoredFile, Submission
from bot.storage.plain_reads import PlainReader
from kpi_core.findings import Finding
from kpi_core.returns.model import ParsedReturn
from kpi_core.returns.reader import read_return

log = logging.getLogger(__name__)

Reader = Callable[[bytes, str], ParsedReturn]
LEASE_SECONDS = 300.0  # longer than the slowest read (30 s) and save; a killed process's lease is taken at once
WAIT_FOR_EARLIER = timedelta(seconds=30)  # the most a version waits for an earlier-received one of its return


class Unavailable(RuntimeError):
    """The database cannot be reached: nothing was recorded, and the channel should try again later."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))  # a driver's error may quote the database URL


class Intake:
    def __init__(self, engine: sa.Engine, settings: config.Settings, files: FileStore,
                 reader: Reader | None = None, clock: Callable[[], datetime] = utc_now,
                 sleep: Callable[[float], None] = time.sleep, fetchers: Mapping[str, Fetcher] | None = None) -> None:
        """`reader` reads a file into a ParsedReturn; services pass an IsolatedReader (a capped worker process),
        the default reads in this process with the configured limits. `clock` is read only for leases and for how
        long a file is waited for. `fetchers` fetch the files of submissions recorded before their file came, by
        channel (Telegram's downloads a document by its file id)."""
        self.engine = engine
        self.settings = settings
        self.files = files
        self.clock = clock
        self.sleep = sleep
        self.fetchers: dict[str, Fetcher] = dict(fetchers or {})
        self.fetching = Fetching(engine, settings, files, self.fetchers, clock, sleep)
        self._ensured: set[tuple[int, date]] = set()  # obligations are never deleted: once a day per sender is enough
        self._recorded = JustRecorded()
        limits = config.read_limits(settings)
        self.endings = Endings(engine, settings, files, sleep)
        self.read = reader or (lambda data, filename: read_return(data, filename, limits=limits))

    # -- the entry points ------------------------------------------------------------------------------------

    def submit(self, received: Received) -> IntakeResult:
        """Process a received file end to end; never raises for bad input. Raises Unavailable when the database
        cannot be reached, having recorded nothing."""
        received = normalised(received)
        step = self.record(received)
        if isinstance(step, IntakeResult):
            return step
        return self.process(step, received)  # as handed in: e.g. an email's References, kept for the reply

    def process(self, submission_id: int, received: Received) -> IntakeResult:
        """Steps 2-5 for a submission `record` just recorded for `received` (what the channel handed in)."""
        return self._process_guarded(submission_id, normalised(received))

    def record(self, received: Received) -> IntakeResult | int:
        """Step 1 alone: record what was received (a file, or with `source` and no data, where to fetch it) and
        commit; return the submission's id, now this process's to `proceed` with, or the outcome when there is
        nothing to do (already answered, being processed elsewhere, an unknown sender). Raises Unavailable."""
        received = normalised(received)
        try:
            return retrying(lambda: self._receive(received), sleep=self.sleep)
        except sa.exc.DBAPIError as exc:
            if is_transient(exc):
                raise Unavailable(f"the database is busy or unreachable: {str(exc.orig).strip()[:200]}") from None
            raise

    def proceed(self, submission_id: int) -> IntakeResult:
        """Steps 2-5 for a submission this process recorded or took over (fetching its file first if it came
        without one)."""
        return self._process_guarded(submission_id, self._again_from_record(submission_id))

    def resume_unfinished(self, limit: int = 100) -> list[IntakeResult]:
        """Finish every submission a stopped process left half done (its lease run out or its process gone),
        oldest first. The service calls this at start and then regularly; `kpibot init` calls it too."""
        now = self.clock()
        with Session(self.engine) as session:
            stuck = session.exec(select(Submission).where(Submission.status == "received")
                                 .order_by(col(Submission.id)).limit(limit)).all()
            candidates = [s.id for s in stuck if leases.expired(s.lease_until, s.lease_owner, now)
                          and (not waiting_for_file(s) or self.fetching.can_fetch(s.channel))]
        results = []
        for submission_id in candidates:
            assert submission_id is not None
            if not retrying(lambda: self._claim(submission_id), sleep=self.sleep):
                continue
            log.info("resuming submission %s", submission_id)  # its id only: a file name can hold personal data
            results.append(self.proceed(submission_id))
        return results

    def answer(self, submission_id: int, contract_id: str, period_id: str | None = None) -> IntakeResult:
        """Resume a held submission with the sender's answer (contract, and period when asked), without a new
        upload: the Telegram channel's inline keyboard ends here."""
        with write_session(self.engine) as session:
            updated = session.exec(
                sa.update(Submission).where(col(Submission.id) == submission_id, col(Submission.status) == "held")
                .values(status="received", requested_contract_id=contract_id, requested_period_id=period_id,
                        lease_owner=leases.me(), lease_until=leases.until(self.clock(), LEASE_SECONDS)))
            session.commit()
        if updated.rowcount != 1:
            with Session(self.engine) as session:
                submission = session.get(Submission, submission_id)
                if submission is None:
                    raise ValueError(f"no submission {submission_id}")
                return replay(session, submission)
        return self._process_guarded(submission_id, self._again_from_record(submission_id))

    def confirm(self, submission_id: int, use: bool, actor: str) -> IntakeResult:
        """The sender's answer to "these figures undo the corrections made since: use them?" (a chat's buttons):
        save them as the next version, the commissioners told, or keep the version in force. A process stopped
        before saving asks again rather than guess."""
        now = self.clock()
        kept = None if use else self.endings.keep(submission_id, actor, now)
        if use and retrying(lambda: undoing.resume(self.engine, submission_id, actor, now, LEASE_SECONDS)):
            return self._process_guarded(submission_id, self._again_from_record(submission_id), confirmed=True)
        if kept is not None:
            return kept
        with Session(self.engine) as session:  # answered already (another press, another process)
            submission = session.get(Submission, submission_id)
            if submission is None:
                raise ValueError(f"no submission {submission_id}")
            return replay(session, submission)

    # -- 1. receive ------------------------------------------------------------------------------------------

    def _receive(self, received: Received) -> IntakeResult | int:
        with Session(self.engine) as session:
            earlier = recorded_key(session, received.key)
            contact = None if earlier else contact_of(session, received)
        if earlier:
            return self._again(received)
        if contact is None:
            return self.endings.unknown_sender(received)
        sender = Sender.of(contact)
        digest = None
        later = bool(received.source) and not received.data  # recorded now, fetched by whoever processes it
        if not later and len(received.data) <= self.settings.intake.max_upload_bytes:
            digest = self.files.put(received.data)  # before the transaction: no lock held during disk writes
        now = self.clock()
        with write_session(self.engine, expire_on_commit=False) as session:
            if digest is not None:
                # The same bytes from an unknown sender were kept restricted (or purged): a registered sender's
                # copy is a return like any other, kept for good. (A file stored just now is not restricted.)
                if not insert_ignore(session, StoredFile, dict(sha256=digest, size=len(received.data),
                                                               first_seen_at=received.received_at)):
                    session.exec(sa.update(StoredFile).where(col(StoredFile.sha256) == digest,
                                                             col(StoredFile.restricted) == True)  # noqa: E712
                                 .values(restricted=False, purge_after=None, purged_at=None))
            submission = Submission(
                idempotency_key=received.key, channel=received.channel, channel_message_id=received.message_id,
                sender_address=received.sender, sender_contact_id=sender.id, received_at=received.received_at,
                filename=received.filename, sha256=digest, size=len(received.data), caption=received.caption,
                requested_contract_id=received.contract_id, requested_period_id=received.period_id,
                on_behalf=sender.on_behalf, lease_owner=leases.me(), lease_until=leases.until(now, LEASE_SECONDS),
                source_ref=received.source or None)
            session.add(submission)
            try:
                session.flush()
            except sa.exc.IntegrityError:  # the same message, recorded by another process a moment ago
                session.rollback()
                return self._again(received)
            record_all(session, [event_row(
                received.received_at, sender.email, "submission_received", f"submission:{submission.id}",
                {"channel": received.channel, "filename": received.filename, "sha256": digest,
                 "size": len(received.data), "on_behalf": sender.on_behalf})])
            assert submission.id is not None
            session.commit()
        if digest is not None:  # processed next, as a rule: what was just written need not be read again
            self._recorded.put(submission, contact)
        return submission.id

    def _again(self, received: Received) -> IntakeResult | int:
        """The same message once more: its outcome if it has one; else resume it if its processing was
        interrupted, or say it is on its way."""
        with Session(self.engine) as session:
            earlier = by_key(session, received.key)
            assert earlier is not None and earlier.id is not None
            if earlier.status != "received":
                return replay(session, earlier)
            submission_id = earlier.id
        if self._claim(submission_id):
            log.info("resuming submission %s, sent again", submission_id)
            return submission_id
        return IntakeResult("pending", submission_id, replies.still_processing(received.filename))

    def _claim(self, submission_id: int) -> bool:
        """Take over an unfinished submission whose lease has run out or whose process is gone."""
        now = self.clock()
        with write_session(self.engine) as session:
            submission = session.get(Submission, submission_id)
            if submission is None or submission.status != "received" or \
                    not leases.expired(submission.lease_until, submission.lease_owner, now):
                return False
            submission.lease_owner, submission.lease_until = leases.me(), leases.until(now, LEASE_SECONDS)
            session.commit()
            return True

    def _again_from_record(self, submission_id: int) -> Received:
        with Session(self.engine) as session:
            return received_again(session, self.files, submission_id)

    # -- 2-5. process ----------------------------------------------------------------------------------------

    def _process_guarded(self, submission_id: int, received: Received, confirmed: bool = False) -> IntakeResult:
        try:
            return self._process(submission_id, received, confirmed)
        except Lost:
            with Session(self.engine) as session:
                submission = session.get(Submission, submission_id)
                assert submission is not None
                if submission.status == "received":
                    return IntakeResult("pending", submission_id, replies.still_processing(received.filename))
                return replay(session, submission)
        except sa.exc.DBAPIError as exc:
            if is_transient(exc):  # left `received`: resumed once the database answers again
                log.warning("submission %s waits for the database: %s", submission_id, str(exc.orig)[:200])
                return IntakeResult("pending", submission_id, replies.still_processing(received.filename))
            log.exception("processing submission %s failed", submission_id)
            return self.endings.fail(submission_id, received, exc)
        except Exception as exc:  # noqa: BLE001 - any failure must leave a clear record, never half a result
            log.exception("processing submission %s failed", submission_id)
            return self.endings.fail(submission_id, received, exc)

    def _process(self, submission_id: int, received: Received, confirmed: bool = False) -> IntakeResult:
        # Recorded by this process a moment ago, as a rule: not read again (the save checks it is still ours).
        if (recorded := self._recorded.take(submission_id)) is not None:
            submission, contact = recorded
        else:
            with Session(self.engine) as session:  # the submission and who sent it, in one statement
                submission, contact = session.exec(select(Submission, Contact).join(
                    Contact, col(Contact.id) == Submission.sender_contact_id)
                    .where(Submission.id == submission_id)).one()
        sender = Sender.of(contact)
        stored, fetch = submission.sha256 is not None, waiting_for_file(submission)
        if fetch:
            fetched = self.fetching.fetch(submission_id, received)
            if fetched is None:  # the channel will not give the file yet: tried again later, by any process
                return IntakeResult("pending", submission_id, replies.fetch_later(received.filename),
                                    reply_to=saving.reply_to(received))
            if isinstance(fetched, Finding):
                return self.endings.reject(submission_id, sender, received, None, None, [fetched])
            received, stored = fetched, True
        if not stored:
            limit = self.settings.intake.max_upload_bytes
            return self.endings.reject(submission_id, sender, received, None, None, [Finding(
                "error", "file_too_large", f"{received.filename} is {len(received.data):,} bytes; the limit is "
                f"{limit:,} bytes", fix="Send the return workbook on its own, without embedded pictures.")])
        parsed = self.read(received.data, received.filename)
        if parsed.personal_data:
            return self.endings.quarantine(submission_id, sender, received, parsed.findings)
        if parsed.action_plan is not None:  # an action-plan workbook completes its plan: never scored
            return plan_files.take(self.engine, self.settings, submission_id, sender, received, parsed.action_plan)
        if parsed.unreadable:  # not a return at all: say so before asking which contract it is for
            return self.endings.reject(submission_id, sender, received, None, None, list(parsed.findings))
        today = local_date(received.received_at, self.settings.timezone)
        allowed = None if (sender.id, today) in self._ensured else retrying(  # the contracts the sender may see
            lambda: ensure_sender_obligations(self.engine, self.settings, contact, today), sleep=self.sleep)
        self._ensured.add((sender.id, today))
        with Session(self.engine) as session:  # one read: what the return is for, its versions and its history
            try:
                contract, period = identify(session, contact, received, parsed.cover, self.settings.timezone,
                                            allowed)
            except Held as held:
                return self.endings.hold(submission_id, sender, received, str(held), held.contract_id)
            except Rejected as rejected:
                return self.endings.reject(submission_id, sender, received, None, None, list(rejected.findings))
            store = PlainStore(PlainReader.on(session.connection()))  # the history as plain rows, as `kpibot score`
            terms = terms_of(self.settings, contract, period)
            try:  # the return owed, read with the history (in this session's snapshot) it is judged on
                obligation, digest, versions, under_review = owed_and_saved(
                    session, store, submission_id, contract, period, received.received_at, self.settings.timezone,
                    terms)
            except Rejected as rejected:  # a period that has not begun is named on no record
                known = None if rejected.findings[0].code == "future_period" else period
                return self.endings.reject(submission_id, sender, received, contract, known,
                                           list(rejected.findings))
            same = versions.identical_latest(submission_id, digest)
            if same is not None:
                return self.endings.duplicate(submission_id, sender, received, contract, obligation,
                                              copy_of(self.engine, same))
            assessed = assess_in_context(session, contract, period, parsed, received.received_at,
                                         self.settings.timezone, terms=terms, submission_id=submission_id,
                                         obligation=obligation, store=store)
            provider_name = organisation_name(session, self.settings, contract.provider_id)
            expected = versions.next()
            # Only a version in force can have its corrections undone.
            undo = undoing.undoing(session, obligation.id, obligation.period_id, assessed.assessment.framework,
                                   assessed.assessment.interpretation.values, store.earlier()) \
                if assessed.assessment.accepted and versions.in_force() is not None else None
            seen = review.before(session, self.settings, under_review)
            note = review.reply_note(seen, assessed.assessment.accepted)
        if undo is not None and not confirmed and received.channel in undoing.ASKS:  # ask before saving anything
            return self.endings.ask_undo(submission_id, sender, received, contract, obligation, undo.question(
                received.filename, contract.name, period.label, self.settings.timezone))
        if undo is not None:
            assessed = undoing.with_warning(assessed, undo.finding(self.settings.timezone, confirmed))
        on_time = local_date(received.received_at, self.settings.timezone) <= obligation.due_date
        job = saving.Save(submission_id, sender.id, sender.email, received, contract, obligation, assessed, on_time,
                          saving.Undone(undo, confirmed, provider_name, period.label,
                                        bool(self.settings.telegram_token), self.settings.timezone) if undo else None,
                          contact, submission, seen, expected)
        build = lambda version: replies.for_return(  # noqa: E731
            received.channel, ReturnMeta(contract.id, contract.name, provider_name, received.received_at, version,
                                         on_time, obligation.due_date, received.filename),
            assessed.assessment, self.settings.timezone, self.settings.reports.attach_pdf, note)
        prebuilt = (expected, build(expected))  # drawn before the lock; again under it only if another came first
        return retrying(lambda: self._save(job, build, prebuilt), sleep=self.sleep)

    def _save(self, job: saving.Save, build: Callable[[int], replies.Reply],
              prebuilt: tuple[int, replies.Reply]) -> IntakeResult:
        """Write the assessed return under its obligation's lock, once every earlier-received submission of the
        same return is done (or its process gone), so versions are unique and follow the order of receipt."""
        waited = timedelta(0)
        step = timedelta(milliseconds=50)
        while True:
            with write_session(self.engine, expire_on_commit=False) as session:
                saving.lock_obligation(session, job.obligation.id)
                earlier, saved, open_plans, confirmed = saving.under_lock(
                    session, job.submission_id, job.obligation.id, self.clock(), job.contract.id)
                if waited < WAIT_FOR_EARLIER and earlier:
                    session.rollback()
                else:
                    if (same := saved.identical_latest(job.submission_id, saved.digest)) is not None:
                        return self.endings.write_duplicate(
                            session, mine(session, job.submission_id), job.contact_id, job.actor, job.received,
                            job.contract.id, job.obligation.period_id, session.get_one(Submission, same))
                    if (newer := saved.newer(job.submission_id)) is not None:  # received after it
                        return self.endings.write_overtaken(session, mine(session, job.submission_id), job,
                                                            session.get_one(Submission, newer))
                    version = saved.next()
                    reply = prebuilt[1] if version == prebuilt[0] else build(version)
                    return saving.save(session, job, version, reply, self.clock(), self.settings,
                                       saved.in_force(), open_plans, confirmed)
            self.sleep(step.total_seconds())
            waited += step
