"""The day a deployment started, recorded once by the first `kpibot init`.

kpibot chases the returns that fall due while it runs. Returns due before the first `kpibot init` belong to the
time before kpibot (chased by hand, or already settled), so the scheduler leaves them alone unless `[scheduler]
chase_from` names an earlier day: a new deployment's first sweep sends no storm of overdue notices, escalations
and service failures about periods nobody asked it to watch.

A database an earlier kpibot loaded (it has contracts, but no row here) has no recorded start: it goes on chasing
every return, as it did, until `chase_from` says otherwise.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session, func, select

from bot.storage.db import insert_ignore
from bot.storage.models import Contract, Deployment


def started_on(session: Session) -> date | None:
    """The day this deployment started, or None when it was not recorded (a database from before kpibot did)."""
    row = session.get(Deployment, 1)
    return row.started_on if row is not None else None


def record_start(session: Session, day: date, now: datetime) -> bool:
    """Record `day` as the start of a database no kpibot has loaded yet (no start recorded, no contracts); return
    whether it was recorded. Call before loading the configuration, in the same transaction."""
    if session.get(Deployment, 1) is not None:
        return False
    if session.exec(select(func.count()).select_from(Contract)).one():
        return False  # loaded by a kpibot from before the start was recorded
    return insert_ignore(session, Deployment, dict(id=1, started_on=day, started_at=now)) == 1
