"""What every transport promises: deliver one message, or raise TransportError saying if retrying can help."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

REPLY_MARKUP = "reply_markup"  # OutboxMessage.headers key: a chat message's buttons, as JSON (Telegram's markup)


class TransportError(Exception):
    def __init__(self, message: str, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after  # seconds the far end asked us to wait (Telegram's 429), if it said


@dataclass(frozen=True)
class Outbound:
    address: str  # an email address or a Telegram chat id
    subject: str
    text: str
    html: str | None = None
    attachment: bytes | None = None
    attachment_name: str | None = None
    message_id: str = ""  # stable per outbox row, so a retried email keeps its Message-ID
    kind: str = "reply"  # reply | report | reminder | overdue | escalation | digest ...
    headers: dict[str, str] = field(default_factory=dict)
    parts_sent: int = 0  # parts of a split chat message already delivered: start after them
    on_part: Callable[[int], None] | None = None  # called with the count of parts delivered so far


class Transport(Protocol):
    def send(self, message: Outbound) -> None:
        """Deliver or raise TransportError."""
