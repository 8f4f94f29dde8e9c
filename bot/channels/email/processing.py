"""What one mailbox message calls for, done exactly once (the IMAP side is in reading.py).

1. A message already in the ledger was dealt with: it only needs moving (the process stopped between the commit
   and the move).
2. From its header alone: a message that must not be answered (`email_rules.silent_reason`) is recorded, unread;
   one whose receiving server did not record `dmarc=pass` (it failed, or there is no result of the council's own
   server), under `require_dmarc_pass`, is held and its sender's commissioners are told; a
   contact set up for Telegram only is told to use it; a message too large to open gets a short answer.
3. From the whole message: the same message seen before (its folder renumbered, or delivered twice) is recorded as
   such. An unknown sender's files go to the intake, which keeps them restricted and never answers an unknown
   address; a registered contact's files sent for the council's request for information (in the request's
   thread, or naming it in the subject) are kept and linked to it, never read as returns (request_files.py); a
   registered contact's files that may be returns go to the intake one by one (each answered by the
   intake, in the thread); an email without one that replies in the thread of the council's query answers it
   (bot/review); any other gets a short answer saying what to send, unless it answers one of kpibot's own
   messages (a "thank you").
4. No more than `max_replies_per_hour` emails go to one address: a message with files waits in the folder until it
   may be answered; one without is recorded unanswered.
Each step records the message, with the answers it queues, in one transaction committed before the caller moves
the message (or deletes it: one that carried a file refused as possible personal data does not stay in the mailbox;
the file is kept restricted and purged, and the ledger keeps no subject for it). A file handed to the intake again
(the process stopped before that commit) is one submission: the intake keys it on the Message-ID and the file's
number.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session

from bot import config
from bot.channels.email import ledger as ledger
from bot.channels.email.ledger import Location
from bot.channels.email.message import Inbound, parse
from bot.channels.email.quoting import reply_text
from bot.channels.email.request_files import answer_files, request_named
from bot.channels.email.rules import dmarc_result, is_return_file, our_messages, replies_to_us, silent_reason
from bot.clock import utc_now
from bot.intake.received import Received, shown_filename
from bot.intake.service import Intake, Unavailable
from bot.reports.templating import render_text  # no WeasyPrint: text needs none
from bot.review import actions, prompts
from bot.review.scene import Act, Refused
from bot.storage.db import is_transient, retrying, write_session
from bot.storage.models import Contact, Organisation, Submission

log = logging.getLogger(__name__)
MAX_FAILURES = 3  # a message that makes processing fail this many times running is recorded as failed and moved
QUARANTINED = "quarantined"  # a file refused as possible personal data: the email is deleted, not moved
WITHHELD = "(withheld: the email carried a file refused as possible personal data)"  # its subject, in the ledger


@dataclass(frozen=True)
class Fetched:
    """A message as the mailbox holds it; `body()` fetches the whole of it, only when it is needed."""

    where: Location
    size: int
    arrived_at: datetime | None  # the server's INTERNALDATE: when it was delivered
    header: bytes
    body: Callable[[], bytes]


@dataclass(frozen=True)
class Answer:
    contact: Contact
    key: str  # the message's identity: one answer of each kind per message
    what: str  # e.g. "no return"
    subject: str
    text: str


def megabytes(size: int) -> str:
    return f"{size / 1_048_576:.1f} MB"


class Processor:
    def __init__(self, engine: sa.Engine, intake: Intake, settings: config.Settings,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.engine, self.intake, self.settings, self.clock = engine, intake, settings, clock
        self.email = settings.email
        self.own = (self.email.from_address.lower(), self.email.imap_user.lower())
        self.failures: dict[Location, int] = {}

    @property
    def max_message_bytes(self) -> int:
        """The largest message opened: room for a largest file (base64 makes it a third larger), and more."""
        return 3 * self.settings.intake.max_upload_bytes

    def handle_safely(self, fetched: Fetched) -> bool:
        """`handle`, except that a message that keeps failing is recorded as failed (and moved) rather than tried
        for ever. Raises Unavailable when the database is down: the caller stops and tries later."""
        try:
            done = self.handle(fetched)
        except Unavailable:
            raise
        except sa.exc.DBAPIError as exc:
            if is_transient(exc):
                raise Unavailable(str(exc.orig)[:200]) from None
            done = self._failed(fetched, exc)
        except Exception as exc:  # noqa: BLE001 - logged; one bad message must not stop the mailbox
            done = self._failed(fetched, exc)
        else:
            self.failures.pop(fetched.where, None)
        return done

    def _failed(self, fetched: Fetched, exc: Exception) -> bool:
        log.exception("email %s could not be processed", fetched.where)
        count = self.failures[fetched.where] = self.failures.get(fetched.where, 0) + 1
        if count < MAX_FAILURES:
            return False
        self.failures.pop(fetched.where, None)
        return self._finish(fetched.where, parse(fetched.header), self._arrived(fetched), "failed")

    def handle(self, fetched: Fetched) -> bool:
        """Deal with one message; True when it is recorded and may be moved, False to leave it for later."""
        with Session(self.engine) as session:
            if ledger.recorded(session, fetched.where) is not None:
                return True
        arrived = self._arrived(fetched)
        head = parse(fetched.header)
        reason = silent_reason(head, self.own)
        if reason is not None:
            log.info("email %s from %s: not answered (%s)", head.message_id, head.sender or "?", reason)
            return self._finish(fetched.where, head, arrived, f"ignored:{reason}")
        contact = self._contact(head.sender)
        verdict = dmarc_result(head, self.email.authserv_id)
        if self.email.require_dmarc_pass and verdict != "pass":  # no result is no proof either
            return self._hold(fetched, head, arrived, contact, verdict)
        if contact is not None and contact.channel == "telegram":
            text = render_text("messages/email_telegram_only.email.txt", subject=head.subject)
            answer = Answer(contact, head.message_id, "telegram only", "Please send your returns by Telegram", text)
            return self._finish(fetched.where, head, arrived, "telegram only", answer)
        if fetched.size > self.max_message_bytes:
            text = render_text("messages/email_too_large.email.txt", subject=head.subject,
                               size=megabytes(fetched.size), limit=megabytes(self.max_message_bytes),
                               file_limit=megabytes(self.settings.intake.max_upload_bytes))
            refusal = Answer(contact, head.message_id, "too large", "Your email was too large to open",
                             text) if contact else None
            return self._finish(fetched.where, head, arrived, "too large", refusal)
        message = parse(fetched.body())
        with Session(self.engine) as session:
            if ledger.same_message(session, fetched.where.account, message) is not None:
                return self._finish(fetched.where, message, arrived, "duplicate")
            key = ledger.identity(session, fetched.where.account, message)
        if contact is None:
            self._submit(key, message, arrived)
            return self._finish(fetched.where, message, arrived, "unknown sender")
        with Session(self.engine) as session:  # files for the council's request: kept and linked, never a return
            request_id = request_named(session, message, self.email.from_address) if message.attachments else None
        if request_id is not None:
            return self._request_files(fetched.where, key, message, arrived, contact, request_id)
        if not any(is_return_file(a) for a in message.attachments):
            answered = self._answer(fetched.where, key, message, arrived, contact)
            return answered if answered is not None else self._no_return(fetched.where, key, message, arrived,
                                                                           contact)
        if self._capped(contact.email):
            log.warning("email %s from %s waits: %d emails went to that address in the last hour", message.message_id,
                        contact.email, self.email.max_replies_per_hour)
            return False
        if self._submit(key, message, arrived):  # a file refused as personal data: the email leaves the mailbox
            return self._finish(fetched.where, replace(message, subject=WITHHELD), arrived, QUARANTINED)
        return self._finish(fetched.where, message, arrived, "processed")

    def to_delete(self, where: Location) -> bool:
        """Is the recorded message one to delete from the mailbox rather than move (it carried a file refused as
        possible personal data: the file is kept restricted until purged, the email not at all)?"""
        with Session(self.engine) as session:
            row = ledger.recorded(session, where)
            return row is not None and row.outcome == QUARANTINED

    # -- steps ---------------------------------------------------------------------------------------------------

    def _arrived(self, fetched: Fetched) -> datetime:
        now = self.clock()
        return min(fetched.arrived_at or now, now)

    def _contact(self, address: str) -> Contact | None:
        with Session(self.engine, expire_on_commit=False) as session:
            contact = ledger.contact_for(session, address)
            if contact is not None:
                session.expunge(contact)
            return contact

    def _capped(self, address: str) -> bool:
        with Session(self.engine) as session:
            return ledger.replies_this_hour(session, address, self.clock()) >= self.email.max_replies_per_hour

    def _submit(self, key: str, message: Inbound, arrived: datetime) -> bool:
        """Hand each file that may be a return to the intake: one submission each (keyed on the message's identity
        and the file's number), answered by the intake. True when one was quarantined (now, or by a process that
        finished it earlier). Logs name the submission, never the file (its name can hold personal data)."""
        if message.more_attachments:
            log.warning("email %s holds %d more files than kpibot reads from one message; they were not read",
                        message.message_id, message.more_attachments)
        quarantined = False
        for attachment in message.attachments:
            if not is_return_file(attachment):
                continue
            result = self.intake.submit(Received(
                channel="email", message_id=key, sender=message.sender, filename=attachment.filename,
                data=attachment.data, received_at=arrived, caption=message.subject, part=attachment.number,
                references=message.references))
            log.info("email %s file %d from %s: submission %s, %s", message.message_id, attachment.number,
                     message.sender, result.submission_id, result.outcome)
            quarantined = quarantined or self._quarantined(result.outcome, result.submission_id)
        return quarantined

    def _quarantined(self, outcome: str, submission_id: int | None) -> bool:
        if outcome == QUARANTINED or submission_id is None or outcome != "duplicate":
            return outcome == QUARANTINED
        with Session(self.engine) as session:  # a replay: what became of it the first time
            submission = session.get(Submission, submission_id)
            return submission is not None and submission.status == QUARANTINED

    def _answer(self, where: Location, key: str, message: Inbound, arrived: datetime,
                contact: Contact) -> bool | None:
        """A reply in the thread of the council's query: its words answer it (bot/review), and the sender is told
        what became of them, in the thread. None when the message answers no query."""
        with Session(self.engine) as session:
            query_id = prompts.query_told_by(session, our_messages(message, self.email.from_address))
        if query_id is None or contact.id is None:
            return None
        act = Act(contact.id, "email", arrived, key=f"email:{key}")
        try:
            said = actions.answer(self.engine, self.settings, act, query_id, reply_text(message.text)).text
        except Refused as exc:
            said = exc.text
        text = render_text("messages/review_email_answer.email.txt", said=said, subject=message.subject)
        return self._finish(where, message, arrived, "query answer",
                            Answer(contact, key, "query answer", "Your answer to the council's query", text))

    def _request_files(self, where: Location, key: str, message: Inbound, arrived: datetime, contact: Contact,
                       request_id: int) -> bool:
        """Files sent for the council's request (bot/channels/email/request_files.py), answered in the thread."""
        if self._capped(contact.email):
            return False  # waits in the folder until it may be answered
        said = answer_files(self.engine, self.settings, self.intake.files, key, message, arrived, contact.id or 0,
                            request_id)
        text = render_text("messages/request_email_files.email.txt", said=said, subject=message.subject)
        return self._finish(where, message, arrived, "request answer",
                            Answer(contact, key, "request answer", f"Received for request {request_id}", text))

    def _no_return(self, where: Location, key: str, message: Inbound, arrived: datetime, contact: Contact) -> bool:
        if replies_to_us(message, self.email.from_address):
            return self._finish(where, message, arrived, "no return (answers kpibot)")
        with Session(self.engine) as session:
            contracts = ledger.contract_names(session, contact)
        found = ", ".join(shown_filename(a.filename) for a in message.attachments[:5])
        text = render_text("messages/email_no_return.email.txt", subject=message.subject, found=found,
                           contracts=contracts, limit=megabytes(self.settings.intake.max_upload_bytes))
        return self._finish(where, message, arrived, "no return",
                            Answer(contact, key, "no return", "No return was attached", text))

    def _hold(self, fetched: Fetched, message: Inbound, arrived: datetime, contact: Contact | None,
              verdict: str | None) -> bool:
        """Keep a message whose sender could not be confirmed out of the scoring, and tell the commissioners."""
        log.warning("email %s from %s held: DMARC %s", message.message_id, message.sender,
                    verdict or "result missing (none from the council's mail server)")

        def write() -> bool:
            with write_session(self.engine) as session:
                ledger.record(session, fetched.where, message, arrived, f"held:dmarc {verdict or 'missing'}")
                if contact is not None:
                    org = session.get(Organisation, contact.organisation_id)
                    when = arrived.astimezone(ZoneInfo(self.settings.timezone))
                    text = render_text("messages/email_held.email.txt", sender=message.sender,
                                       who=f"{contact.name}, {org.name if org else contact.organisation_id}",
                                       received=f"{when:%d %B %Y %H:%M}", subject=message.subject,
                                       files=f"{megabytes(fetched.size)} in all", result=verdict or "",
                                       folder=self.email.processed_folder)
                    for person in ledger.commissioners_for(session, contact):
                        by_chat = person.channel == "telegram" and person.telegram_chat_id is not None
                        ledger.queue(session, f"email:held:{message.message_id}:{person.id}", person,
                                     "telegram" if by_chat else "email",
                                     str(person.telegram_chat_id) if by_chat else person.email, "notice",
                                     f"Held: an email from {message.sender} failed the sender check", text,
                                     self.clock())
                session.commit()
                return True
        return retrying(write)

    def _finish(self, where: Location, message: Inbound, arrived: datetime, outcome: str,
                answer: Answer | None = None) -> bool:
        """Record the message with its answer (when one may go: not beyond the hourly cap) and commit."""
        def write() -> bool:
            with write_session(self.engine) as session:
                final = outcome
                if answer is not None:
                    if ledger.replies_this_hour(session, answer.contact.email, self.clock()) \
                            >= self.email.max_replies_per_hour:
                        final = f"{outcome}, capped"  # recorded unanswered
                    else:
                        ledger.answer(session, message, answer.key, answer.contact, answer.what, answer.subject,
                                      answer.text, self.clock())
                ledger.record(session, where, message, arrived, final)
                session.commit()
                return True
        return retrying(write)
