"""Data-submission KPIs from the submission log: timeliness and accuracy, rolling 12 months, and service failures.

- An obligation counts once its due date has passed (or it has been met).
- Timely: its first accepted version arrived by the end of the due date, Europe/London time.
- Accurate: its first submission was accepted, no later version replaced it (not rejected-then-corrected, not
  corrected after acceptance, whether on the provider's own initiative or in answer to the council's query), and
  no spot check by the council found its figures inaccurate (schedule 2.5: accuracy "may be spot checked and
  verified by the Council"). Each inaccurate return carries the reasons, in words, for the reports. Returns never
  received count against timeliness but are left out of accuracy, which judges the data that was sent.
- Service failures (where the contract's terms have the rule): each run of N consecutive late periods of one return
  type, kept on the record for the rolling year after it happened (the scheduler's sweep stores each as it happens).

Whether these are KPIs of a contract at all is a term of the contract (`kpi_core.terms`): only the contracts that
have them get the figures (`system_values_for`).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.assessment.reviews import Inaccuracy, inaccuracies
from bot.storage.models import Obligation, ServiceFailureRow, Submission
from kpi_core.calendar import add_months
from kpi_core.escalation import (
    PeriodRecord,
    ServiceFailure,
    ServiceFailureRule,
    on_record,
    service_failures,
)
from kpi_core.framework.model import Framework
from kpi_core.terms import ContractTerms

WAS_ACCEPTED = ("accepted", "superseded")


@dataclass(frozen=True)
class ObligationRecord:
    obligation: Obligation
    submitted: bool
    timely: bool
    accurate: bool | None  # None when nothing was submitted
    why_inaccurate: tuple[str, ...] = ()  # e.g. `corrected after the council's query of 3 October 2025`


@dataclass(frozen=True)
class SubmissionKpis:
    contract_id: str
    window_start: date
    as_of: date
    due: int
    timely: int
    submitted: int
    accurate: int
    records: tuple[ObligationRecord, ...]
    consecutive_late: int = 0  # the longest run of late or missing returns, up to now, of one return type
    service_failures: tuple[ServiceFailure, ...] = ()  # on the record: happened in the rolling 12 months

    @property
    def timeliness(self) -> Fraction | None:
        return Fraction(100 * self.timely, self.due) if self.due else None

    @property
    def accuracy(self) -> Fraction | None:
        return Fraction(100 * self.accurate, self.submitted) if self.submitted else None

    def system_values(self) -> dict[tuple[str, str], Fraction]:
        """Figures for framework items with source = "system"."""
        return {("returns_due", ""): Fraction(self.due), ("returns_on_time", ""): Fraction(self.timely),
                ("returns_submitted", ""): Fraction(self.submitted),
                ("returns_accurate", ""): Fraction(self.accurate),
                ("returns_late_consecutive", ""): Fraction(self.consecutive_late),
                ("service_failures_12m", ""): Fraction(len(self.service_failures))}


DATA_SUBMISSION_ITEMS = ("returns_due", "returns_on_time", "returns_submitted", "returns_accurate")
SERVICE_FAILURE_ITEMS = ("returns_late_consecutive", "service_failures_12m")


def system_values_for(kpis: SubmissionKpis, framework: Framework, terms: ContractTerms) -> dict[tuple[str, str], Fraction]:
    """The system figures of the framework's items that the contract's terms have: timeliness and accuracy with
    data-submission KPIs, late runs and service failures with the service failure rule. A term the contract does
    not have gives no figure, so its indicator is not judged."""
    wanted = {i.id for i in framework.items if i.source == "system"}
    if terms.data_submission is None:
        wanted -= set(DATA_SUBMISSION_ITEMS)
    if terms.service_failure_after_late is None:
        wanted -= set(SERVICE_FAILURE_ITEMS)
    return {k: v for k, v in kpis.system_values().items() if k[0] in wanted}


def trailing_late(records: list[ObligationRecord]) -> int:
    """How many of the latest records (oldest first), counting back, were not on time."""
    run = 0
    for record in reversed(records):
        if record.timely:
            break
        run += 1
    return run


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier, or the month's last day when it is shorter (31 March -> 30 September)."""
    first = add_months(day.replace(day=1), -months)
    return first.replace(day=min(day.day, calendar.monthrange(first.year, first.month)[1]))


def local_date(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


FIRST_NOT_ACCEPTED = {"rejected": "the first version was rejected", "held": "the first file could not be matched to "
                      "this return", "quarantined": "the first file was refused as possible personal data"}


def record_of(obligation: Obligation, submissions: list[Submission], zone: str,
              found: list[Inaccuracy] | None = None) -> ObligationRecord:
    """What the submissions of one obligation (in order of receipt) say of its timeliness and accuracy, with the
    council's findings on it (`found`: spot checks that found it inaccurate, queries answered by a correction)."""
    subs = [s for s in submissions if s.status != "failed"]  # our failure, not the provider's
    accepted = [s for s in subs if s.status in WAS_ACCEPTED]
    timely = bool(accepted) and local_date(accepted[0].received_at, zone) <= obligation.due_date
    if not subs:
        return ObligationRecord(obligation, False, timely, None)
    why = [] if subs[0].status in WAS_ACCEPTED else [FIRST_NOT_ACCEPTED.get(subs[0].status, "the first version was "
                                                                         "not accepted")]
    found = found or []
    queried = [f for f in found if f.kind == "query"]
    if len(accepted) > 1:
        why += ([f"corrected after the council's query of {_day(f.at, zone)}" for f in queried]
                or [f"corrected after it was accepted (version {accepted[-1].version} replaced version "
                    f"{accepted[0].version})"])
    why += [f"a spot check on {_day(f.at, zone)} found the figures inaccurate" for f in found
            if f.kind == "spot_check"]
    return ObligationRecord(obligation, True, timely, not why, tuple(why))


def _day(moment: datetime, zone: str) -> str:
    day = local_date(moment, zone)
    return f"{day.day} {day:%B %Y}"


def _records(session: Session, contract_id: str, start: date, as_of: date, zone: str) -> list[ObligationRecord]:
    obligations = list(session.exec(select(Obligation).where(
        Obligation.contract_id == contract_id, Obligation.due_date >= start, Obligation.due_date <= as_of)
        .order_by(col(Obligation.due_date), col(Obligation.id))))
    # Every submission of these obligations in one query (a submission judges the contract's whole year).
    received: dict[int | None, list[Submission]] = {o.id: [] for o in obligations}
    if obligations:
        for sub in session.exec(select(Submission).where(col(Submission.obligation_id).in_(list(received)))
                                .order_by(col(Submission.received_at), col(Submission.id))):
            received[sub.obligation_id].append(sub)
    findings = inaccuracies(session, [o.id for o in obligations if o.id is not None])
    records = []
    for obligation in obligations:
        record = record_of(obligation, received[obligation.id], zone, findings.get(obligation.id or 0))
        if obligation.due_date < as_of or record.timely:
            records.append(record)
    return records


def failures_as_of(session: Session, contract_id: str, as_of: date, rule: ServiceFailureRule | None,
                   zone: str = "Europe/London", months: int = 12) -> list[ServiceFailure]:
    """The service failures that happened in the `months` up to `as_of` (runs that began earlier count too)."""
    if rule is None:
        return []
    # A run that ended in the window may have begun up to a year of monthly periods before it.
    start = months_before(as_of, 2 * months + 12) + timedelta(days=1)
    records = [PeriodRecord(r.obligation.return_type, r.obligation.period_id, r.obligation.due_date, r.timely)
               for r in _records(session, contract_id, start, as_of, zone)]
    return on_record(service_failures(records, rule), as_of, months)


def submission_kpis(session: Session, contract_id: str, as_of: date, zone: str = "Europe/London",
                    months: int = 12, rule: ServiceFailureRule | None = None) -> SubmissionKpis:
    """Timeliness and accuracy of a contract's returns due in the `months` up to `as_of`: after the same day
    `months` earlier, up to and including `as_of`; with `rule`, the service failures on the record."""
    start = months_before(as_of, months) + timedelta(days=1)
    records = _records(session, contract_id, start, as_of, zone)
    by_type: dict[str, list[ObligationRecord]] = {}
    for record in records:
        by_type.setdefault(record.obligation.return_type, []).append(record)
    return SubmissionKpis(
        contract_id=contract_id, window_start=start, as_of=as_of, due=len(records),
        timely=sum(r.timely for r in records), submitted=sum(r.submitted for r in records),
        accurate=sum(bool(r.accurate) for r in records), records=tuple(records),
        consecutive_late=max((trailing_late(rs) for rs in by_type.values()), default=0),
        service_failures=tuple(failures_as_of(session, contract_id, as_of, rule, zone, months)))


def record_service_failures(session: Session, contract_id: str, as_of: date, rule: ServiceFailureRule | None,
                            now: datetime, zone: str = "Europe/London") -> list[ServiceFailureRow]:
    """Store each service failure up to `as_of` not stored yet, and return the new ones (for the scheduler to
    tell the commissioner once). Idempotent: a failure is stored once, keyed by its last late period."""
    if rule is None:
        return []
    known = {(r.return_type, r.last_period_id) for r in session.exec(
        select(ServiceFailureRow).where(ServiceFailureRow.contract_id == contract_id))}
    new = []
    for failure in failures_as_of(session, contract_id, as_of, rule, zone):
        if (failure.return_type, failure.periods[-1]) in known:
            continue
        row = ServiceFailureRow(contract_id=contract_id, return_type=failure.return_type,
                                periods=",".join(failure.periods), last_period_id=failure.periods[-1],
                                occurred=failure.occurred, recorded_at=now)
        session.add(row)
        new.append(row)
    session.flush()
    return new
