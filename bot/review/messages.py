"""What a review's move tells, and to whom: the `tell` of its row in the table, queued in the same transaction.

Each audience is worked out from the contract (bot/authz says who plays which part), each person gets one message
per event on their channel (bot/outbox/addressing.py), written from templates/messages/<name>.* with values ready
to print (a `Story`), and each outbox row is linked to the event (and its query), so an email reply in the thread
of a query finds it. Telegram copies carry the review's buttons.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from bot import config
from bot.outbox.addressing import channel_of
from bot.outbox.transport import REPLY_MARKUP
from bot.reports import display
from bot.reports.templating import render_text  # no WeasyPrint: text needs none
from bot.review import buttons
from bot.review.table import Transition
from bot.storage.models import Contact, OutboxMessage
from bot.storage.review_models import ReviewEvent, ReviewMessage

EMAIL_HEADERS = {"Auto-Submitted": "auto-generated"}  # RFC 3834: kpibot wrote it, nobody typed it


@dataclass(frozen=True)
class Story:
    """What a review message says, every value ready to print."""

    contract_name: str
    provider_name: str
    return_label: str = ""  # `Quarterly monitoring return`
    period_label: str = ""  # `Q2 2025-26 (July 2025 to September 2025)`
    version: int | None = None
    who: str = ""  # the person who acted
    when: str = ""  # `6 October 2025 at 10:30`
    note: str = ""  # the reason, answer or finding, as written
    about: tuple[str, ...] = ()  # `1.5 Stretch target for 4 week quits`, `4-week quitters`
    asked: str = ""  # the day the query was asked
    respond_by: str = ""  # `Wednesday 8 October 2025`
    lead: str = ""  # the first line of a return shown for review: new, a correction, reopened...
    summary: str = ""  # the return's chat summary
    accuracy: str = ""  # how this counts against the accuracy of returns, or ''
    accurate: bool | None = None  # what a spot check found
    year: str = ""  # `2025-26`
    lines: tuple[str, ...] = ()  # payment arithmetic, and the returns it rests on
    amounts: tuple[str, ...] = ()  # `Payment by results on KPI 1.5: £9,000.00`
    again: bool = False  # a query asked again after an answer
    signed: str = ""  # who signed the version off, and when: `Carol on 6 October 2025 at 10:30`


@dataclass
class Audiences:
    """The people each audience of a table row means for this event (bot/review/table.py)."""

    by_name: Mapping[str, list[Contact]]
    exclude: int | None = None  # the person who acted is answered directly, not by a message
    seen: set[int] = field(default_factory=set)

    def people(self, audience: str) -> list[Contact]:
        """Those of `audience` not yet told of this event (the caller marks each one it tells as `seen`)."""
        return [c for c in self.by_name.get(audience, []) if c.id not in self.seen and c.id != self.exclude]


def render(name: str, channel: str, story: Story) -> tuple[str, str]:
    """(subject, text) of message `name` on `channel` (Telegram has no subject)."""
    if channel == "telegram":
        return "", render_text(f"messages/{name}.telegram.txt", s=story).strip()
    subject = " ".join(render_text(f"messages/{name}.email-subject.txt", s=story).split())
    return subject, render_text(f"messages/{name}.email.txt", s=story).strip() + "\n"


def markup_for(name: str, event: ReviewEvent, query_id: int | None) -> dict | None:  # type: ignore[type-arg]
    """The buttons a Telegram copy carries: the commissioner's on a return or an answer, Answer on a query."""
    if name in ("review_summary", "review_answered", "review_corrected", "review_reopened_council") \
            and event.review_id is not None and event.submission_id is not None:
        return buttons.review_markup(event.review_id, event.submission_id, again=name == "review_answered")
    if name == "review_queried" and query_id is not None:
        return buttons.answer_markup(query_id)
    return None


def tell(session: Session, settings: config.Settings, row: Transition, event: ReviewEvent, story: Story,
         audiences: Audiences, query_id: int | None = None) -> list[Contact]:
    """Queue the messages of `row` for `event`; return who was told. The return's summary with its buttons goes to
    Telegram only: by email, the weekly digest says what waits for review."""
    telegram = bool(settings.telegram_token)
    told: list[Contact] = []
    for line in row.tell:
        for contact in audiences.people(line.to):
            where = channel_of(contact, telegram)
            if where is None or (_telegram_only(line.template) and where[0] != "telegram"):
                continue
            audiences.seen.add(contact.id or 0)
            channel, address = where
            subject, text = render(line.template, channel, story)
            markup = markup_for(line.template, event, query_id) if channel == "telegram" else None
            headers = {REPLY_MARKUP: json.dumps(markup)} if markup else (dict(EMAIL_HEADERS) if channel == "email"
                                                                         else {})
            message = OutboxMessage(dedupe_key=f"review:e{event.id}:c{contact.id}:{channel}", created_at=event.at,
                                    contact_id=contact.id, channel=channel, address=address, kind="review",
                                    subject=subject[:300], body_text=text, next_attempt_at=event.at,
                                    headers=headers)
            session.add(message)
            session.flush()
            assert message.id is not None and event.id is not None
            session.add(ReviewMessage(outbox_id=message.id, event_id=event.id, query_id=query_id))
            told.append(contact)
    return told


def reaches(settings: config.Settings, row: Transition) -> bool:
    """Can `row` tell anyone at all? The return's summary goes to Telegram only: without a bot, a row that tells
    only that needs nobody read."""
    return bool(settings.telegram_token) or not all(_telegram_only(line.template) for line in row.tell)


def _telegram_only(template: str) -> bool:
    """The return's summary, with the commissioner's buttons, goes by Telegram only (the weekly digest says by email
    what waits for review)."""
    return template == "review_summary"


def when(moment: datetime | None, settings: config.Settings) -> str:
    return display.moment(moment, settings.timezone)


def names(contacts: Iterable[Contact]) -> str:
    found = [c.name for c in contacts]
    if not found:
        return "nobody (no contact with a working channel)"
    return found[0] if len(found) == 1 else ", ".join(found[:-1]) + " and " + found[-1]
