"""The council's review of a return as a report prints it: where it stands and its history, oldest first; and the
work still waiting for review, and queries overdue, as the exception report lists them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from bot.assessment.reviews import HistoryEntry, Waiting, history, review_of
from bot.reports import display
from bot.storage.models import Contact
from kpi_core.calendar import parse_period

CHANNELS = {"cli": "command line", "telegram": "Telegram", "email": "email", "web": "web workspace",
            "upgrade": "recorded when reviews began"}
STATES = {"waiting": "Waiting for the council's review", "queried": "Queried: waiting for the provider's answer",
          "answered": "Answered: waiting for the council", "signed_off": "Signed off"}


@dataclass(frozen=True)
class ReviewLine:
    when: str
    what: str  # `Queried by Carol (Telegram)`
    note: str  # the reason, answer or finding, as written


@dataclass(frozen=True)
class ReviewView:
    state: str  # `Signed off by Carol on 6 October 2025 at 10:30`
    lines: tuple[ReviewLine, ...]


def _what(entry: HistoryEntry) -> str:
    how = CHANNELS.get(entry.channel, entry.channel)
    v = f"version {entry.version}" if entry.version else "the return"
    return {
        "open": f"{v.capitalize()} received from {entry.actor} ({how}): waiting for review",
        "resubmit": f"{v.capitalize()} received from {entry.actor} ({how}), replacing the one before"
                    + (", in answer to the query" if entry.query_id else ""),
        "sign_off": f"{v.capitalize()} signed off by {entry.actor} ({how})",
        "query": f"{v.capitalize()} queried by {entry.actor} ({how})",
        "answer": f"Answered by {entry.actor} ({how})",
        "spot_check": f"Spot check of {v} by {entry.actor} ({how})",
    }.get(entry.action, f"{entry.action} by {entry.actor} ({how})")


def review_view(session: Session, obligation_id: int | None, timezone: str) -> ReviewView | None:
    """The review of a return, or None when no version of it has been accepted."""
    review = review_of(session, obligation_id)
    if review is None or review.id is None:
        return None
    entries = history(session, review.id)
    state = STATES.get(review.state, review.state)
    if review.state == "signed_off" and review.signed_off_by:
        signer = session.get(Contact, review.signed_off_by)
        state += f" by {signer.name if signer else 'the council'} on {display.moment(review.signed_off_at, timezone)}"
    else:
        state += f" since {display.moment(review.since, timezone)}"
    notes = {"open": "", "resubmit": ""}
    lines = tuple(ReviewLine(display.moment(e.at, timezone), _what(e), notes.get(e.action, e.note)) for e in entries)
    return ReviewView(f"{state} (version {review.version})", lines)


@dataclass(frozen=True)
class WaitingRow:
    """A return whose review waits, as the exception report lists it."""

    contract_name: str
    return_name: str  # `Quarterly return, Q2 2025-26 (July 2025 to September 2025), version 1`
    on: str  # `The council: to review` / `The provider: to answer by 8 October 2025`
    since: str
    overdue: bool


def waiting_rows(items: Iterable[Waiting], start_months: dict[str, int], labels: dict[str, str], today: date,
                 timezone: str) -> tuple[WaitingRow, ...]:
    """What waits for review and which queries are overdue: overdue queries first, then the oldest."""
    rows = []
    for w in items:
        period = parse_period(w.period_id, start_months.get(w.contract_id, 4)).label
        label = labels.get(w.return_type, w.return_type)
        if w.on == "provider":
            by = f" by {display.day(w.respond_by)}" if w.respond_by else ""
            on = f"The provider, to answer the council's query{by}" + (" (overdue)" if w.overdue(today) else "")
        else:
            on = "The council, to read the provider's answer" if w.state == "answered" else "The council, to review it"
        rows.append((not w.overdue(today), w.since, WaitingRow(
            w.contract_name, f"{label}, {period}, version {w.version}", on, display.moment(w.since, timezone),
            w.overdue(today))))
    return tuple(row for *_, row in sorted(rows, key=lambda r: (r[0], r[1])))
