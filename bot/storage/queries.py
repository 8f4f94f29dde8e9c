"""Reads the application needs more than once: current versions, history for the year to date, permissions."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.storage.db import fetch_rows
from bot.storage.models import DataValue, Obligation, Submission
from kpi_core.calendar import Period
from kpi_core.values import Key


def values_of(session: Session, submission_id: int, period_id: str) -> dict[Key, Fraction]:
    rows = session.exec(select(DataValue).where(DataValue.submission_id == submission_id,
                                                DataValue.period_id == period_id))
    return {(r.item_id, r.breakdown): Fraction(r.exact) for r in rows}


def accepted_versions(session: Session, contract_id: str, return_type: str,
                      periods: Iterable[Period]) -> dict[str, int]:
    """The accepted version in force for each period that has one: period id -> submission id."""
    wanted = {p.id for p in periods}
    if not wanted:
        return {}
    rows = session.exec(
        select(col(Obligation.period_id), col(Submission.id))
        .join(Submission, col(Submission.obligation_id) == col(Obligation.id))
        .where(Obligation.contract_id == contract_id, Obligation.return_type == return_type,
               col(Obligation.period_id).in_(wanted), Submission.status == "accepted")
    )
    return {period_id: submission_id for period_id, submission_id in rows if submission_id is not None}


def values_of_versions(session: Session, versions: dict[str, int]) -> dict[str, dict[Key, Fraction]]:
    """The stored figures of each period's given version (as `accepted_versions` returns them)."""
    if not versions:
        return {}
    # Columns, not ORM objects: a year of a large framework is thousands of rows, read on every submission.
    rows = fetch_rows(session, sa.select(
        col(DataValue.period_id), col(DataValue.submission_id), col(DataValue.item_id), col(DataValue.breakdown),
        col(DataValue.exact)).where(col(DataValue.submission_id).in_(set(versions.values())),
                                    # each version also keeps the history it was judged with: not wanted here
                                    col(DataValue.period_id).in_(set(versions))))
    found: dict[str, dict[Key, Fraction]] = {period_id: {} for period_id in versions}
    for period_id, submission_id, item_id, breakdown, exact in rows:
        if versions.get(period_id) == submission_id:
            found[period_id][(item_id, breakdown)] = Fraction(exact)
    return found


def accepted_values(session: Session, contract_id: str, return_type: str,
                    periods: Iterable[Period]) -> dict[str, dict[Key, Fraction]]:
    """The figures of the accepted version in force for each period that has one, by period id."""
    return values_of_versions(session, accepted_versions(session, contract_id, return_type, periods))


def obligation_for(session: Session, contract_id: str, return_type: str, period_id: str) -> Obligation | None:
    return session.exec(select(Obligation).where(Obligation.contract_id == contract_id,
                                                 Obligation.return_type == return_type,
                                                 Obligation.period_id == period_id)).first()
