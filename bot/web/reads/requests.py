"""Requests for information as the workspace shows them: which a person may see is bot/plans/requests.py's
(`requests_for`, by bot/authz/policy.py); this adds names, dates in words and whether each is overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from bot.plans.requests import requests_for
from bot.reports import display
from bot.storage.models import Contact, Contract, Organisation
from bot.storage.plan_models import InfoRequest
from bot.web.reads.provider import when_due


@dataclass(frozen=True)
class RequestItem:
    id: int
    contract_name: str
    provider_name: str
    what: str
    detail: str
    due: str  # `22 October 2025`
    when: str  # `due in 2 days`, `3 days overdue`
    overdue: bool
    asked: str  # `Carol Jones on 20 October 2025 at 09:00`
    answered: str  # `Alice Smith on 21 October 2025 at 10:15`, or ''
    filename: str
    size: str  # `12 KB`
    note: str
    on_time: bool | None


@dataclass(frozen=True)
class Requests:
    open: tuple[RequestItem, ...]
    answered: tuple[RequestItem, ...]


def size_text(count: int) -> str:
    return f"{count / 1048576:.1f} MB" if count >= 1048576 else f"{max(1, round(count / 1024))} KB"


def requests_page(session: Session, contact: Contact, today: date, zone: str) -> Requests:
    """The requests `contact` may see: open ones by deadline, then answered ones, the latest answer first."""
    found = requests_for(session, contact, include_answered=True)
    if not found:
        return Requests((), ())
    contracts = {c.id: c for c in session.exec(select(Contract).where(
        col(Contract.id).in_({r.contract_id for r in found})))}
    names = dict(session.exec(select(Organisation.id, Organisation.name)).all())
    ids = {r.asked_by for r in found} | {r.answered_by for r in found if r.answered_by is not None}
    people: dict[int, str] = {i: n for i, n in session.exec(select(Contact.id, Contact.name).where(
        col(Contact.id).in_(ids))).all() if i is not None}
    items = [_item(r, contracts[r.contract_id], names, people, today, zone) for r in found]
    answered = sorted((i for i, r in zip(items, found) if r.state == "answered"),
                      key=lambda i: -i.id)
    return Requests(tuple(i for i, r in zip(items, found) if r.state == "open"), tuple(answered))


def _item(r: InfoRequest, contract: Contract, names: dict[str, str], people: dict[int, str], today: date,
          zone: str) -> RequestItem:
    when, overdue = when_due(r.due, today)
    answered = (f"{people.get(r.answered_by, 'the provider')} on {display.moment(r.answered_at, zone)}"
                if r.answered_by is not None and r.answered_at is not None else "")
    return RequestItem(r.id or 0, contract.name, names.get(contract.provider_id, contract.provider_id), r.what,
                       r.detail, display.day(r.due), when, overdue and r.state == "open",
                       f"{people.get(r.asked_by, 'the council')} on {display.moment(r.asked_at, zone)}", answered,
                       r.filename, size_text(r.size) if r.size else "", r.note, r.on_time)
