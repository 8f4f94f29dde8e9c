"""The submission log as the data-submission KPIs read it: a contract's obligations from a day on, their
submissions, the council's findings on them and its requests for information.

`read_log` reads it through the ORM (the intake, reports, the scheduler); `kpibot score` reads the same rows as plain
SQL (`bot.storage.plain_reads`), so its figures come from the same code without loading the ORM.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlmodel import Session


class LoggedObligation(Protocol):
    """An obligation as the log's figures need it: the ORM's `Obligation` or `plain_reads.ObligationRow`."""

    @property
    def id(self) -> int | None: ...
    @property
    def return_type(self) -> str: ...
    @property
    def period_id(self) -> str: ...
    @property
    def period_start(self) -> date: ...
    @property
    def due_date(self) -> date: ...


class LoggedSubmission(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def obligation_id(self) -> int | None: ...
    @property
    def status(self) -> str: ...
    @property
    def received_at(self) -> datetime: ...
    @property
    def version(self) -> int | None: ...


class LoggedFinding(Protocol):
    """A spot check that found a return inaccurate, or a query answered with a correction (`kind`)."""

    @property
    def obligation_id(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def kind(self) -> str: ...


class LoggedRequest(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def what(self) -> str: ...
    @property
    def due(self) -> date: ...
    @property
    def asked_at(self) -> datetime: ...
    @property
    def answered_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class SubmissionLog:
    """What the submission log holds for a contract from a day on, read once: the obligations due from then whose
    periods have begun (by due date), their submissions (in order of receipt), the council's findings on them
    (oldest first) and its requests for information due from then (by due date)."""

    start: date
    obligations: Sequence[LoggedObligation]
    submissions: Sequence[LoggedSubmission]
    findings: Sequence[LoggedFinding] = ()
    requests: Sequence[LoggedRequest] = ()


def read_log(session: Session, contract_id: str, start: date, as_of: date) -> SubmissionLog:
    """The contract's submission log from `start` (due dates) up to `as_of` (periods begun), through the ORM."""
    from sqlmodel import col, select

    from bot.assessment.reviews import inaccuracies
    from bot.storage.models import Obligation, Submission
    from bot.storage.plan_models import InfoRequest

    # The obligations and every submission of them in one query (a submission judges the contract's whole year).
    rows = session.exec(select(Obligation, Submission)
                        .outerjoin(Submission, col(Submission.obligation_id) == Obligation.id)
                        .where(Obligation.contract_id == contract_id, Obligation.due_date >= start,
                               Obligation.period_start <= as_of)
                        .order_by(col(Obligation.due_date), col(Obligation.id))).all()
    obligations = list({o.id: o for o, _ in rows}.values())
    ids = [o.id for o in obligations if o.id is not None]
    submissions = sorted((s for _, s in rows if s is not None), key=lambda s: (s.received_at, s.id or 0))
    requests = list(session.exec(select(InfoRequest).where(
        InfoRequest.contract_id == contract_id, InfoRequest.due >= start, InfoRequest.state != "withdrawn")
        .order_by(col(InfoRequest.due), col(InfoRequest.id))))
    findings = [f for found in inaccuracies(session, ids).values() for f in found]
    return SubmissionLog(start, obligations, submissions, findings, requests)
