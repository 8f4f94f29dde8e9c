"""Reads the application needs more than once: current versions, history for the year to date, permissions."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction

from sqlmodel import Session, select

from bot.storage.models import Contact, ContactContract, Contract, DataValue, Obligation, Submission
from kpi_core.calendar import Period
from kpi_core.values import Key

PROVIDER_ROLES = ("provider_submitter", "provider_manager")


def contracts_for(session: Session, contact: Contact) -> list[Contract]:
    """The contracts a contact may submit returns for (providers) or oversees (commissioners)."""
    column = Contract.commissioner_id if contact.role == "commissioner" else Contract.provider_id
    contracts = list(session.exec(select(Contract).where(column == contact.organisation_id).order_by(Contract.id)))
    scope = {link.contract_id for link in session.exec(
        select(ContactContract).where(ContactContract.contact_id == contact.id))}
    return [c for c in contracts if not scope or c.id in scope]


def current_submission(session: Session, obligation_id: int) -> Submission | None:
    """The accepted version in force for an obligation, if any."""
    return session.exec(select(Submission).where(Submission.obligation_id == obligation_id,
                                                 Submission.status == "accepted")).first()


def values_of(session: Session, submission_id: int, period_id: str) -> dict[Key, Fraction]:
    rows = session.exec(select(DataValue).where(DataValue.submission_id == submission_id,
                                                DataValue.period_id == period_id))
    return {(r.item_id, r.breakdown): Fraction(r.exact) for r in rows}


def accepted_values(session: Session, contract_id: str, return_type: str,
                    periods: Iterable[Period]) -> dict[str, dict[Key, Fraction]]:
    """The figures of the accepted version in force for each period that has one, by period id."""
    wanted = {p.id for p in periods}
    if not wanted:
        return {}
    rows = session.exec(
        select(Obligation, Submission)
        .join(Submission, Submission.obligation_id == Obligation.id)
        .where(Obligation.contract_id == contract_id, Obligation.return_type == return_type,
               Obligation.period_id.in_(wanted), Submission.status == "accepted")  # type: ignore[attr-defined]
    )
    return {obligation.period_id: values_of(session, submission.id, obligation.period_id)  # type: ignore[arg-type]
            for obligation, submission in rows}


def history_for(session: Session, contract_id: str, return_type: str, period: Period) -> dict[str, dict[Key, Fraction]]:
    """Accepted figures of the earlier periods of the year and of the previous period."""
    return accepted_values(session, contract_id, return_type, [*period.earlier_in_year(), period.previous()])


def obligation_for(session: Session, contract_id: str, return_type: str, period_id: str) -> Obligation | None:
    return session.exec(select(Obligation).where(Obligation.contract_id == contract_id,
                                                 Obligation.return_type == return_type,
                                                 Obligation.period_id == period_id)).first()
