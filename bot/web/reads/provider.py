"""A provider's page: the returns due and when (with the workbook to fill in), and their own history of returns
sent. (A commissioner sees the same for every contract they may see: they may upload on the provider's behalf.)

Three queries: the contracts they may see, the returns owed, and the versions received.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from bot import config
from bot.assessment.in_context import terms_of
from bot.authz.policy import visible_contracts
from bot.reports import display
from bot.review.listing import waiting_for
from bot.storage.models import Contact, Contract, Obligation, Submission
from bot.web.reads.returns import CHANNEL_WORDS, STATUS_WORDS
from kpi_core.calendar import parse_period
from kpi_core.formatting import plural

HISTORY = 50


@dataclass(frozen=True)
class Owed:
    obligation_id: int
    contract_name: str
    return_label: str  # `Quarterly monitoring return`
    period_label: str
    due: str
    when: str  # `due in 12 days`, `due today`, `6 days overdue`
    overdue: bool
    tried: str  # what became of the latest attempt, when one was not accepted


@dataclass(frozen=True)
class Sent:
    obligation_id: int
    contract_name: str
    period_label: str
    version: int | None
    received: str
    channel: str
    outcome: str


@dataclass(frozen=True)
class ProviderPage:
    owed: tuple[Owed, ...]
    history: tuple[Sent, ...]
    choices: tuple[Owed, ...]  # what an upload may be for: every return owed whose period has begun
    queries: tuple[Query, ...] = ()  # the council's queries waiting for their answer


@dataclass(frozen=True)
class Query:
    obligation_id: int
    contract_name: str
    period_label: str
    version: int
    reason: str
    respond_by: str  # `Wednesday 29 October 2025`
    overdue: bool


def queries_for(session: Session, contact: Contact, today: date) -> tuple[Query, ...]:
    """The queries waiting on `contact`'s answer, oldest first (bot/review/listing.py: a provider's are the
    queries of the contracts they may see)."""
    found = []
    for w in waiting_for(session, contact):
        if w.on != "provider":
            continue
        contract = session.get(Contract, w.contract_id)  # in the session already: visible_contracts read it
        period = parse_period(w.period_id, contract.year_start_month if contract else 4)
        found.append(Query(w.obligation_id, w.contract_name, period.label, w.version, w.reason,
                           display.day(w.respond_by) if w.respond_by else "", w.overdue(today)))
    return tuple(found)


def when_due(due: date, today: date) -> tuple[str, bool]:
    days = (due - today).days
    if days > 0:
        return f"due in {plural(days, 'day')}", False
    if days == 0:
        return "due today", False
    return f"{plural(-days, 'day')} overdue", True


def provider_page(session: Session, settings: config.Settings, contact: Contact, today: date) -> ProviderPage:
    contracts = {c.id: c for c in visible_contracts(session, contact)}
    if not contracts:
        return ProviderPage((), (), ())
    obligations = session.exec(select(Obligation).where(col(Obligation.contract_id).in_(list(contracts)),
                                                        col(Obligation.period_start) <= today)
                               .order_by(col(Obligation.due_date), col(Obligation.contract_id))).all()
    by_id = {o.id: o for o in obligations}
    subs = session.exec(select(Submission).where(col(Submission.obligation_id).in_(list(by_id)))
                        .order_by(col(Submission.received_at).desc(), col(Submission.id).desc())).all()
    latest: dict[int, Submission] = {}
    for s in subs:
        if s.obligation_id is not None:
            latest.setdefault(s.obligation_id, s)
    labels: dict[int, tuple[str, str]] = {}
    owed, choices = [], []
    for o in obligations:
        assert o.id is not None
        contract = contracts[o.contract_id]
        period = parse_period(o.period_id, contract.year_start_month)
        returns = terms_of(settings, contract, period).returns
        label = returns[o.return_type].label if o.return_type in returns else o.return_type
        labels[o.id] = (contract.name, period.label)
        text, overdue = when_due(o.due_date, today)
        tried = latest.get(o.id)
        item = Owed(o.id, contract.name, label, period.label, display.day(o.due_date), text, overdue,
                    STATUS_WORDS.get(tried.status, "") if tried and tried.status != "accepted" else "")
        choices.append(item)
        if o.first_accepted_at is None:
            owed.append(item)
    history = tuple(Sent(s.obligation_id or 0, *labels[s.obligation_id or 0], s.version,
                         display.moment(s.received_at, settings.timezone), CHANNEL_WORDS.get(s.channel, s.channel),
                         STATUS_WORDS.get(s.status, s.status)) for s in subs[:HISTORY])
    return ProviderPage(tuple(owed), history, tuple(reversed(choices)), queries_for(session, contact, today))
