"""Service improvement action plans and requests for information, as tables.

An action plan (seed 002, schedule 2.7 b) is opened by the intake for an indicator that is RED in an accepted return,
completed by the provider (the reason for non-compliance, and actions: what, how, who, when), agreed or returned by
the council, followed action by action, and closed when the indicator is back on target or the council closes it.
At most one plan per contract and indicator is open at a time (a partial unique index): a red again updates it.
Its state moves only by the transitions of bot/plans/table.py, each a conditional update, and each move is a
`plan_event` (who, when, through which channel, what was written).

A request for information (schedule 2.6, 2.3, 3.2: inspection reports within 2 working days, survey results,
evidence) is a one-off obligation with its own deadline, answered by any file, stored like a return's file and
never read as one.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.storage.models import UTCDateTime

OPEN_PLAN = sa.text("state != 'closed'")
EVIDENCE = sa.text("item_id != ''")  # one request per annual-return evidence item of a contract's year


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class ActionPlan(SQLModel, table=True):
    """One indicator's improvement plan: what kpibot pre-filled, what the provider wrote, where it stands."""

    __tablename__ = "action_plan"
    __table_args__ = (
        sa.Index("one_open_plan_per_indicator", "contract_id", "ref", unique=True,
                 sqlite_where=OPEN_PLAN, postgresql_where=OPEN_PLAN),
    )
    id: int | None = Field(default=None, primary_key=True)
    contract_id: str = Field(foreign_key="contract.id", max_length=64, index=True)
    ref: str = Field(max_length=32)  # the indicator's reference in the framework
    # requested | submitted | returned | agreed | closed
    state: str = Field(max_length=16, index=True)
    since: datetime = _ts()
    opened_at: datetime = _ts()
    opened_by_id: int = Field(foreign_key="submission.id")  # the version whose red opened it
    submission_id: int = Field(foreign_key="submission.id")  # the latest version that found it red
    period_id: str = Field(max_length=16)  # the latest period found red
    period_end: date  # of that period: an older period's return neither updates nor closes the plan
    respond_by: date  # the provider completes it by then
    # The indicator overview and current situation, pre-filled from the scoring, ready to print.
    title: str = Field(max_length=300)
    target: str = Field(default="", max_length=200)
    performance: str = Field(default="", max_length=200)
    off_target: str = Field(default="", max_length=200)
    reason: str = Field(default="", sa_type=sa.Text)  # the reason for non-compliance, as the provider wrote it
    revision: int = 0  # how many times the provider completed it
    comment: str = Field(default="", sa_type=sa.Text)  # the council's comment when it returned the plan
    agreed_by: int | None = Field(default=None, foreign_key="contact.id")
    agreed_at: datetime | None = _ts(nullable=True)
    closed_at: datetime | None = _ts(nullable=True)
    closed_how: str = Field(default="", max_length=32)  # recovered | closed by the council


class PlanAction(SQLModel, table=True):
    """One action of a plan's current revision: what is required, how, who is responsible, and by when."""

    __tablename__ = "plan_action"
    __table_args__ = (sa.UniqueConstraint("plan_id", "revision", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="action_plan.id", index=True)
    revision: int
    number: int  # 1, 2, ... in the order written
    what: str = Field(sa_type=sa.Text)
    how: str = Field(sa_type=sa.Text)
    who: str = Field(max_length=200)
    due: date = Field(index=True)  # "when (will results be realised)": the dated commitment


class PlanEvent(SQLModel, table=True):
    """One move of a plan: the plan's history and audit."""

    __tablename__ = "plan_event"
    __table_args__ = (sa.UniqueConstraint("source_key"),)
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="action_plan.id", index=True)
    action: str = Field(max_length=24)  # open | red_again | complete | agree | send_back | close | recover
    from_state: str = Field(max_length=16)
    to_state: str = Field(max_length=16)
    actor_contact_id: int | None = Field(default=None, foreign_key="contact.id")
    actor: str = Field(max_length=254)  # the contact's email, or "kpibot"
    channel: str = Field(max_length=16)  # cli | telegram | email | web | intake
    at: datetime = _ts(index=True)
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    note: str = Field(default="", sa_type=sa.Text)
    source_key: str | None = Field(default=None, max_length=300)  # the channel message that asked: one act


class InfoRequest(SQLModel, table=True):
    """The council's request for a document or information, with its own deadline, and the file that answered it."""

    __tablename__ = "info_request"
    __table_args__ = (
        sa.Index("one_request_per_evidence_item", "contract_id", "item_id", "period_id", unique=True,
                 sqlite_where=EVIDENCE, postgresql_where=EVIDENCE),
        sa.Index("one_request_per_message", "source_key", unique=True),
    )
    id: int | None = Field(default=None, primary_key=True)
    contract_id: str = Field(foreign_key="contract.id", max_length=64, index=True)
    what: str = Field(max_length=300)  # `Inspection report`
    detail: str = Field(default="", sa_type=sa.Text)
    due: date = Field(index=True)
    asked_by: int = Field(foreign_key="contact.id")
    asked_at: datetime = _ts()
    channel: str = Field(max_length=16)
    state: str = Field(default="open", max_length=16, index=True)  # open | answered | withdrawn
    answered_by: int | None = Field(default=None, foreign_key="contact.id")
    answered_at: datetime | None = _ts(nullable=True)
    answer_channel: str = Field(default="", max_length=16)
    sha256: str | None = Field(default=None, foreign_key="stored_file.sha256", max_length=64)
    filename: str = Field(default="", max_length=255)
    size: int = 0
    note: str = Field(default="", sa_type=sa.Text)  # what the provider wrote with the file
    on_time: bool | None = None
    item_id: str = Field(default="", max_length=64)  # the annual return's evidence item it asks for, if any
    period_id: str = Field(default="", max_length=32)  # the year whose evidence it is (with item_id)
    expires: date | None = None  # an insurance certificate's expiry date, given with the answer
    # The message or form that asked (a chat message, a web form's key): the same one twice is one request.
    source_key: str | None = Field(default=None, max_length=200)


class PlanChat(SQLModel, table=True):
    """A chat's unfinished guided action plan (bot/plans/conversation.py): kept in the database, not the bot's
    memory, so it survives a restart and any process can take the next answer. One per chat; gone once the plan is
    sent to the council or the conversation is cancelled."""

    __tablename__ = "plan_chat"
    __table_args__ = (sa.UniqueConstraint("chat_id"),)
    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=sa.BigInteger)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    plan_id: int = Field(foreign_key="action_plan.id", index=True)
    revision: int  # the plan's revision when the conversation began
    step: str = Field(max_length=16)  # reason | what | how | who | when | more | confirm
    reason: str = Field(default="", sa_type=sa.Text)
    actions: list[dict[str, str]] = Field(default_factory=list, sa_type=sa.JSON)  # what, how, who, when as written
    turn: int = 0  # moved by a conditional update: two processes never both take one answer
    started_at: datetime = _ts()
    updated_at: datetime = _ts()
