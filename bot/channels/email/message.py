"""One received email, parsed into what the email channel decides on. Never raises, whatever the bytes.

Parsing uses the standard library's `email` package (compat32, the tolerant parser imap-tools also uses); every
header that is shown or stored is decoded, freed of control characters and bounded here.
"""

from __future__ import annotations

import email
import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses
from html import unescape

from bot.intake.received import MAX_MESSAGE_ID, stable_id
from bot.outbox.email_threads import message_ids, one_line

log = logging.getLogger(__name__)
MAX_ATTACHMENTS = 20  # files read from one message; more are left in the mailbox's copy of it
MAX_BODY_BYTES = 64 * 1024  # of a body's words read (an answer is far shorter)
SPREADSHEET_TYPES = {  # content types of nameless parts that may be a return, and the name to give them
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": "xlsm",
    "application/vnd.ms-excel": "xls",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "text/csv": "csv",
}


@dataclass(frozen=True)
class Attachment:
    number: int  # 1, 2 ... in the order the message holds its files
    filename: str
    content_type: str
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class Inbound:
    message_id: str  # the Message-ID, or `no-message-id:<hash of the header>` when it has none
    senders: tuple[str, ...]  # the From addresses, lower case
    subject: str
    references: str  # the References (else In-Reply-To) ids, for the reply's thread
    headers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # lower-case name -> one-line values
    content_type: str = "text/plain"
    attachments: tuple[Attachment, ...] = ()
    more_attachments: int = 0  # files beyond MAX_ATTACHMENTS, not read
    unreadable: bool = False  # the parser gave up: nothing in it is trusted, nobody is answered
    text: str = ""  # the body as plain text (the first text part), bounded: an answer to a query is read from it

    @property
    def sender(self) -> str:
        """The one From address ('' when there is none, or several: nobody to answer)."""
        return self.senders[0] if len(self.senders) == 1 else ""

    def header(self, name: str) -> str:
        """The first (topmost) value of a header, or ''."""
        values = self.headers.get(name.lower(), ())
        return values[0] if values else ""

    @property
    def attachment_hashes(self) -> list[str]:
        return [a.sha256 for a in self.attachments]


def parse(raw: bytes) -> Inbound:
    """The message in `raw` (the whole message, or only its header)."""
    try:
        return _parse(raw)
    except Exception:  # noqa: BLE001 - a message nothing can read is recorded as having no sender, never a crash
        log.exception("an email could not be parsed")
        return Inbound(message_id=_no_id(raw), senders=(), subject="", references="", unreadable=True)


def _parse(raw: bytes) -> Inbound:
    message = email.message_from_bytes(raw)
    headers: dict[str, tuple[str, ...]] = {}
    for name, value in message.items():
        key = str(name).strip().lower()[:100]
        headers[key] = (*headers.get(key, ()), one_line(_text(value), 4000))
    ids = message_ids(str(message.get("Message-ID", "")))
    message_id = stable_id(ids[0], MAX_MESSAGE_ID) if ids else _no_id(raw)
    references = " ".join(message_ids(str(message.get("References", ""))) or
                          message_ids(str(message.get("In-Reply-To", ""))))
    senders = tuple(address.lower() for _, address in getaddresses([_text(v) for v in message.get_all("From", [])])
                    if "@" in address and len(address) <= 254)
    files, extra = _attachments(message)
    return Inbound(message_id=message_id, senders=senders, subject=one_line(_text(message.get("Subject", "")), 1000),
                   references=references, headers=headers, content_type=message.get_content_type(),
                   attachments=tuple(files), more_attachments=extra, text=_body(message))


def _body(message: Message) -> str:
    """The message's words: its first plain-text part, else its first HTML part without the markup; bounded."""
    found: dict[str, str] = {}
    for part in message.walk():
        kind = part.get_content_type()
        if part.is_multipart() or kind not in ("text/plain", "text/html") or kind in found or part.get_filename() \
                or part.get_content_disposition() == "attachment":
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            try:
                found[kind] = payload[:MAX_BODY_BYTES].decode(part.get_content_charset() or "utf-8", errors="replace")
            except LookupError:  # a charset Python does not know
                found[kind] = payload[:MAX_BODY_BYTES].decode("utf-8", errors="replace")
    if "text/plain" in found:
        return found["text/plain"]
    html = found.get("text/html", "")
    html = re.sub(r"(?is)<(script|style).*?</\1>|<br\s*/?>|</p>|</div>", "\n", html)
    return unescape(re.sub(r"<[^>]*>", "", html))


def _text(value: object) -> str:
    """A header value as text: encoded words decoded (=?utf-8?...?=), undecodable bytes replaced."""
    try:
        return str(make_header(decode_header(str(value))))
    except Exception:  # noqa: BLE001 - an unknown charset or a broken encoded word: keep it as it came
        return str(value)


def _no_id(raw: bytes) -> str:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    return "no-message-id:" + hashlib.sha256(head).hexdigest()[:40]


def _attachments(message: Message) -> tuple[list[Attachment], int]:
    """The files a message carries, in order, including those in a forwarded message; bodies are not files."""
    files: list[Attachment] = []
    extra = 0
    for part in message.walk():
        if part.is_multipart():
            continue  # a container (multipart/*, or a forwarded message/rfc822): walk() visits what it holds
        kind = part.get_content_type()
        name = one_line(_text(part.get_filename() or ""), 255)
        if not name and part.get_content_disposition() != "attachment" and kind not in SPREADSHEET_TYPES:
            continue  # a text or HTML body, or a nameless inline part
        if len(files) >= MAX_ATTACHMENTS:
            extra += 1
            continue
        if not name:
            name = f"attachment-{len(files) + 1}.{SPREADSHEET_TYPES.get(kind, 'bin')}"
        data = part.get_payload(decode=True)
        files.append(Attachment(len(files) + 1, name, kind, data if isinstance(data, bytes) else b""))
    return files, extra
