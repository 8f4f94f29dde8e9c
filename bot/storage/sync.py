"""Bring the database in line with config.toml: organisations, contacts, contracts and their obligations.

Idempotent: running it twice changes nothing the second time. Nothing is deleted: a contact removed from the
configuration is made inactive, because the audit log and old submissions still name them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import NotRequired, TypedDict

from sqlmodel import Session, select

from bot import config
from bot.storage.audit import record
from bot.storage.db import insert_ignore
from bot.storage.models import (
    Contact,
    ContactContract,
    Contract,
    Obligation,
    Organisation,
)
from kpi_core import loader
from kpi_core.calendar import ReportingYear
from kpi_core.duedates import due_date
from kpi_core.framework.returns import ReturnType


class _ContractFields(TypedDict):
    """The columns of a contract row that config.toml sets."""

    name: str
    framework_id: str
    framework_version: str
    provider_id: str
    commissioner_id: str
    value: Decimal
    start: date
    end: date | None
    year_start_month: int


class _ContactFields(TypedDict):
    """The columns of a contact row that config.toml sets (a Telegram chat only when it names one)."""

    name: str
    organisation_id: str
    role: str
    channel: str
    active: bool
    telegram_chat_id: NotRequired[int]


def sync_settings(session: Session, settings: config.Settings, now: datetime) -> dict[str, int]:
    """Upsert organisations, contracts and contacts from `settings`; return counts of rows changed."""
    changed = {"organisations": 0, "contracts": 0, "contacts": 0}
    for org in settings.organisations:
        org_row = session.get(Organisation, org.id)
        if org_row is None:
            session.add(Organisation(id=org.id, name=org.name, kind=org.kind))
            changed["organisations"] += 1
        elif (org_row.name, org_row.kind) != (org.name, org.kind):
            org_row.name, org_row.kind = org.name, org.kind
            changed["organisations"] += 1
    session.flush()
    for c in settings.contracts:
        fw = loader.get(c.framework)
        terms = _ContractFields(name=c.name, framework_id=c.framework, framework_version=fw.version,
                                provider_id=c.provider, commissioner_id=c.commissioner, value=c.value, start=c.start,
                                end=c.end, year_start_month=c.start_month)
        contract_row = session.get(Contract, c.id)
        if contract_row is None:
            session.add(Contract(id=c.id, **terms))
            changed["contracts"] += 1
        elif any(getattr(contract_row, k) != v for k, v in terms.items()):
            for key, value in terms.items():
                setattr(contract_row, key, value)
            changed["contracts"] += 1
    session.flush()
    configured = {c.email for c in settings.contacts}
    for person in settings.contacts:
        row = session.exec(select(Contact).where(Contact.email == person.email)).first()
        wanted = _ContactFields(name=person.name, organisation_id=person.organisation, role=person.role,
                                channel=person.channel, active=True)
        if person.telegram_chat_id is not None:  # else keep the chat linked with an invite (`/start CODE`)
            wanted["telegram_chat_id"] = person.telegram_chat_id
        if row is None:
            row = Contact(email=person.email, **wanted)
            session.add(row)
            changed["contacts"] += 1
        elif any(getattr(row, k) != v for k, v in wanted.items()):
            for key, value in wanted.items():
                setattr(row, key, value)
            changed["contacts"] += 1
        session.flush()
        contact_id = row.id
        assert contact_id is not None  # the flush gave a new contact its id
        scope = {link.contract_id for link in session.exec(select(ContactContract).where(
            ContactContract.contact_id == contact_id))}
        if scope != set(person.contracts):
            for link in session.exec(select(ContactContract).where(ContactContract.contact_id == contact_id)):
                session.delete(link)
            session.flush()
            session.add_all(ContactContract(contact_id=contact_id, contract_id=cid) for cid in person.contracts)
            changed["contacts"] += 1
    for stale in session.exec(select(Contact).where(Contact.active == True)):  # noqa: E712
        if stale.email not in configured:
            stale.active = False
            changed["contacts"] += 1
    if any(changed.values()):
        record(session, now, "system", "config_synced", settings.source, changed)
    session.flush()
    return changed


def ensure_obligations(session: Session, contract: Contract, until: date,
                       returns: Mapping[str, ReturnType] | None = None) -> int:
    """Create the obligations of `contract` for every period that has started by `until` (never beyond the
    contract's end); return how many. `returns` are the contract's returns (its terms; default: the framework's).
    Safe when another process creates the same obligations at the same moment."""
    new = obligations_missing(session, contract, until, returns)
    created = insert_ignore(session, Obligation, new)
    session.flush()
    return created


def obligations_missing(session: Session, contract: Contract, until: date,
                        returns: Mapping[str, ReturnType] | None = None) -> list[dict[str, object]]:
    """The obligations `ensure_obligations` would create, as rows; an obligation whose due date the contract's
    terms have since changed is updated in the session (so it is dirty there)."""
    returns = loader.get(contract.framework_id).returns if returns is None else returns
    existing = {(o.return_type, o.period_id): o for o in session.exec(
        select(Obligation).where(Obligation.contract_id == contract.id))}
    new: list[dict[str, object]] = []
    year = ReportingYear.containing(contract.start, contract.year_start_month)
    last = min(until, contract.end) if contract.end else until
    while year.start <= last:
        for return_type, spec in returns.items():
            for period in year.periods(spec.frequency):
                if period.end < contract.start or period.start > last:
                    continue
                due = due_date(period, spec.due)
                row = existing.get((return_type, period.id))
                if row is None:
                    new.append(dict(contract_id=contract.id, return_type=return_type, period_id=period.id,
                                    period_start=period.start, period_end=period.end, due_date=due,
                                    escalation_level=0))
                elif row.due_date != due:
                    row.due_date = due  # the contract's due rule changed: its notices fall on other days
                    row.next_notice_on = None
        year = year.next()
    return new
