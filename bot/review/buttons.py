"""The chat buttons of a review, as data: what a button carries and what it means when pressed.

A commissioner's copy of a return (and of an answer to their query) carries Sign off, Query and PDF; a
provider's copy of a query carries Answer. A button holds the review (or query) and the version it was shown
for, never more than Telegram's 64 bytes, and every press is checked again against the database: a button on
a version since replaced is refused in words. The markup is Telegram's InlineKeyboardMarkup as plain data
(`reply_markup` in an outbox row's headers, read by the Telegram transport).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SIGN_OFF, QUERY, PDF, ANSWER, OPEN = "s", "q", "p", "a", "o"
_DATA = re.compile(r"^rv:([sqpao]):(\d{1,12})(?::(\d{1,12}))?$")


@dataclass(frozen=True)
class Press:
    what: str  # s sign off | q query | p PDF | o show the return | a answer a query
    ref: int  # the review (s, q, p, o) or the query (a)
    submission_id: int | None = None  # the version the button was shown for

    @property
    def data(self) -> str:
        return f"rv:{self.what}:{self.ref}" + (f":{self.submission_id}" if self.submission_id is not None else "")


def parse(data: str | None) -> Press | None:
    match = _DATA.match(data or "")
    if match is None:
        return None
    version = int(match.group(3)) if match.group(3) else None
    if (match.group(1) != ANSWER) != (version is not None):
        return None
    return Press(match.group(1), int(match.group(2)), version)


def _markup(rows: list[list[tuple[str, Press]]]) -> dict[str, Any]:
    return {"inline_keyboard": [[{"text": text, "callback_data": press.data} for text, press in row]
                                for row in rows]}


def review_markup(review_id: int, submission_id: int, again: bool = False) -> dict[str, Any]:
    """Sign off, Query (again), PDF: on a return, or an answer, waiting for the commissioner."""
    return _markup([[("✅ Sign off", Press(SIGN_OFF, review_id, submission_id)),
                     ("❓ Query again" if again else "❓ Query", Press(QUERY, review_id, submission_id))],
                    [("📄 PDF report", Press(PDF, review_id, submission_id))]])


def answer_markup(query_id: int) -> dict[str, Any]:
    """Answer: on a query waiting for the provider."""
    return _markup([[("✍️ Answer", Press(ANSWER, query_id))]])


def open_markup(rows: list[tuple[str, int, int]]) -> dict[str, Any]:
    """One button per return waiting (its label, review, version): pressing it shows that return to review."""
    return _markup([[(label[:60], Press(OPEN, review_id, submission_id))] for label, review_id, submission_id in rows])


def presses_in(markup: dict[str, Any] | None) -> list[Press]:
    """The review buttons of a message's markup (as Telegram gives back a replied-to message)."""
    found = []
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            press = parse(button.get("callback_data"))
            if press is not None:
                found.append(press)
    return found
