"""Data-submission KPIs from the submission log: timeliness and accuracy, rolling 12 months, and service failures.

Every report counts them the same way, as of a moment (the return report: when its return arrived, that return
included; the exception report and `kpibot status`: now), so two reports of the same day agree:
- An obligation counts once its due date has passed, or once it has been met (an early return counts at once).
- Timely (was it on time?): its first accepted version arrived by the end of the due date, Europe/London time.
- Accurate (was it right?): its first submission was accepted and no later version replaced it (not
  rejected-then-corrected, not corrected after acceptance, whether on the provider's own initiative or in answer
  to the council's query), and no spot check by the council found its figures inaccurate (schedule 2.5: accuracy
  "may be spot checked and verified by the Council"); lateness plays no part. Each inaccurate return carries the
  reasons, in words, for the reports. Returns never received count against timeliness but are left out of
  accuracy, which judges the data that was sent.
- A return being judged (`Judging`) counts as accepted when it arrived: nothing is judged on a rejected return,
  so its figures are only ever shown for one that is accepted.
- Submissions still being processed, or that failed on kpibot's side, are not the provider's: they do not count.
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
from bot.storage.plan_models import InfoRequest
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
NOT_DECIDED = ("failed", "received")  # kpibot's own failure, or still being processed


@dataclass(frozen=True)
class Judging:
    """The return being judged: taken as accepted at `received_at` for its obligation. `submission_id` is its row
    when it has one (still being processed, or stored and drawn again); a preview has none."""

    obligation_id: int
    received_at: datetime
    submission_id: int | None = None


@dataclass(frozen=True)
class _Seen:
    status: str
    received_at: datetime
    version: int | None = None


@dataclass(frozen=True)
class ObligationRecord:
    obligation: Obligation
    submitted: bool
    timely: bool
    accurate: bool | None  # None when nothing was submitted
    why_inaccurate: tuple[str, ...] = ()  # e.g. `corrected after the council's query of 3 October 2025`


@dataclass(frozen=True)
class RequestRecord:
    """A request for information as timeliness counts it: due in the window (or answered on time by then)."""

    request_id: int
    what: str
    due: date
    timely: bool  # answered by the end of its due date
    answered: bool = False


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
    requests: tuple[RequestRecord, ...] = ()  # the council's requests for information that count, oldest first

    @property
    def requests_on_time(self) -> int:
        return sum(r.timely for r in self.requests)

    @property
    def due_all(self) -> int:
        """Returns and requests for information that count towards timeliness."""
        return self.due + len(self.requests)

    @property
    def timely_all(self) -> int:
        return self.timely + self.requests_on_time

    @property
    def timeliness(self) -> Fraction | None:
        """Returns and requests for information on time, of those that count (as a % of them)."""
        return Fraction(100 * self.timely_all, self.due_all) if self.due_all else None

    @property
    def accuracy(self) -> Fraction | None:
        return Fraction(100 * self.accurate, self.submitted) if self.submitted else None

    def system_values(self) -> dict[tuple[str, str], Fraction]:
        """Figures for framework items with source = "system"."""
        return {("returns_due", ""): Fraction(self.due_all), ("returns_on_time", ""): Fraction(self.timely_all),
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


def record_of(obligation: Obligation, submissions: list[Submission] | list[_Seen], zone: str,
              found: list[Inaccuracy] | None = None) -> ObligationRecord:
    """What the submissions of one obligation (in order of receipt) say of its timeliness and accuracy, with the
    council's findings on it (`found`: spot checks that found it inaccurate, queries answered by a correction)."""
    subs = [s for s in submissions if s.status not in NOT_DECIDED]
    accepted = [s for s in subs if s.status in WAS_ACCEPTED]
    timely = bool(accepted) and local_date(accepted[0].received_at, zone) <= obligation.due_date
    if not subs:
        return ObligationRecord(obligation, False, timely, None)
    why = [] if subs[0].status in WAS_ACCEPTED else [FIRST_NOT_ACCEPTED.get(subs[0].status, "the first version was "
                                                                         "not accepted")]
    found = found or []
    queried = [f for f in found if f.kind == "query"]
    if len(accepted) > 1:
        replaced = (f" (version {accepted[-1].version} replaced version {accepted[0].version})"
                    if accepted[-1].version is not None and accepted[0].version is not None else "")
        why += ([f"corrected after the council's query of {_day(f.at, zone)}" for f in queried]
                or [f"corrected after it was accepted{replaced}"])
    why += [f"a spot check on {_day(f.at, zone)} found the figures inaccurate" for f in found
            if f.kind == "spot_check"]
    return ObligationRecord(obligation, True, timely, not why, tuple(why))


def _day(moment: datetime, zone: str) -> str:
    day = local_date(moment, zone)
    return f"{day.day} {day:%B %Y}"


def _records(session: Session, contract_id: str, start: date, as_of: date, zone: str,
             moment: datetime | None = None, judging: Judging | None = None) -> list[ObligationRecord]:
    """The obligations due in [start, as_of], and those of periods begun by then that are already met, with what
    the log held at `moment` (default: all of it) and the return being judged."""
    obligations = list(session.exec(select(Obligation).where(
        Obligation.contract_id == contract_id, Obligation.due_date >= start, Obligation.period_start <= as_of)
        .order_by(col(Obligation.due_date), col(Obligation.id))))
    # Every submission of these obligations in one query (a submission judges the contract's whole year).
    received: dict[int | None, list[Submission] | list[_Seen]] = {o.id: [] for o in obligations}
    if obligations:
        query = select(Submission).where(col(Submission.obligation_id).in_(list(received)))
        if moment is not None:
            query = query.where(col(Submission.received_at) <= moment)
        for sub in session.exec(query.order_by(col(Submission.received_at), col(Submission.id))):
            received[sub.obligation_id].append(sub)  # type: ignore[arg-type]
    if judging is not None and judging.obligation_id in received:
        subs = received[judging.obligation_id]
        if any(s.id == judging.submission_id for s in subs if isinstance(s, Submission)):
            received[judging.obligation_id] = [
                _Seen("accepted" if s.id == judging.submission_id else s.status, s.received_at, s.version)
                for s in subs if isinstance(s, Submission)]
        else:
            subs.append(_Seen("accepted", judging.received_at))  # type: ignore[arg-type]
    findings = {oid: [f for f in found if moment is None or f.at <= moment]
                for oid, found in inaccuracies(session, [o.id for o in obligations if o.id is not None]).items()}
    records = []
    for obligation in obligations:
        record = record_of(obligation, received[obligation.id], zone, findings.get(obligation.id or 0))
        if obligation.due_date < as_of or record.timely:
            records.append(record)
    return records


def failures_as_of(session: Session, contract_id: str, as_of: date, rule: ServiceFailureRule | None,
                   zone: str = "Europe/London", months: int = 12, moment: datetime | None = None,
                   judging: Judging | None = None) -> list[ServiceFailure]:
    """The service failures that happened in the `months` up to `as_of` (runs that began earlier count too)."""
    if rule is None:
        return []
    # A run that ended in the window may have begun up to a year of monthly periods before it.
    start = months_before(as_of, 2 * months + 12) + timedelta(days=1)
    return _failures(_records(session, contract_id, start, as_of, zone, moment, judging), rule, as_of, months)


def _failures(found: list[ObligationRecord], rule: ServiceFailureRule, as_of: date,
              months: int) -> list[ServiceFailure]:
    records = [PeriodRecord(r.obligation.return_type, r.obligation.period_id, r.obligation.due_date, r.timely)
               for r in found]
    return on_record(service_failures(records, rule), as_of, months)


def submission_kpis(session: Session, contract_id: str, as_of: date, zone: str = "Europe/London",
                    months: int = 12, rule: ServiceFailureRule | None = None, *, moment: datetime | None = None,
                    judging: Judging | None = None) -> SubmissionKpis:
    """Timeliness and accuracy of a contract's returns due in the `months` up to `as_of` (after the same day
    `months` earlier, up to and including `as_of`) or met by then, as the log stood at `moment` (default: now),
    with the return being `judged` counted; with `rule`, the service failures on the record."""
    start = months_before(as_of, months) + timedelta(days=1)
    # With a rule, the log is read once over the failures' wider window (failures_as_of's) and narrowed here:
    # an obligation's record does not depend on the window it was read for.
    wide = None if rule is None else _records(session, contract_id, months_before(as_of, 2 * months + 12)
                                             + timedelta(days=1), as_of, zone, moment, judging)
    records = _records(session, contract_id, start, as_of, zone, moment, judging) if wide is None else \
        [r for r in wide if r.obligation.due_date >= start]
    by_type: dict[str, list[ObligationRecord]] = {}
    for record in records:
        by_type.setdefault(record.obligation.return_type, []).append(record)
    return SubmissionKpis(
        contract_id=contract_id, window_start=start, as_of=as_of, due=len(records),
        timely=sum(r.timely for r in records), submitted=sum(r.submitted for r in records),
        accurate=sum(bool(r.accurate) for r in records), records=tuple(records),
        consecutive_late=max((trailing_late(rs) for rs in by_type.values()), default=0),
        service_failures=tuple(() if rule is None or wide is None else _failures(wide, rule, as_of, months)),
        requests=request_records(session, contract_id, start, as_of, zone, moment))


def request_records(session: Session, contract_id: str, start: date, as_of: date, zone: str,
                    moment: datetime | None = None) -> tuple[RequestRecord, ...]:
    """The contract's requests for information that count towards timeliness, as returns do: each due in
    [start, as_of] whose due date has passed, or answered on time by then (an early answer counts at once).
    Timely: answered by the end of its due date, Europe/London time. Withdrawn requests do not count."""
    found = []
    for request in session.exec(select(InfoRequest).where(
            InfoRequest.contract_id == contract_id, InfoRequest.due >= start, InfoRequest.state != "withdrawn")
            .order_by(col(InfoRequest.due), col(InfoRequest.id))):
        if moment is not None and request.asked_at > moment:
            continue
        answered = request.answered_at if moment is None or (request.answered_at or moment) <= moment else None
        timely = answered is not None and local_date(answered, zone) <= request.due
        if request.due < as_of or timely:
            found.append(RequestRecord(request.id or 0, request.what, request.due, timely, answered is not None))
    return tuple(found)


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
