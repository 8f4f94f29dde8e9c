"""What the sweep reads: the returns owed that may need a notice, in a few set-based queries.

"Accepted" means as of the sweep's `now`: an obligation's first accepted version received by then. A return that
was received but rejected, held or not processed still owes (reminders and overdue notices go on), and a sweep
run for a moment in the past (the demo's replay) sees only what had arrived by then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.storage.db import fetch_rows
from bot.storage.models import Contract, Notice, Obligation, Organisation, Submission
from jobs.messages import day_text, short_day
from jobs.notices import About
from jobs.timing import Clock
from kpi_core import loader
from kpi_core.calendar import parse_period

LADDER_LOOKBACK = timedelta(days=400)  # periods older than this are not escalated for the first time
STATE = {  # what a sender is told about a version received but not accepted
    "rejected": "The version received on {day} was not accepted: the reply sent then lists what to correct.",
    "held": "A file received on {day} is waiting for you to say which return it is: see the reply sent then.",
    "failed": "A file received on {day} could not be processed because of a fault on our side; kpibot's "
              "administrators have been told, and you need not send it again.",
}


@dataclass(frozen=True)
class Owed:
    """An obligation with its contract's details, as the candidate queries return it."""

    id: int
    contract_id: str
    return_type: str
    period_id: str
    due: date
    first_accepted_at: datetime | None
    escalation_level: int
    contract_name: str
    framework_id: str
    provider_id: str
    commissioner_id: str
    year_start_month: int
    next_notice_on: date | None = None  # jobs/next_notice.py (read by `candidates` only)
    ladder_decided: bool = False  # its place on the escalation ladder is recorded (read by `candidates` only)

    def accepted_by(self, now: datetime) -> bool:
        return self.first_accepted_at is not None and self.first_accepted_at <= now

    def late(self, clock: Clock) -> bool:
        """Its first accepted version came after the due date (Europe/London date), or none has come yet."""
        return self.first_accepted_at is None or clock.local_date(self.first_accepted_at) > self.due

    @property
    def pair(self) -> tuple[str, str]:
        return self.contract_id, self.return_type


COLUMNS = (col(Obligation.id), col(Obligation.contract_id), col(Obligation.return_type), col(Obligation.period_id),
           col(Obligation.due_date), col(Obligation.first_accepted_at), col(Obligation.escalation_level),
           col(Contract.name), col(Contract.framework_id), col(Contract.provider_id), col(Contract.commissioner_id),
           col(Contract.year_start_month))


def _owed(session: Session, clock: Clock, *where: sa.ColumnElement[bool]) -> list[Owed]:
    """Obligations `where` says, leaving out those due before the scheduler's `chase_from` (kpibot's pre-history:
    not chased, and never part of a run of late periods)."""
    if clock.since is not None:
        where = (*where, col(Obligation.due_date) >= clock.since)
    query = sa.select(*COLUMNS).join(Contract, col(Contract.id) == Obligation.contract_id).where(*where)
    # Twelve columns, past the ten select() gives types to: Owed's fields say what each one is.
    rows: Sequence[Sequence[Any]] = fetch_rows(session, query.order_by(col(Obligation.id)))
    return [Owed(*row) for row in rows]


def candidates(session: Session, clock: Clock, full: bool) -> list[Owed]:
    """The obligations a sweep looks at: those whose next notice day has come or is not worked out yet, read
    through the index on that day, so a sweep on a day with nothing due reads nothing. With `full`, also every
    obligation that may still need a notice (not accepted, or not yet placed on the escalation ladder): the days
    written under other settings are worked out again."""
    day = col(Obligation.next_notice_on)
    looked: sa.ColumnElement[bool] = sa.or_(day.is_(None), day <= clock.today)
    if full:
        decided = sa.exists().where(col(Notice.obligation_id) == Obligation.id, col(Notice.kind) == "ladder")
        looked = sa.or_(looked, not_accepted(clock.now),
                        sa.and_(col(Obligation.due_date) >= clock.today - LADDER_LOOKBACK, ~decided))
        if clock.since is not None:
            looked = sa.and_(looked, col(Obligation.due_date) >= clock.since)
    query = sa.select(*COLUMNS, day).join(Contract, col(Contract.id) == Obligation.contract_id).where(looked)
    rows: Sequence[Sequence[Any]] = fetch_rows(session, query)  # sorted here: in SQL, SQLite would scan by id
    owed = sorted((Owed(*row) for row in rows), key=lambda o: o.id)
    placed = _placed(session, [o.id for o in owed if o.due < clock.today])
    return [replace(o, ladder_decided=True) if o.id in placed else o for o in owed]


def _placed(session: Session, ids: list[int]) -> set[int]:
    """Which of these obligations have their place on the escalation ladder recorded: looked up by id, so the
    cost follows the obligations read, not every ladder decision ever made."""
    found: set[int] = set()
    for start in range(0, len(ids), 500):
        found.update(oid for oid in session.exec(select(col(Notice.obligation_id)).where(
            col(Notice.kind) == "ladder", col(Notice.obligation_id).in_(ids[start:start + 500]))) if oid is not None)
    return found


def not_accepted(now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(col(Obligation.first_accepted_at).is_(None), col(Obligation.first_accepted_at) > now)


def overdue(session: Session, clock: Clock, *where: sa.ColumnElement[bool]) -> list[Owed]:
    """Returns past their due date and not accepted (of the contracts `where` selects)."""
    return _owed(session, clock, col(Obligation.due_date) < clock.today, not_accepted(clock.now), *where)


def history(session: Session, contract_ids: Iterable[str], clock: Clock) -> dict[tuple[str, str], list[Owed]]:
    """Every obligation of these contracts due before today, by contract and return type, oldest first."""
    ids = sorted(set(contract_ids))
    found: dict[tuple[str, str], list[Owed]] = {}
    for start in range(0, len(ids), 500):
        for owed in _owed(session, clock, col(Obligation.contract_id).in_(ids[start:start + 500]),
                          col(Obligation.due_date) < clock.today):
            found.setdefault(owed.pair, []).append(owed)
    for rows in found.values():
        rows.sort(key=lambda o: (o.due, o.id))
    return found


def states(session: Session, obligation_ids: Iterable[int], clock: Clock) -> dict[int, str]:
    """For obligations whose latest file by `now` was not accepted: a sentence saying so."""
    ids = sorted(set(obligation_ids))
    latest: dict[int, tuple[datetime, str]] = {}
    for start in range(0, len(ids), 500):
        rows = session.exec(select(col(Submission.obligation_id), col(Submission.received_at), col(Submission.status))
                            .where(col(Submission.obligation_id).in_(ids[start:start + 500]),
                                   col(Submission.received_at) <= clock.now)).all()
        for obligation_id, received_at, status in rows:
            if obligation_id is None:  # never: the query asks for these obligations' files
                continue
            if obligation_id not in latest or received_at >= latest[obligation_id][0]:
                latest[obligation_id] = (received_at, status)
    return {oid: STATE[status].format(day=short_day(clock.local_date(at)))
            for oid, (at, status) in latest.items() if status in STATE}


class Describer:
    """Names returns the way every notice names them (framework labels, period labels, provider names)."""

    def __init__(self, session: Session, states: dict[int, str] | None = None) -> None:
        self.providers = dict(session.exec(select(Organisation.id, Organisation.name)).all())
        self.states = states or {}

    def about(self, owed: Owed) -> About:
        spec = loader.get(owed.framework_id).returns.get(owed.return_type)
        period = parse_period(owed.period_id, owed.year_start_month)
        return About(owed.contract_id, owed.contract_name, self.providers.get(owed.provider_id, owed.provider_id),
                     spec.label if spec else owed.return_type, period.label, period.label.split(" (")[0],
                     day_text(owed.due), short_day(owed.due), self.states.get(owed.id, ""))
