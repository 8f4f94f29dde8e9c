"""The council's queries chased like returns: a reminder before the response deadline, overdue notices after it.

A query waits for the provider's answer until its `respond_by` date (`[review] response_working_days` working
days after it was asked). Reminders go `[review] reminder_days` before it (on the working day before when it
falls on a holiday, never before the query was asked, never after the deadline); overdue notices the working
day after it, then every `[scheduler] overdue_every_days` up to `overdue_max`, as for returns. Each is keyed by
query and stage, so it goes once; an answer, a corrected version or a sign-off closes the query and stops them.
They go to the provider's submitters and managers, each on their channel, Telegram copies with the Answer button.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

from sqlmodel import Session, col, select

from bot import config
from bot.assessment.reviews import Waiting, waiting
from bot.review import about as subjects
from bot.review.buttons import answer_markup
from bot.storage.models import Contract, Obligation
from jobs.messages import day_text, days_text, render, short_day, when_text
from jobs.notices import About
from jobs.owed import COLUMNS, Describer, Owed
from jobs.queueing import Decision, Outgoing
from jobs.recipients import Directory
from jobs.timing import Clock, due_overdue, due_reminder, reminder_day
from kpi_core import loader

PROVIDER = ("provider_submitter", "provider_manager")
Planned = tuple[Decision, Callable[..., None]]


@dataclass(frozen=True)
class Asked:
    """A query as a reminder names it."""

    a: About
    version: int
    asked: str  # `3 October 2025`
    respond_by: str  # `Friday 10 October 2025`
    reason: str
    about: tuple[str, ...]


def query_decisions(session: Session, settings: config.Settings,
                    clock: Clock) -> list[tuple[str, Callable[[], Planned]]]:
    """The reminder or overdue notice each open query needs now, by key (made only when the key is new)."""
    s, r = settings.scheduler, settings.review
    found: list[tuple[str, Callable[[], Planned]]] = []
    for item in waiting(session):
        if item.on != "provider" or item.respond_by is None or item.query_id is None or item.asked_at is None \
                or item.asked_at > clock.now:
            continue
        days = due_reminder(item.respond_by, r.reminder_days, clock.today)
        if days is not None and reminder_day(item.respond_by, days) > clock.local_date(item.asked_at):
            key = f"query-reminder:q{item.query_id}:d{days}"
            found.append((key, partial(_notice, session, key, item, "query_reminder", clock, 0,
                                       when=when_text((item.respond_by - clock.today).days))))
        n = due_overdue(item.respond_by, clock.today, s.overdue_every_days, s.overdue_max)
        if n is not None:
            key = f"query-overdue:q{item.query_id}:n{n}"
            found.append((key, partial(_notice, session, key, item, "query_overdue", clock, n,
                                       overdue=days_text((clock.today - item.respond_by).days))))
    return found


def _notice(session: Session, key: str, item: Waiting, kind: str, clock: Clock, number: int,
            **words: object) -> Planned:
    query = select(*COLUMNS).join(Contract, col(Contract.id) == Obligation.contract_id)  # type: ignore[call-overload]
    row = session.exec(query.where(Obligation.id == item.obligation_id)).one()
    owed = Owed(*row)
    decision = Decision(key, kind, kind, owed.id, number, organisations=(owed.provider_id,))

    def build(session: Session, directory: Directory, describer: Describer) -> None:
        framework = loader.get(owed.framework_id)
        asked = Asked(describer.about(owed), item.version, short_day(clock.local_date(item.asked_at or clock.now)),
                      day_text(item.respond_by) if item.respond_by else "", item.reason,
                      tuple(subjects.shown(framework, item.about)))
        for person in directory.people(owed.provider_id, owed.contract_id, PROVIDER):
            message = render(kind, person, q=asked, **words)
            if not person.email and item.query_id is not None:
                message = replace(message, markup=answer_markup(item.query_id))
            decision.outgoing.append(Outgoing(person, message))
    return decision, build
