"""Files sent in answer to a council's request for information, as a table: recorded before they are read.

A file a provider sends by Telegram or email that names a request (a reply to the request's message, or
"request 3" in its caption or subject) is recorded here first, like a return's submission but never read as one: its
raw bytes are kept (within the intake's size cap), then it is checked (bot/plans/evidence.py) and, when it is a
safe document from the contract's provider, it answers the request (bot/plans/requests.py). Its `state` and
`reply` say what became of it, so the same channel message twice is one answer.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.storage.models import UTCDateTime


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class RequestUpload(SQLModel, table=True):
    """One file sent for a request: who, when, the raw file, and what became of it."""

    __tablename__ = "request_upload"
    __table_args__ = (sa.UniqueConstraint("idempotency_key"),)
    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=300)  # the channel's message (and the file's number in an email)
    request_id: int = Field(index=True)  # as the sender named it: it may name no request, or another's
    channel: str = Field(max_length=16)
    sender_contact_id: int = Field(foreign_key="contact.id", index=True)
    received_at: datetime = _ts()
    filename: str = Field(max_length=255)
    size: int = 0
    source: str = Field(default="", max_length=300)  # Telegram's file id, while the file is still to download
    sha256: str | None = Field(default=None, foreign_key="stored_file.sha256", max_length=64)
    note: str = Field(default="", sa_type=sa.Text)  # the caption or subject, less the request's number
    expires: date | None = None  # an insurance certificate's expiry date, as the sender gave it
    state: str = Field(default="received", max_length=16, index=True)  # received | answered | refused
    reply: str = Field(default="", sa_type=sa.Text)  # what the sender was told
    finished_at: datetime | None = _ts(nullable=True)
