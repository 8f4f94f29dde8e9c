"""The council's half of the quarter, as tables: the review of each return, its history, queries, spot checks,
the year's payments confirmed by a person, and the Telegram prompts a review waits on.

One review per return owed (an obligation): it follows the version in force. Its state moves only by the
transitions of bot/review/table.py, each a conditional update (`... WHERE id = ? AND state = ? AND
submission_id = ?`), and every move is a `review_event`: who, when, through which channel, on which version.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.storage.models import UTCDateTime


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class Review(SQLModel, table=True):
    """Where the council stands on one return: waiting, queried, answered or signed off, on its current version."""

    __tablename__ = "review"
    __table_args__ = (sa.UniqueConstraint("obligation_id"),)
    id: int | None = Field(default=None, primary_key=True)
    obligation_id: int = Field(foreign_key="obligation.id")
    contract_id: str = Field(foreign_key="contract.id", max_length=64, index=True)
    period_id: str = Field(max_length=16)
    submission_id: int = Field(foreign_key="submission.id")  # the version under review: the one in force
    version: int
    state: str = Field(max_length=16, index=True)  # waiting | queried | answered | signed_off
    since: datetime = _ts()  # when it entered its state
    opened_at: datetime = _ts()
    signed_off_by: int | None = Field(default=None, foreign_key="contact.id")
    signed_off_at: datetime | None = _ts(nullable=True)


class ReviewEvent(SQLModel, table=True):
    """One move of a review (or a spot check, or a payment's confirmation): the review's history and audit."""

    __tablename__ = "review_event"
    __table_args__ = (sa.UniqueConstraint("source_key"),)
    id: int | None = Field(default=None, primary_key=True)
    review_id: int | None = Field(default=None, foreign_key="review.id", index=True)
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    version: int | None = None
    action: str = Field(max_length=24)  # open | resubmit | sign_off | query | answer | spot_check | confirm ...
    from_state: str = Field(max_length=16)
    to_state: str = Field(max_length=16)
    actor_contact_id: int | None = Field(default=None, foreign_key="contact.id")
    actor: str = Field(max_length=254)  # the contact's email, or "kpibot"
    channel: str = Field(max_length=16)  # cli | telegram | email | web | intake
    at: datetime = _ts(index=True)
    note: str = Field(default="", sa_type=sa.Text)  # the reason, answer or finding, as written
    query_id: int | None = Field(default=None, foreign_key="review_query.id")
    # The channel message that caused it (an email's Message-ID, a chat message): the same message twice is one act.
    source_key: str | None = Field(default=None, max_length=300)


class ReviewQuery(SQLModel, table=True):
    """The council's question about a version, and how it was answered (an explanation, or a corrected version)."""

    __tablename__ = "review_query"
    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    submission_id: int = Field(foreign_key="submission.id")  # the version queried
    version: int
    asked_by: int = Field(foreign_key="contact.id")
    asked_at: datetime = _ts()
    channel: str = Field(max_length=16)
    reason: str = Field(sa_type=sa.Text)
    about: list[str] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)  # indicator refs, item ids
    respond_by: date
    state: str = Field(default="open", max_length=16, index=True)  # open | answered | corrected | closed
    answer: str = Field(default="", sa_type=sa.Text)
    answered_by: int | None = Field(default=None, foreign_key="contact.id")
    answered_at: datetime | None = _ts(nullable=True)
    answer_channel: str = Field(default="", max_length=16)
    corrected_by_id: int | None = Field(default=None, foreign_key="submission.id")  # the version that answered it
    closed_at: datetime | None = _ts(nullable=True)
    closed_how: str = Field(default="", max_length=32)  # signed off | queried again | corrected


class SpotCheck(SQLModel, table=True):
    """The council checked a version's figures against its own evidence (schedule 2.5: 'may be spot checked')."""

    __tablename__ = "spot_check"
    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", index=True)
    obligation_id: int = Field(foreign_key="obligation.id", index=True)
    submission_id: int = Field(foreign_key="submission.id")
    version: int
    checked_by: int = Field(foreign_key="contact.id")
    checked_at: datetime = _ts()
    channel: str = Field(max_length=16)
    accurate: bool
    note: str = Field(sa_type=sa.Text)


class PaymentConfirmation(SQLModel, table=True):
    """A year's payment by results or incentive, confirmed by a person: who, when, the figure and what it rests on.

    At most one confirmation stands per contract, year and rule; a corrected return the figure rested on reopens
    it (`state` reopened), and the year is confirmed again."""

    __tablename__ = "payment_confirmation"
    __table_args__ = (
        sa.Index("one_confirmation_per_payment", "contract_id", "year_id", "rule_id", unique=True,
                 sqlite_where=sa.text("state = 'confirmed'"), postgresql_where=sa.text("state = 'confirmed'")),
    )
    id: int | None = Field(default=None, primary_key=True)
    contract_id: str = Field(foreign_key="contract.id", max_length=64, index=True)
    year_id: str = Field(max_length=16)  # e.g. 2025-26
    rule_id: str = Field(max_length=64)
    amount: Decimal | None = Field(default=None, sa_type=sa.Numeric(14, 2))
    maximum: Decimal | None = Field(default=None, sa_type=sa.Numeric(14, 2))
    state: str = Field(default="confirmed", max_length=16, index=True)  # confirmed | reopened
    confirmed_by: int = Field(foreign_key="contact.id")
    confirmed_at: datetime = _ts()
    channel: str = Field(max_length=16)
    arithmetic: list[str] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    rests_on: list[int] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)  # submission ids
    reopened_at: datetime | None = _ts(nullable=True)
    reopened_by_id: int | None = Field(default=None, foreign_key="submission.id")


class ReviewMessage(SQLModel, table=True):
    """Which review event an outbox message tells of: an email reply in its thread finds its query here."""

    __tablename__ = "review_message"
    outbox_id: int = Field(foreign_key="outbox_message.id", primary_key=True)
    event_id: int = Field(foreign_key="review_event.id", index=True)
    query_id: int | None = Field(default=None, foreign_key="review_query.id", index=True)


class ChatPrompt(SQLModel, table=True):
    """A Telegram chat asked to type something (a query's reason, an answer): the reply finds what it is for here,
    not in the process's memory, so a restart between the question and the reply loses nothing."""

    __tablename__ = "chat_prompt"
    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=sa.BigInteger, index=True)
    contact_id: int = Field(foreign_key="contact.id")
    kind: str = Field(max_length=16)  # query | answer
    review_id: int = Field(foreign_key="review.id")
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    query_id: int | None = Field(default=None, foreign_key="review_query.id")
    prompt_message_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    created_at: datetime = _ts()
    expires_at: datetime = _ts()
    used_at: datetime | None = _ts(nullable=True)
