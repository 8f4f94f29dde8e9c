"""The quarterly meeting pack: what the council and the provider need in front of them at the performance meeting on
a period's return (schedule 2.4.1: "at the end of the month of the monitoring return"), as values ready to print.

Nothing is worked out here that another report works out: the quarter's results, year to date, forecasts and
payments are the return report's own rows (context.py), the data-submission KPIs, reviews waiting and returns owed
the exception report's (exception_report.py), the plans their shared view (bot/assessment/plans.py). Storage fills
`PackFacts` (meeting_stored.py); this module only arranges them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.assessment.plans import PlanView
from bot.reports import display
from bot.reports.context import ReturnReport
from bot.reports.exception_report import (
    ContractPeriodStatus,
    DataKpiRow,
    data_kpi_row,
    is_missing_or_late,
    not_applicable_row,
    return_state,
)
from bot.reports.review_view import WaitingRow


@dataclass(frozen=True)
class AgreedAction:
    """An action agreed at a meeting, as the pack lists it."""

    number: int
    what: str
    who: str
    due: date
    overdue: bool

    @property
    def when(self) -> str:
        return display.day(self.due)


@dataclass(frozen=True)
class NoteView:
    """A meeting's notes as recorded after it."""

    period_label: str  # the period whose return the meeting was on
    held_on: str
    recorded: str  # `by Carol Jones on 27 February 2026 at 16:10`
    text: str
    actions: tuple[AgreedAction, ...]


@dataclass(frozen=True)
class RequestRow:
    """A request for information still unanswered."""

    what: str
    detail: str
    asked: str
    due: str
    state: str  # `3 days overdue`, `due in 2 days`, `due today`
    overdue: bool


@dataclass(frozen=True)
class PackFacts:
    """What storage knows for the pack, read once."""

    status: ContractPeriodStatus  # the exception report's view of the contract for the period
    report: ReturnReport | None  # the return report of the version in force; None: no accepted return
    information_only: int  # indicators reported for information only, left out of the pack's table
    framework_name: str
    meeting_day: date | None  # None: the schedule sets no meeting for this return
    requests: tuple[RequestRow, ...]
    previous: NoteView | None  # the latest meeting before this one with notes recorded
    this_meeting: NoteView | None  # notes already recorded for this meeting (a pack drawn again afterwards)
    today: date
    generated_at: datetime
    timezone: str


@dataclass(frozen=True)
class MeetingPack:
    contract_name: str
    provider_name: str
    framework_name: str
    return_label: str
    period_label: str
    meeting: str  # `Friday 27 February 2026`, or why there is no date
    generated: str
    return_state: str  # `Received 14 February 2026 at 10:30, on time`, `Not received: 12 days overdue`
    missing: str  # said plainly when the quarter's return is not in: '' when it is
    report: ReturnReport | None
    information_only: int
    data_kpis: tuple[DataKpiRow, ...]
    waiting: tuple[WaitingRow, ...]
    owed: tuple[str, ...]  # other returns past their date with nothing accepted
    plans: tuple[PlanView, ...]
    requests: tuple[RequestRow, ...]
    previous: NoteView | None
    this_meeting: NoteView | None

    @property
    def open_actions(self) -> tuple[AgreedAction, ...]:
        """The previous meeting's actions, overdue first."""
        actions = self.previous.actions if self.previous else ()
        return tuple(sorted(actions, key=lambda a: (not a.overdue, a.number)))

    @property
    def summary(self) -> tuple[str, ...]:
        """The lines on the cover: where the return stands, what is red, late or open."""
        lines = [self.missing or self.return_state]
        if self.report is not None and self.report.accepted:
            counts = ", ".join(f"{c.count} {c.status.word.lower()}" for c in self.report.counts
                               if c.status.key != "info")
            lines.append(f"Indicators judged: {counts}" + (f" ({self.information_only} more for information only)."
                                                           if self.information_only else "."))
            lines += [f"Critical failure: {row.critical_text}." for row in self.report.critical]
        late = sum(1 for p in self.plans if p.overdue or p.overdue_actions)
        if self.plans:
            lines.append(f"{display.plural(len(self.plans), 'action plan')} open"
                         + (f", {late} with something overdue." if late else "."))
        overdue = sum(1 for r in self.requests if r.overdue)
        if self.requests:
            lines.append(f"{display.plural(len(self.requests), 'request')} for information outstanding"
                         + (f", {overdue} overdue." if overdue else "."))
        if self.previous and any(a.overdue for a in self.previous.actions):
            n = sum(1 for a in self.previous.actions if a.overdue)
            lines.append(f"{display.plural(n, 'action')} agreed at the last meeting "
                         f"{'is' if n == 1 else 'are'} past {'its' if n == 1 else 'their'} date.")
        return tuple(lines)


def missing_text(status: ContractPeriodStatus, report: ReturnReport | None, today: date) -> str:
    """What the pack says when the quarter's return is not in: plainly, with its due date."""
    if report is not None and report.accepted:
        return ""
    due = display.day(status.due_date)
    what = f"The {status.return_label.lower()} for {status.period.label}"
    if status.received_at is not None:
        return (f"{what} was received but not accepted (it failed validation): no figures for the quarter are "
                f"judged or paid until a corrected return is accepted. It was due {due}.")
    if today <= status.due_date:
        return f"{what} has not arrived yet: it is due {due}. This pack has no figures for the quarter."
    days = display.plural((today - status.due_date).days, "day")
    return (f"{what} has not arrived: it was due {due} and is {days} overdue. This pack has no figures for the "
            "quarter; the other sections stand.")


def build_meeting_pack(facts: PackFacts) -> MeetingPack:
    """Arrange what storage found into the pack."""
    status, report = facts.status, facts.report
    data = [data_kpi_row(status.contract_name, k) for k in (status.timeliness, status.accuracy) if k is not None]
    if not status.data_kpis_apply:
        data.append(not_applicable_row(status.contract_name))
    owed = [f"{o.return_label}, {o.period_label}: due {display.day(o.due_date)}, {o.state.lower()}, "
            f"{display.plural(o.days_overdue, 'day')} overdue" for o in status.overdue]
    if is_missing_or_late(status) and (report is None or not report.accepted):
        owed.insert(0, f"{status.return_label}, {status.period.label}: "
                       f"{return_state(status, facts.timezone).lower()}")
    return MeetingPack(
        contract_name=status.contract_name,
        provider_name=status.provider_name,
        framework_name=facts.framework_name,
        return_label=status.return_label,
        period_label=status.period.label,
        meeting=(f"{facts.meeting_day:%A} {display.day(facts.meeting_day)}" if facts.meeting_day
                 else "not set by the contract's schedule: arranged by the council"),
        generated=display.moment(facts.generated_at, facts.timezone),
        return_state=return_state(status, facts.timezone),
        missing=missing_text(status, report, facts.today),
        report=report if report is not None and report.accepted else None,
        information_only=facts.information_only,
        data_kpis=tuple(data),
        waiting=status.waiting,
        owed=tuple(owed),
        plans=tuple(sorted(status.plans, key=lambda p: not (p.overdue or p.overdue_actions))),
        requests=facts.requests,
        previous=facts.previous,
        this_meeting=facts.this_meeting,
    )
