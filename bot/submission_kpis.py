"""Data-submission KPIs from the submission log: timeliness and accuracy, rolling 12 months.

- An obligation counts once its due date has passed (or it has been met).
- Timely: its first accepted version arrived by the end of the due date, Europe/London time.
- Accurate: its first submission was accepted and no later version replaced it (not rejected-then-corrected,
  not corrected after acceptance). Returns never received count against timeliness but are left out of accuracy,
  which judges the data that was sent.
"""

from __future__ import annotations

from dataclasses import dataclass
import calendar
from datetime import date, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from bot.storage.models import Obligation, Submission
from kpi_core.calendar import add_months

WAS_ACCEPTED = ("accepted", "superseded")
TARGET = Fraction(95)


@dataclass(frozen=True)
class ObligationRecord:
    obligation: Obligation
    submitted: bool
    timely: bool
    accurate: bool | None  # None when nothing was submitted


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
                ("returns_late_consecutive", ""): Fraction(self.consecutive_late)}


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


def local_date(moment, zone: str) -> date:  # type: ignore[no-untyped-def]
    return moment.astimezone(ZoneInfo(zone)).date()


def record_for(session: Session, obligation: Obligation, zone: str) -> ObligationRecord:
    subs = list(session.exec(select(Submission).where(Submission.obligation_id == obligation.id)
                             .order_by(Submission.received_at, Submission.id)))  # type: ignore[arg-type]
    subs = [s for s in subs if s.status != "failed"]  # our failure, not the provider's
    accepted = [s for s in subs if s.status in WAS_ACCEPTED]
    timely = bool(accepted) and local_date(accepted[0].received_at, zone) <= obligation.due_date
    accurate = None if not subs else (subs[0].status in WAS_ACCEPTED and len(accepted) == 1)
    return ObligationRecord(obligation, bool(subs), timely, accurate)


def submission_kpis(session: Session, contract_id: str, as_of: date, zone: str = "Europe/London",
                    months: int = 12) -> SubmissionKpis:
    """Timeliness and accuracy of a contract's returns due in the `months` up to `as_of`: after the same day
    `months` earlier, up to and including `as_of`."""
    start = months_before(as_of, months) + timedelta(days=1)
    obligations = session.exec(select(Obligation).where(
        Obligation.contract_id == contract_id, Obligation.due_date >= start, Obligation.due_date <= as_of)
        .order_by(Obligation.due_date, Obligation.id))  # type: ignore[arg-type]
    records = []
    for obligation in obligations:
        record = record_for(session, obligation, zone)
        if obligation.due_date < as_of or record.timely:
            records.append(record)
    by_type: dict[str, list[ObligationRecord]] = {}
    for record in records:
        by_type.setdefault(record.obligation.return_type, []).append(record)
    return SubmissionKpis(
        contract_id=contract_id, window_start=start, as_of=as_of, due=len(records),
        timely=sum(r.timely for r in records), submitted=sum(r.submitted for r in records),
        accurate=sum(bool(r.accurate) for r in records), records=tuple(records),
        consecutive_late=max((trailing_late(rs) for rs in by_type.values()), default=0))
