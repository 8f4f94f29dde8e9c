"""The tables kpibot keeps, as SQLModel classes. Schema changes go through Alembic (bot/storage/migrations).

What is due lives here, not in the scheduler: obligations carry their due dates, submissions their versions and
outcomes, the outbox the messages still to send. Times are stored in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

Word = TypeVar("Word", bound=str)


def one_of(text: str, words: tuple[Word, ...]) -> Word:
    """A text column's value as the Literal type its few words make (`channel` holds cli, telegram or email)."""
    for word in words:
        if word == text:
            return word
    raise ValueError(f"stored value {text!r} is not one of {', '.join(words)}")


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone; PostgreSQL uses timestamptz)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; kpibot stores aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


def _json() -> Any:
    return Field(default_factory=dict, sa_type=sa.JSON, nullable=False)


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)  # council | provider


class Contract(SQLModel, table=True):
    __tablename__ = "contract"
    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    framework_id: str = Field(max_length=64)
    framework_version: str = Field(max_length=32)
    provider_id: str = Field(foreign_key="organisation.id", max_length=64, index=True)
    commissioner_id: str = Field(foreign_key="organisation.id", max_length=64)
    value: Decimal = Field(sa_type=sa.Numeric(14, 2))
    start: date
    end: date | None = None
    year_start_month: int


class Contact(SQLModel, table=True):
    __tablename__ = "contact"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True)
    name: str = Field(max_length=200)
    organisation_id: str = Field(foreign_key="organisation.id", max_length=64, index=True)
    role: str = Field(max_length=32)  # provider_submitter | provider_manager | commissioner
    telegram_chat_id: int | None = Field(default=None, sa_type=sa.BigInteger, unique=True)
    active: bool = True
    email_disabled: bool = False  # set when delivery failed permanently
    telegram_disabled: bool = False
    channel: str = Field(default="any", max_length=16)  # any | email | telegram: the only way returns are accepted


class ContactContract(SQLModel, table=True):
    """Restricts a contact to some contracts of their organisation; no rows means all of them."""

    __tablename__ = "contact_contract"
    contact_id: int = Field(foreign_key="contact.id", primary_key=True)
    contract_id: str = Field(foreign_key="contract.id", primary_key=True, max_length=64)


class Obligation(SQLModel, table=True):
    """One return a contract owes: contract x return type x period, with its due date."""

    __tablename__ = "obligation"
    __table_args__ = (sa.UniqueConstraint("contract_id", "return_type", "period_id"),)
    id: int | None = Field(default=None, primary_key=True)
    contract_id: str = Field(foreign_key="contract.id", max_length=64, index=True)
    return_type: str = Field(max_length=32)
    period_id: str = Field(max_length=16)
    period_start: date
    period_end: date
    due_date: date = Field(index=True)
    first_accepted_at: datetime | None = _ts(nullable=True)
    escalation_level: int = 0
    # The first day the sweep need look at this obligation again (jobs/next_notice.py): every notice it could
    # need before then is recorded. None: not worked out yet (a new obligation, or its due date changed).
    next_notice_on: date | None = Field(default=None, index=True)


class StoredFile(SQLModel, table=True):
    """A raw received file, stored content-addressed on disk before anything parses it.

    Files that may hold personal data, and files from unknown senders, are restricted (never shown, never read
    again) and purged from disk after `purge_after`; the row stays as the record that the file existed.
    """

    __tablename__ = "stored_file"
    sha256: str = Field(primary_key=True, max_length=64)
    size: int
    first_seen_at: datetime = _ts()
    restricted: bool = False
    purge_after: datetime | None = _ts(nullable=True)
    purged_at: datetime | None = _ts(nullable=True)


class Submission(SQLModel, table=True):
    """One received file and what became of it. Versions count the submissions for an obligation."""

    __tablename__ = "submission"
    __table_args__ = (
        sa.UniqueConstraint("idempotency_key"),
        # One version in force per return, whatever two processes do at once: never counted twice.
        sa.Index("one_accepted_per_obligation", "obligation_id", unique=True,
                 sqlite_where=sa.text("status = 'accepted'"), postgresql_where=sa.text("status = 'accepted'")),
    )
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=300)
    channel: str = Field(max_length=16)  # cli | telegram | email
    channel_message_id: str = Field(max_length=200)
    sender_address: str = Field(max_length=254)
    sender_contact_id: int | None = Field(default=None, foreign_key="contact.id")
    received_at: datetime = _ts(index=True)
    filename: str = Field(max_length=255)
    sha256: str | None = Field(default=None, foreign_key="stored_file.sha256", max_length=64)
    size: int = 0
    contract_id: str | None = Field(default=None, foreign_key="contract.id", max_length=64, index=True)
    obligation_id: int | None = Field(default=None, foreign_key="obligation.id", index=True)
    period_id: str | None = Field(default=None, max_length=16)
    version: int | None = None
    # received | accepted | rejected | superseded | failed | held | duplicate | quarantined | overtaken
    status: str = Field(default="received", max_length=16, index=True)
    on_time: bool | None = None
    error_count: int = 0
    warning_count: int = 0
    reason: str = Field(default="", sa_type=sa.Text)
    processed_at: datetime | None = _ts(nullable=True)
    superseded_by_id: int | None = Field(default=None, foreign_key="submission.id")
    # What the sender said besides the file, kept so an interrupted submission can be resumed exactly.
    caption: str = Field(default="", sa_type=sa.Text)
    requested_contract_id: str | None = Field(default=None, max_length=64)
    requested_period_id: str | None = Field(default=None, max_length=16)
    # Who is processing it: a `received` submission whose lease has run out (or whose owner process is gone) is
    # resumed by the next process that looks, so a kill mid-processing never leaves it stuck.
    lease_owner: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = _ts(nullable=True)
    duplicate_of_id: int | None = Field(default=None, foreign_key="submission.id")  # identical to that version
    source_ref: str | None = Field(default=None, max_length=300)  # recorded before its file came: where to fetch it
    on_behalf: bool = False  # a commissioner submitted it for the provider


class DataValue(SQLModel, table=True):
    __tablename__ = "data_value"
    __table_args__ = (sa.UniqueConstraint("submission_id", "period_id", "item_id", "breakdown"),)
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    period_id: str = Field(max_length=16)  # the submission's own period, or an earlier one it carried
    item_id: str = Field(max_length=64)
    breakdown: str = Field(default="", max_length=200)
    exact: str = Field(max_length=64)  # the exact value as a fraction, e.g. "105/2"
    value: float  # the same as a number, for people querying the database
    cell: str = Field(default="", max_length=64)


class IndicatorResultRow(SQLModel, table=True):
    __tablename__ = "indicator_result"
    __table_args__ = (sa.UniqueConstraint("submission_id", "ref"),)
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    ref: str = Field(max_length=32)
    status: str = Field(max_length=16)
    value: float | None = None
    critical_failure: bool = False
    detail: dict[str, Any] = _json()  # the scoring result as shown in reports and --json


class PaymentRow(SQLModel, table=True):
    __tablename__ = "payment_result"
    __table_args__ = (sa.UniqueConstraint("submission_id", "rule_id"),)
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    rule_id: str = Field(max_length=64)
    amount: Decimal | None = Field(default=None, sa_type=sa.Numeric(14, 2))
    forecast: bool = False
    detail: dict[str, Any] = _json()


class FindingRow(SQLModel, table=True):
    __tablename__ = "finding"
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    severity: str = Field(max_length=8)
    code: str = Field(max_length=64)
    message: str = Field(sa_type=sa.Text)
    location: str = Field(default="", max_length=200)
    fix: str = Field(default="", sa_type=sa.Text)
    item: str = Field(default="", max_length=64)


class AuditEvent(SQLModel, table=True):
    """Who did what, when: every intake step, outbox delivery and administrative change."""

    __tablename__ = "audit_event"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(index=True)
    actor: str = Field(max_length=254)  # a contact's email, a chat id, or "system"
    action: str = Field(max_length=64)
    subject: str = Field(default="", max_length=200)  # e.g. "submission:12"
    detail: dict[str, Any] = _json()


class OutboxMessage(SQLModel, table=True):
    """A message waiting to be sent; the dispatcher claims it, sends it once and records the outcome."""

    __tablename__ = "outbox_message"
    __table_args__ = (sa.UniqueConstraint("dedupe_key"),)
    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=300)  # e.g. "reply:submission:12": one message per event
    created_at: datetime = _ts()
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    channel: str = Field(max_length=16)  # email | telegram | local
    address: str = Field(max_length=254)
    kind: str = Field(max_length=32)  # reply | reminder | overdue | escalation | report
    subject: str = Field(default="", max_length=300)
    body_text: str = Field(sa_type=sa.Text)
    body_html: str | None = Field(default=None, sa_type=sa.Text)
    attachment_sha256: str | None = Field(default=None, max_length=64)
    attachment_name: str | None = Field(default=None, max_length=255)
    # pending | sending | sent | failed | interrupted (a send cut off mid-way that could not safely be repeated)
    status: str = Field(default="pending", max_length=16, index=True)
    attempts: int = 0
    next_attempt_at: datetime = _ts(index=True)
    claimed_at: datetime | None = _ts(nullable=True)
    sent_at: datetime | None = _ts(nullable=True)
    last_error: str = Field(default="", sa_type=sa.Text)
    # A report still being rendered: the message waits for it, then goes with the PDF (or, if rendering failed for
    # good, with `fallback_text`, which does not promise an attachment).
    render_job_id: int | None = Field(default=None, foreign_key="render_job.id", index=True)
    fallback_text: str | None = Field(default=None, sa_type=sa.Text)
    parts_sent: int = 0  # chat messages split into parts: how many went out, so a retry never repeats one
    claimed_by: str | None = Field(default=None, max_length=120)  # the sending process (see bot/processes/leases.py)
    headers: dict[str, Any] = _json()  # channel extras, e.g. an email's In-Reply-To, References, Auto-Submitted


class Notice(SQLModel, table=True):
    """A reminder, overdue notice or escalation sent for an obligation; the key makes each one happen once."""

    __tablename__ = "notice"
    __table_args__ = (sa.UniqueConstraint("key"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)  # e.g. "reminder:obligation:7:due-in-7"
    obligation_id: int | None = Field(default=None, foreign_key="obligation.id", index=True)
    kind: str = Field(max_length=32)
    level: int = 0
    created_at: datetime = _ts()
    outbox_id: int | None = Field(default=None, foreign_key="outbox_message.id")


class RenderedReport(SQLModel, table=True):
    __tablename__ = "rendered_report"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # return | exceptions | action_plan
    contract_id: str | None = Field(default=None, foreign_key="contract.id", max_length=64)
    period_id: str = Field(max_length=16)
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    sha256: str = Field(foreign_key="stored_file.sha256", max_length=64)
    created_at: datetime = _ts()
    # What the report was drawn from (submission, history versions, framework and template versions): the same
    # key means the same PDF, so it is reused instead of drawn again.
    cache_key: str | None = Field(default=None, max_length=64, index=True)


class RenderJob(SQLModel, table=True):
    """A PDF still to draw, off the submit path: the reply's text goes at once, the report follows it.

    `inputs` pins what the report is drawn from (the submission and the accepted versions of earlier periods it was
    judged with), so the PDF says exactly what the reply said, whenever it is drawn.
    """

    __tablename__ = "render_job"
    __table_args__ = (sa.UniqueConstraint("key"),)
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200)  # e.g. "return:submission:12"
    kind: str = Field(max_length=32)  # return
    submission_id: int | None = Field(default=None, foreign_key="submission.id", index=True)
    inputs: dict[str, Any] = _json()
    status: str = Field(default="pending", max_length=16, index=True)  # pending | rendering | done | failed
    attempts: int = 0
    next_attempt_at: datetime = _ts(index=True)
    lease_owner: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = _ts(nullable=True)
    sha256: str | None = Field(default=None, foreign_key="stored_file.sha256", max_length=64)
    created_at: datetime = _ts()
    finished_at: datetime | None = _ts(nullable=True)
    last_error: str = Field(default="", sa_type=sa.Text)


class Heartbeat(SQLModel, table=True):
    """When each part of the running service last did its work, so a stopped scheduler is visible."""

    __tablename__ = "heartbeat"
    name: str = Field(primary_key=True, max_length=64)  # e.g. "sweep", "dispatcher", "telegram"
    at: datetime = _ts()
    owner: str = Field(default="", max_length=120)  # host:pid of the process
    detail: dict[str, Any] = _json()


class Invite(SQLModel, table=True):
    """A single-use code that links a Telegram chat to a contact; only its hash is kept."""

    __tablename__ = "invite"
    __table_args__ = (sa.UniqueConstraint("code_hash"),)
    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    created_at: datetime = _ts()
    expires_at: datetime = _ts()
    used_at: datetime | None = _ts(nullable=True)
    used_by_chat: int | None = Field(default=None, sa_type=sa.BigInteger)
    revoked_at: datetime | None = _ts(nullable=True)


class InboundMail(SQLModel, table=True):
    """One mailbox message seen by the email channel: recorded (and committed) before it is moved, so a restart
    between the two never processes it twice."""

    __tablename__ = "inbound_mail"
    __table_args__ = (sa.UniqueConstraint("account", "folder", "uidvalidity", "uid"),)
    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=254)
    folder: str = Field(max_length=200)
    uidvalidity: int = Field(sa_type=sa.BigInteger)
    uid: int = Field(sa_type=sa.BigInteger)
    message_id: str = Field(default="", max_length=300, index=True)
    sender: str = Field(default="", max_length=254)
    subject: str = Field(default="", max_length=300)
    attachment_hashes: list[str] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    received_at: datetime = _ts()
    outcome: str = Field(default="", max_length=32)  # processed | ignored:<why> | held
    moved_at: datetime | None = _ts(nullable=True)


class ServiceFailureRow(SQLModel, table=True):
    """A service failure (e.g. three consecutive periods late): recorded once, with its periods, and reported for
    the rolling year after it happened even when the next return is on time."""

    __tablename__ = "service_failure"
    __table_args__ = (sa.UniqueConstraint("contract_id", "return_type", "last_period_id"),)
    id: int | None = Field(default=None, primary_key=True)
    contract_id: str = Field(foreign_key="contract.id", max_length=64, index=True)
    return_type: str = Field(max_length=32)
    periods: str = Field(max_length=200)  # the late periods, comma-separated, oldest first
    last_period_id: str = Field(max_length=16)
    occurred: date  # the last late period's due date
    recorded_at: datetime = _ts()
