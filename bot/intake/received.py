"""What a channel hands the intake, bounded and cleaned at the edge, and what the intake answers."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Literal, get_args

from kpi_core.findings import Finding
from kpi_core.returns.personal_data import looks_personal

if TYPE_CHECKING:
    from kpi_core.assess import Assessment

Channel = Literal["cli", "email", "telegram", "web"]
Outcome = Literal["accepted", "rejected", "failed", "held", "unknown_sender", "duplicate", "quarantined",
                  "pending", "overtaken", "confirm", "action_plan"]  # confirm: a chat is asked whether to undo
# corrections; action_plan: an action-plan workbook completed its plan (bot/intake/plan_files.py)
CHANNELS: tuple[Channel, ...] = get_args(Channel)

MAX_FILENAME = 120
WITHHELD_NAME = "return (name withheld)"  # instead of a file name that looks like personal data
MAX_SENDER = 254
MAX_MESSAGE_ID = 200
MAX_CAPTION = 1000
MAX_REFERENCES = 4000
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Received:
    """A file as a channel received it."""

    channel: Channel
    message_id: str
    sender: str  # an email address, or a Telegram chat id as text
    filename: str
    data: bytes
    received_at: datetime  # timezone-aware
    caption: str = ""  # message caption or email subject: may name the contract and period
    contract_id: str | None = None  # explicit (command line, or the sender's choice of a held return)
    period_id: str | None = None
    part: int = 0  # attachment number within the message
    references: str = ""  # email: the message's References header, so the reply stays in its thread
    source: str = ""  # the channel's reference to fetch the file by, when it is recorded before it came (no data)

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.message_id}:{self.part}"


@dataclass(frozen=True)
class IntakeResult:
    outcome: Outcome
    submission_id: int | None
    reply: str
    contract_id: str | None = None
    period_id: str | None = None
    version: int | None = None
    on_time: bool | None = None
    findings: tuple[Finding, ...] = field(default=())
    assessment: Assessment | None = None
    duplicate_of: int | None = None  # the version this identical file already is
    reply_to: str = ""  # where the reply was queued: "email alice@...", "telegram chat 1001", "local outbox"


def one_line(text: str, limit: int) -> str:
    """`text` as one printable line of at most `limit` characters: no control characters (a CR/LF in a file name
    would break an email header), no bidirectional overrides, Unicode normalised."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    text = " ".join(text.split())
    return text[:limit].rstrip()


def safe_filename(name: str) -> str:
    """A file name that is safe to show, store and attach: no folders, no control characters, at most
    MAX_FILENAME characters with its extension kept."""
    name = one_line(name.replace("\\", "/").rsplit("/", 1)[-1], 10_000).strip(". ")
    if not name:
        return "return"
    if len(name) <= MAX_FILENAME:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        return name[:MAX_FILENAME].rstrip()
    return f"{stem[:MAX_FILENAME - len(ext) - 2].rstrip()}~.{ext}"


def shown_filename(name: str) -> str:
    """The name a received file is stored and shown under: its own, made safe, or, when that looks like personal
    data (an NHS number, a postcode, a person's name, as kpi_core.returns.personal_data judges a cell), a neutral
    name with the same extension, so the name is never stored, logged or echoed."""
    name = safe_filename(name)
    if not looks_personal(name):
        return name
    stem, dot, ext = name.rpartition(".")
    return WITHHELD_NAME + (f".{ext}" if dot and stem and len(ext) <= 10 and not looks_personal(ext) else "")


def stable_id(text: str, limit: int) -> str:
    """A channel's message id, bounded: a longer one is replaced by its hash, so the same id maps to the same key."""
    text = one_line(text, 10_000)
    if len(text) <= limit:
        return text
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def normalised(received: Received) -> Received:
    """Bound and clean every string a channel passes in, before anything stores or shows it (a file name that
    looks like personal data is replaced)."""
    sender = one_line(received.sender, 10_000)
    if received.channel != "telegram":
        sender = sender.strip("<>").lower()
    if len(sender) > MAX_SENDER:
        sender = sender[:MAX_SENDER - 1] + "…"
    return replace(received, message_id=stable_id(received.message_id, MAX_MESSAGE_ID), sender=sender,
                   filename=shown_filename(received.filename), caption=one_line(received.caption, MAX_CAPTION),
                   contract_id=one_line(received.contract_id, 64) if received.contract_id else None,
                   period_id=one_line(received.period_id, 16) if received.period_id else None,
                   references=one_line(received.references, MAX_REFERENCES), source=one_line(received.source, 300))
