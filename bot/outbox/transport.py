"""What every transport promises: deliver one message, or raise TransportError saying if retrying can help."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class TransportError(Exception):
    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Outbound:
    address: str  # an email address or a Telegram chat id
    subject: str
    text: str
    html: str | None = None
    attachment: bytes | None = None
    attachment_name: str | None = None
    message_id: str = ""  # stable per outbox row, so a mail client can spot a duplicate


class Transport(Protocol):
    def send(self, message: Outbound) -> None:
        """Deliver or raise TransportError."""
