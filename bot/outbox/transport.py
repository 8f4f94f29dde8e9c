"""What every transport promises: deliver one message, or raise TransportError saying if retrying can help."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from bot.settings.redaction import redact

Scope = Literal["message", "recipient", "channel"]

REPLY_MARKUP = "reply_markup"  # OutboxMessage.headers key: a chat message's buttons, as JSON (Telegram's markup)


class TransportError(Exception):
    """A delivery that failed. `permanent`: retrying this message cannot help. `scope`: whose failure it is.

    - "recipient" (a permanent failure's default): this address cannot be reached on this channel (the bot was
      blocked, the mailbox does not exist); the dispatcher disables the channel for that contact.
    - "message" (a temporary failure's default): this message only, retried with back-off, or failed alone when
      permanent (a server refusing its content); no contact is disabled.
    - "channel": the channel as a whole (its server refuses connections or kpibot's sign-in, it is unreachable);
      sending on it pauses, and no message fails and no contact is disabled for it.
    `interrupted`: the message went out and no answer came (a timeout, a connection cut): it may have arrived, so it
    is not sent again on its own; an operator checks and retries it (the rule for a sender killed mid-way).
    The message is redacted (it often quotes a library's error, which may quote a secret)."""

    def __init__(self, message: str, permanent: bool = False, retry_after: float | None = None,
                 scope: Scope | None = None, interrupted: bool = False) -> None:
        super().__init__(redact(message))
        self.permanent = permanent
        self.retry_after = retry_after  # seconds the far end asked us to wait (Telegram's 429), if it said
        self.scope: Scope = scope or ("recipient" if permanent else "message")
        self.interrupted = interrupted


@dataclass(frozen=True)
class Outbound:
    address: str  # an email address, a Telegram chat id, or a [[teams]] entry's name
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
