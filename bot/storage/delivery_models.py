"""The outbox's state of each channel: a channel whose server is failing as a whole is paused, not its contacts.

A refused connection, a refused sign-in or a server saying it is unavailable to everyone (421) is no one
recipient's fault: the dispatcher stops sending on that channel for a while (longer each time it fails again), so
no message uses up its attempts and no contact is disabled, and `kpibot status` says why. The first message that
goes through again ends the pause (the row is deleted).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.storage.models import UTCDateTime


def _ts() -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=False)


class ChannelPause(SQLModel, table=True):
    __tablename__ = "channel_pause"
    channel: str = Field(primary_key=True, max_length=16)  # email | telegram
    since: datetime = _ts()  # the first failure of this run of failures
    until: datetime = _ts()  # no message is sent on the channel before then
    failures: int = 1  # consecutive failures of the whole channel
    reason: str = Field(default="", sa_type=sa.Text)  # the last failure, redacted, for `kpibot status`
