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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.assessment.submission_log import (
    LoggedFinding,
    LoggedObligation,
    LoggedRequest,
    LoggedSubmission,
    SubmissionLog,
    read_log,
)
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

if TYPE_CHECKING:  # the ORM loads only where a session reads the log: `kpibot score` reads it as plain rows
    from sqlmodel import Session

    from bot.storage.models import ServiceFailureRow

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
    obligation: LoggedObligation
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


def record_of(obligation: LoggedObligation, submissions: Sequence[LoggedSubmission | _Seen], zone: str,
              found: Sequence[LoggedFinding] | None = None) -> ObligationRecord:
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


def log_start(as_of: date, months: int = 12, rule: ServiceFailureRule | None = None) -> date:
    """The first due date `submission_kpis` reads from the log: a run of late returns that ended in the window may
    have begun up to a year of monthly periods before it."""
    return months_before(as_of, 2 * months + 12 if rule is not None else months) + timedelta(days=1)


def records_from(log: SubmissionLog, start: date, as_of: date, zone: str, moment: datetime | None = None,
                 judging: Judging | None = None) -> list[ObligationRecord]:
    """The obligations due in [start, as_of], and those of periods begun by then that are already met, with what
    the log held at `moment` (default: all of it) and the return being judged."""
    if start < log.start:
        raise ValueError(f"the log was read from {log.start}, not from {start}")
    obligations = [o for o in log.obligations if o.due_date >= start and o.period_start <= as_of]
    received: dict[int | None, list[LoggedSubmission | _Seen]] = {o.id: [] for o in obligations}
    for sub in log.submissions:
        if sub.obligation_id in received and (moment is None or sub.received_at <= moment):
            received[sub.obligation_id].append(sub)
    if judging is not None and judging.obligation_id in received:
        subs = received[judging.obligation_id]
        if any(s.id == judging.submission_id for s in subs if not isinstance(s, _Seen)):
            received[judging.obligation_id] = [
                _Seen("accepted" if s.id == judging.submission_id else s.status, s.received_at, s.version)
                for s in subs if not isinstance(s, _Seen)]
        else:
            subs.append(_Seen("accepted", judging.received_at))
    findings: dict[int, list[LoggedFinding]] = {}
    for found in log.findings:
        if moment is None or found.at <= moment:
            findings.setdefault(found.obligation_id, []).append(found)
    records = []
    for obligation in obligations:
        record = record_of(obligation, received[obligation.id], zone, findings.get(obligation.id or 0))
        if obligation.due_date < as_of or record.timely:
            records.append(record)
    return records


def failures_from(log: SubmissionLog, as_of: date, rule: ServiceFailureRule | None, zone: str = "Europe/London",
                  months: int = 12, moment: datetime | None = None,
                  judging: Judging | None = None) -> list[ServiceFailure]:
    """The service failures that happened in the `months` up to `as_of` (runs that began earlier count too)."""
    if rule is None:
        return []
    records = [PeriodRecord(r.obligation.return_type, r.obligation.period_id, r.obligation.due_date, r.timely)
               for r in records_from(log, log_start(as_of, months, rule), as_of, zone, moment, judging)]
    return on_record(service_failures(records, rule), as_of, months)


def failures_as_of(session: Session, contract_id: str, as_of: date, rule: ServiceFailureRule | None,
                   zone: str = "Europe/London", months: int = 12, moment: datetime | None = None,
                   judging: Judging | None = None) -> list[ServiceFailure]:
    """The service failures that happened in the `months` up to `as_of` (runs that began earlier count too)."""
    if rule is None:
        return []
    log = read_log(session, contract_id, log_start(as_of, months, rule), as_of)
    return failures_from(log, as_of, rule, zone, months, moment, judging)


def kpis_from(log: SubmissionLog, contract_id: str, as_of: date, zone: str = "Europe/London", months: int = 12,
              rule: ServiceFailureRule | None = None, *, moment: datetime | None = None,
              judging: Judging | None = None) -> SubmissionKpis:
    """Timeliness and accuracy of a contract's returns due in the `months` up to `as_of` (after the same day
    `months` earlier, up to and including `as_of`) or met by then, as the log stood at `moment` (default: now),
    with the return being `judged` counted; with `rule`, the service failures on the record. `log` is read from
    `log_start(as_of, months, rule)` or earlier."""
    start = months_before(as_of, months) + timedelta(days=1)
    records = records_from(log, start, as_of, zone, moment, judging)
    by_type: dict[str, list[ObligationRecord]] = {}
    for record in records:
        by_type.setdefault(record.obligation.return_type, []).append(record)
    return SubmissionKpis(
        contract_id=contract_id, window_start=start, as_of=as_of, due=len(records),
        timely=sum(r.timely for r in records), submitted=sum(r.submitted for r in records),
        accurate=sum(bool(r.accurate) for r in records), records=tuple(records),
        consecutive_late=max((trailing_late(rs) for rs in by_type.values()), default=0),
        service_failures=tuple(failures_from(log, as_of, rule, zone, months, moment, judging)),
        requests=requests_from(log.requests, start, as_of, zone, moment))


def submission_kpis(session: Session, contract_id: str, as_of: date, zone: str = "Europe/London",
                    months: int = 12, rule: ServiceFailureRule | None = None, *, moment: datetime | None = None,
                    judging: Judging | None = None) -> SubmissionKpis:
    """`kpis_from` the log as the session reads it."""
    log = read_log(session, contract_id, log_start(as_of, months, rule), as_of)
    return kpis_from(log, contract_id, as_of, zone, months, rule, moment=moment, judging=judging)


def requests_from(requests: Sequence[LoggedRequest], start: date, as_of: date, zone: str,
                  moment: datetime | None = None) -> tuple[RequestRecord, ...]:
    """The contract's requests for information that count towards timeliness, as returns do: each due in
    [start, as_of] whose due date has passed, or answered on time by then (an early answer counts at once).
    Timely: answered by the end of its due date, Europe/London time. Withdrawn requests are not in the log."""
    found = []
    for request in requests:
        if request.due < start or (moment is not None and request.asked_at > moment):
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
    from sqlmodel import select

    from bot.storage.models import ServiceFailureRow

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
