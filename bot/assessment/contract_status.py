"""Where every contract stands: each return owed, when it was due, whether and when it came, and its results."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from bot.assessment.reviews import state_of
from bot.assessment.submission_kpis import SubmissionKpis, local_date, submission_kpis
from bot.storage.models import Contract, IndicatorResultRow, Obligation, Submission
from kpi_core import loader
from kpi_core.escalation import escalation_rule_for
from kpi_core.framework.model import DataSubmissionTerms
from kpi_core.terms import ContractTerms, contract_terms


@dataclass(frozen=True)
class ObligationStatus:
    contract_id: str
    return_type: str
    period_id: str
    due_date: date
    state: str  # accepted | rejected | held | failed | missing | not due
    received_at: datetime | None
    version: int | None
    on_time: bool | None
    days_late: int | None
    counts: dict[str, int]
    review: str | None = None  # the council's review of the version in force: waiting | queried | answered | signed_off

    def as_dict(self) -> dict[str, object]:
        return {"return": self.return_type, "period": self.period_id, "due": self.due_date.isoformat(),
                "state": self.state, "received_at": self.received_at.isoformat() if self.received_at else None,
                "version": self.version, "on_time": self.on_time, "days_late": self.days_late,
                "counts": self.counts, "review": self.review}


@dataclass(frozen=True)
class ContractStatus:
    contract: Contract
    obligations: tuple[ObligationStatus, ...]
    kpis: SubmissionKpis
    targets: DataSubmissionTerms | None = None  # the contract's data-submission KPI targets, if it has them


def obligation_status(session: Session, obligation: Obligation, today: date, zone: str,
                      review: str | None = None) -> ObligationStatus:
    subs = list(session.exec(select(Submission).where(Submission.obligation_id == obligation.id)
                             .order_by(col(Submission.received_at).desc(), col(Submission.id).desc())))
    current = next((s for s in subs if s.status == "accepted"), None)
    latest = current or (subs[0] if subs else None)
    counts: dict[str, int] = {}
    if current is not None:
        for row in session.exec(select(IndicatorResultRow).where(IndicatorResultRow.submission_id == current.id)):
            counts[row.status] = counts.get(row.status, 0) + 1
    if latest is not None:
        state = latest.status
    else:
        state = "missing" if today > obligation.due_date else "not due"
    first_accepted = obligation.first_accepted_at
    if first_accepted is not None:
        late = (local_date(first_accepted, zone) - obligation.due_date).days
    else:
        late = (today - obligation.due_date).days
    return ObligationStatus(obligation.contract_id, obligation.return_type, obligation.period_id,
                            obligation.due_date, state, latest.received_at if latest else None,
                            latest.version if latest else None,
                            None if first_accepted is None else late <= 0,
                            late if late > 0 else None, counts, review if current is not None else None)


def contract_status(session: Session, contract: Contract, today: date, zone: str,
                    terms: ContractTerms | None = None) -> ContractStatus:
    """Where `contract` stands on `today`; `terms` (the contract's, from the configuration) set its data-submission
    targets and service-failure rule (default: the framework's own)."""
    terms = terms or contract_terms(loader.get(contract.framework_id))
    obligations = session.exec(select(Obligation).where(Obligation.contract_id == contract.id,
                                                        Obligation.period_start <= today)
                               .order_by(col(Obligation.due_date), col(Obligation.return_type))).all()
    reviews = state_of(session, [o.id for o in obligations if o.id is not None])
    rows = tuple(obligation_status(session, o, today, zone, reviews.get(o.id or 0)) for o in obligations)
    kpis = submission_kpis(session, contract.id, today, zone, rule=escalation_rule_for(terms))
    return ContractStatus(contract, rows, kpis, terms.data_submission)
