"""The web workspace's tables: single-use sign-in links and the councils' CSV feed tokens (only hashes of both)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.storage.models import UTCDateTime


def _ts(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable, index=index)


class SignInLink(SQLModel, table=True):
    """A sign-in link sent to a contact: used once, within its minutes; only the SHA-256 of its token is kept."""

    __tablename__ = "sign_in_link"
    __table_args__ = (sa.UniqueConstraint("token_hash"),)
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    created_at: datetime = _ts(index=True)
    expires_at: datetime = _ts()
    used_at: datetime | None = _ts(nullable=True)
    channel: str = Field(max_length=16)  # email | telegram | local (the command line printed it)
    outbox_id: int | None = Field(default=None, foreign_key="outbox_message.id")


class FeedToken(SQLModel, table=True):
    """A council's token for the CSV feed of scored results (Power BI, Excel): revocable, kept as a hash."""

    __tablename__ = "feed_token"
    __table_args__ = (sa.UniqueConstraint("token_hash"),)
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64)
    council_id: str = Field(foreign_key="organisation.id", max_length=64, index=True)
    label: str = Field(default="", max_length=200)  # what it is for, e.g. "Power BI performance dashboard"
    created_at: datetime = _ts()
    revoked_at: datetime | None = _ts(nullable=True)
    last_used_at: datetime | None = _ts(nullable=True)
