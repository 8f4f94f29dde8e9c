"""Finding returns to act on, and what waits on whom, for the command line, chat and the scheduler.

A person names a return by contract and period (and version, when they mean an older one); `find` turns that into
the review to act on, or refuses in words. `waiting_for` is what waits on a person: a commissioner sees the
returns of their contracts waiting for review and the queries waiting for the provider; a provider's contact
sees the queries waiting for their answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from bot import config
from bot.assessment.in_context import framework_for, terms_of
from bot.assessment.reviews import Waiting, review_of, waiting
from bot.authz.policy import is_commissioner, visible_contracts
from bot.reports import display
from bot.review.scene import Refused
from bot.storage.models import Contact, Contract, Submission
from bot.storage.queries import obligation_for
from bot.storage.review_models import Review
from kpi_core.assess import ReturnTypeError, return_type_for
from kpi_core.calendar import PeriodError, parse_period


@dataclass(frozen=True)
class Found:
    review: Review
    submission_id: int  # the version meant: the one under review unless an older one was named


def contact_by_email(session: Session, email: str) -> Contact:
    contact = session.exec(select(Contact).where(Contact.email == email.strip().lower(),
                                                 Contact.active == True)).first()  # noqa: E712
    if contact is None:
        raise Refused(f"{email} is not an active contact in the configuration; name a registered person with --as.",
                      "unknown")
    return contact


def find(session: Session, contract_id: str, period_text: str, version: int | None = None) -> Found:
    """The review of a contract's return for a period, and the version meant."""
    contract = session.get(Contract, contract_id)
    if contract is None:
        known = ", ".join(c.id for c in session.exec(select(Contract).order_by(Contract.id))) or "none"
        raise Refused(f"There is no contract {contract_id!r} (contracts: {known}).", "unknown")
    try:
        period = parse_period(period_text, contract.year_start_month)
        return_type = return_type_for(framework_for(contract, period), period)
    except (PeriodError, ReturnTypeError) as exc:
        raise Refused(str(exc), "bad_period") from None
    obligation = obligation_for(session, contract.id, return_type, period.id)
    review = review_of(session, obligation.id) if obligation is not None else None
    if review is None:
        raise Refused(f"No version of {contract.name}'s return for {period.label} has been accepted, so there is "
                      "nothing to review.", "nothing")
    if version is None or version == review.version:
        return Found(review, review.submission_id)
    older = session.exec(select(Submission).where(Submission.obligation_id == review.obligation_id,
                                                  Submission.version == version)).first()
    if older is None or older.id is None:
        raise Refused(f"{contract.name}, {period.label} has no version {version}; version {review.version} is "
                      "under review.", "unknown")
    return Found(review, older.id)


def waiting_for(session: Session, contact: Contact) -> list[Waiting]:
    """What waits on `contact` (a commissioner: everything unsigned of their contracts; a provider: queries)."""
    found = waiting(session, [c.id for c in visible_contracts(session, contact)])
    return found if is_commissioner(contact) else [w for w in found if w.on == "provider"]


def describe(session: Session, settings: config.Settings, item: Waiting, today: date) -> str:
    """`City and Hackney Stop Smoking Service, quarterly monitoring return for Q2 2025-26 (July 2025 to
    September 2025), version 1: waiting for the council's review since 1 October 2025 at 10:00`."""
    contract = session.get(Contract, item.contract_id)
    assert contract is not None
    period = parse_period(item.period_id, contract.year_start_month)
    returns = terms_of(settings, contract, period).returns
    label = returns[item.return_type].label.lower() if item.return_type in returns else item.return_type
    head = f"{item.contract_name}, {label} for {period.label}, version {item.version}"
    if item.on == "provider":
        by = f", to be answered by {display.day(item.respond_by)}" if item.respond_by else ""
        late = " (OVERDUE)" if item.overdue(today) else ""
        return f"{head}: queried on {display.moment(item.asked_at, settings.timezone)}{by}{late}"
    what = "answered: waiting for the council" if item.state == "answered" else "waiting for the council's review"
    return f"{head}: {what} since {display.moment(item.since, settings.timezone)}"


def short_label(session: Session, item: Waiting) -> str:
    """`City and Hackney Stop Smoking Service Q2 2025-26`: a button's words."""
    contract = session.get(Contract, item.contract_id)
    start = contract.year_start_month if contract else 4
    period = parse_period(item.period_id, start)
    when = period.year.id if period.frequency == "annual" else f"{period.id.rsplit('-', 1)[-1]} {period.year.id}"
    return f"{item.contract_name} {when}"


MAX_BUTTONS = 10  # a chat keyboard stays short; the list says how many more there are


@dataclass(frozen=True)
class Overview:
    """What waits on a person, for a chat: the words, and a button for each return they may act on."""

    text: str
    markup: dict | None  # type: ignore[type-arg]


def overview(session: Session, settings: config.Settings, contact: Contact, today: date) -> Overview:
    """`/review`: a commissioner's returns waiting for review (each with a button that shows it with Sign off,
    Query and PDF) and the queries waiting for providers; a provider's queries waiting for their answer (each
    with an Answer button)."""
    from bot.review import buttons

    items = waiting_for(session, contact)
    commissioner = is_commissioner(contact)
    mine = [w for w in items if (w.on == "council") == commissioner]
    others = [w for w in items if w not in mine]
    if not items:
        return Overview("✅ Nothing waits for review." if commissioner else "✅ No query from the council waits for "
                        "your answer.", None)
    head = "🗂 Waiting for your review" if commissioner else "❓ Queries waiting for your answer"
    lines = [f"{head} ({len(mine)}):"] + [f"• {describe(session, settings, w, today)}" for w in mine]
    if others:
        lines += ["", f"⏳ Waiting for providers to answer a query ({len(others)}):"]
        lines += [f"• {describe(session, settings, w, today)}" for w in others]
    if len(mine) > MAX_BUTTONS:
        lines += ["", f"The buttons show the first {MAX_BUTTONS}, oldest first."]
    shown = mine[:MAX_BUTTONS]
    if commissioner:
        markup = buttons.open_markup([(f"📋 {short_label(session, w)}", w.review_id, w.submission_id)
                                      for w in shown]) if shown else None
    else:
        rows = [{"text": f"✍️ Answer: {short_label(session, w)}"[:60],
                 "callback_data": buttons.Press(buttons.ANSWER, w.query_id).data} for w in shown if w.query_id]
        markup = {"inline_keyboard": [[row] for row in rows]} if rows else None
    return Overview("\n".join(lines), markup)
