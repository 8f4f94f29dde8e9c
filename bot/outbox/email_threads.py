"""Email threading: the headers that put a reply in the thread of the message it answers.

The intake works them out when it queues a reply (they are kept with the outbox row), and the SMTP transport
writes them; both stay on this side of the outbox, so neither needs the other.
"""

from __future__ import annotations

import re

THREAD_HEADERS = ("In-Reply-To", "References", "Subject")  # the only stored headers a message may carry
MAX_REFERENCES = 20
MAX_SUBJECT = 250
_MESSAGE_ID = re.compile(r"<[^<>\s@\"]{1,200}@[^<>\s@\"]{1,200}>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_RE = re.compile(r"^\s*(re|aw|sv|antw)\s*:", re.IGNORECASE)


def message_ids(text: str) -> list[str]:
    """The well-formed `<local@domain>` ids in a Message-ID, In-Reply-To or References header, in order."""
    return _MESSAGE_ID.findall(text or "")


def one_line(text: str, limit: int) -> str:
    return " ".join(_CONTROL.sub(" ", text or "").split())[:limit].rstrip()


def reply_headers(message_id: str, references: str, subject: str) -> dict[str, str]:
    """The headers that put a reply in the thread of the message it answers (RFC 5322 3.6.4): In-Reply-To its
    Message-ID, References its References then its Message-ID (the first and the latest kept), and its subject
    with one `Re:`. Without a well-formed Message-ID there is no thread to join, only the subject. What follows a
    space after the id is ignored (the email channel's suffix for a reused Message-ID)."""
    headers: dict[str, str] = {}
    message_id = message_id.strip().split(" ", 1)[0]
    ids = message_ids(message_id)
    if len(ids) == 1 and ids[0] == message_id:
        earlier = [i for i in message_ids(references) if i != ids[0]]
        if len(earlier) >= MAX_REFERENCES:
            earlier = earlier[:1] + earlier[-(MAX_REFERENCES - 2):]
        headers["In-Reply-To"] = ids[0]
        headers["References"] = " ".join([*earlier, ids[0]])
    subject = one_line(subject, MAX_SUBJECT)
    if subject:
        headers["Subject"] = subject if _RE.match(subject) else f"Re: {subject}"
    return headers
