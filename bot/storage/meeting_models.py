"""The quarterly performance meeting's record (schedule 2.4.1, 3.1): the notes a commissioner writes after it, and
the actions agreed there (what, who, by when).

A meeting is on one contract and one period's return. Notes may be recorded more than once (a correction, a later
addition): each recording is kept, newest last, and the next meeting pack prints the latest of the meetings before
it. Who recorded them, when and through which channel is kept here and in the audit log.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.storage.plan_models import _ts


class MeetingNote(SQLModel, table=True):
    """One recording of a meeting's notes."""

    __tablename__ = "meeting_note"
    __table_args__ = (sa.UniqueConstraint("source_key"),)
    id: int | None = Field(default=None, primary_key=True)
    contract_id: str = Field(foreign_key="contract.id", max_length=64, index=True)
    period_id: str = Field(max_length=16)  # the period whose return the meeting was on
    held_on: date  # the meeting's date as the schedule sets it (or the day the notes were written, without one)
    notes: str = Field(sa_type=sa.Text)
    recorded_by: int = Field(foreign_key="contact.id")
    recorded_at: datetime = _ts(index=True)
    channel: str = Field(max_length=16)  # cli | telegram | web
    source_key: str | None = Field(default=None, max_length=300)  # the chat message that recorded it: one act


class MeetingAction(SQLModel, table=True):
    """An action agreed at the meeting: what is to be done, who does it, and by when."""

    __tablename__ = "meeting_action"
    __table_args__ = (sa.UniqueConstraint("note_id", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    note_id: int = Field(foreign_key="meeting_note.id", index=True)
    number: int  # 1, 2, ... in the order written
    what: str = Field(sa_type=sa.Text)
    who: str = Field(max_length=200)
    due: date
