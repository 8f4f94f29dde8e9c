"""The scheduler's sweep: reminders, overdue notices, the escalation ladder, the weekly digest and the chasing of
the council's unanswered queries (jobs/queries.py), decided from the database.

Run every few minutes by `kpibot run` (and by a test or the demo with any `now`), it is idempotent:
1. Outside the sending hours (09:00 to 17:30 on working days, by default) it does nothing: what falls due then
   waits for the next sweep inside them, and is not lost.
2. It creates the obligations of periods that have started (jobs/obligations.py), then reads the returns whose
   next notice day has come (jobs/next_notice.py: a steady sweep reads none; a process's first sweep reads every
   return that may still need a notice) and works out the one notice each needs now, keyed by obligation and stage:
   the latest reminder whose day has come while the deadline has not passed; the latest overdue notice
   whose day has come (the working day after the due date, then weekly); the ladder step of a period whose due
   date has passed (on time: level 0, resetting the run). Notices missed while the scheduler was down collapse
   into the latest one; a reminder never goes after its deadline; a missed overdue notice or escalation is sent.
3. It drops the keys already recorded, builds each recipient's message for the rest (a reminder by email attaches
   the workbook) and queues them under unique keys (jobs/queueing.py): two schedulers, or a restart, never queue
   one twice. The dispatcher sends them. Then it writes each return's next notice day.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

import sqlalchemy as sa
from sqlmodel import Session

from bot import config
from bot.storage.files import FileStore
from bot.storage.models import Contract, ServiceFailureRow
from jobs import next_notice
from jobs import owed as reads
from jobs.attachments import workbook_for
from jobs.chase import clock_at
from jobs.digest import digest_decisions
from jobs.evidence import expiry_decisions
from jobs.ladder import Ladder, Step, ladder_for
from jobs.messages import days_text, number, ordinal, render, short_day, when_text
from jobs.notices import LatePeriod
from jobs.obligations import ensure_current
from jobs.owed import Describer, Owed
from jobs.plan_workbooks import workbook_decisions
from jobs.plans import plan_decisions
from jobs.queries import query_decisions
from jobs.queueing import Decision, Outgoing, existing, queue
from jobs.recipients import Directory
from jobs.timing import Clock, due_overdue, due_reminder, first_overdue_day

SHOWN_PERIODS = 6  # a warning lists at most this many of the late periods in its run
PROVIDER = ("provider_submitter", "provider_manager")
Build = Callable[[Session, Directory, Describer], None]  # writes a new decision's messages
Planned = tuple[Decision, Build]
Later = tuple[str, Callable[[], Planned]]  # a decision's key, and how to make it if it is new
LADDER_NOTE = {
    2: "This return has been late for consecutive periods: your manager and the commissioner have been told.",
    3: "Late returns of this kind have reached the contract's service failure count: the commissioner has been "
       "told.",
}


def sweep(engine: sa.Engine, settings: config.Settings, files: FileStore, now: datetime) -> int:
    """Queue every notice due at `now` that is not queued yet; return how many messages were queued. Then write
    the day each obligation looked at needs looking at again (jobs/next_notice.py), once its notices are queued."""
    if not Clock.of(now, settings).sending:
        return 0
    run = _planned(engine, settings, files, now, full=None)
    queued = queue(engine, run.decisions, now)
    next_notice.write(engine, run.looked, run.clock, settings)
    next_notice.swept(engine, settings, run.clock, run.full)
    return queued


def planned(engine: sa.Engine, settings: config.Settings, files: FileStore, now: datetime) -> list[Decision]:
    """The notices a sweep at `now` decides on and has not queued yet, their messages written, queueing nothing
    (the sweep queues them; `kpibot run --dry-run` shows them). It looks at every obligation that may need a
    notice, not trusting the days a sweep under other settings wrote. Sending hours are the caller's business."""
    return _planned(engine, settings, files, now, full=True).decisions


def _planned(engine: sa.Engine, settings: config.Settings, files: FileStore, now: datetime,
             full: bool | None) -> _Sweep:
    """A sweep's decisions. `full`: look at every obligation that may need a notice; None: when jobs/next_notice.py
    says so, else only at those whose next notice day has come."""
    ensure_current(engine, Clock.of(now, settings).today, settings)
    with Session(engine) as session:
        clock = clock_at(session, now, settings)
        full = next_notice.needs_full_look(engine, settings, clock) if full is None else full
        owed = reads.candidates(session, clock, full)
        run = _Sweep(session, settings, files, clock, [o for o in owed if clock.since is None or o.due >= clock.since])
        run.looked, run.full = owed, full  # all get their next day, those before the chasing began too
        run.decisions = run.decide()
    return run


class _Sweep:
    """One sweep's reads and decisions, within one read session, on the obligations whose day has come."""

    def __init__(self, session: Session, settings: config.Settings, files: FileStore, clock: Clock,
                 owed: list[Owed]) -> None:
        self.session, self.settings, self.files, self.clock, self.owed = session, settings, files, clock, owed
        self.looked, self.full = owed, False  # the obligations read, whose next day the sweep writes; all of them?
        self.ladders: dict[tuple[str, str], Ladder | None] = {}
        self.levels: dict[int, int] = {}  # ladder levels decided in this sweep, by obligation
        self.decisions: list[Decision] = []

    def decide(self) -> list[Decision]:
        """The decisions not recorded yet, with their messages written. Most sweeps find every key recorded, so
        a decision is only made (and its words written) once its key is known to be new."""
        later = [_made(*p) for p in self.ladder()] + self.overdue() + self.reminders()
        later += [_made(*p) for p in digest_decisions(self.session, self.settings, self.clock, self.files)]
        later += query_decisions(self.session, self.settings, self.clock)  # the council's queries, chased
        later += plan_decisions(self.session, self.settings, self.clock)  # action plans and their actions
        later += expiry_decisions(self.session, self.settings, self.clock)  # insurance certificates lapsing
        later += workbook_decisions(self.session, self.settings, self.clock, self.files)  # plans' workbooks
        done = existing(self.session, [key for key, _ in later])
        todo = [make() for key, make in later if key not in done]
        if not todo:
            return []
        directory = Directory(self.session, {org for d, _ in todo for org in d.organisations},
                              telegram=bool(self.settings.telegram_token), teams=self.settings.reachable_teams())
        describer = Describer(self.session, reads.states(  # only decisions with messages name their return
            self.session, [d.obligation_id for d, _ in todo if d.obligation_id is not None and d.organisations],
            self.clock))
        for _, build in todo:
            build(self.session, directory, describer)
        return [d for d, _ in todo]

    def ladder_of(self, o: Owed) -> Ladder | None:
        if o.pair not in self.ladders:
            contract = self.session.get(Contract, o.contract_id)
            self.ladders[o.pair] = ladder_for(contract, o.return_type, self.settings) if contract else None
        return self.ladders[o.pair]

    # -- the escalation ladder -----------------------------------------------------------------------------------

    def ladder(self) -> list[Planned]:
        """A ladder decision for each period whose due date has passed: its level, and the notice it calls for."""
        clock = self.clock
        oldest = clock.today - reads.LADDER_LOOKBACK  # older periods are not escalated for the first time
        pending = [o for o in self.owed if not o.ladder_decided and oldest <= o.due < clock.today
                   and first_overdue_day(o.due) <= clock.today]
        late = [o for o in pending if o.late(clock)]
        history = reads.history(self.session, {o.contract_id for o in late}, clock) if late else {}
        planned = []
        for o in pending:
            decision = Decision(f"ladder:o{o.id}", "ladder", "escalation", o.id, 0, escalation_level=0)
            build: Build = _nothing
            ladder = self.ladder_of(o) if o.late(clock) else None
            if ladder is not None:
                rows = history.get(o.pair, [o])
                rows = rows[:next((i for i, r in enumerate(rows) if r.id == o.id), len(rows) - 1) + 1]
                step = ladder.step(_run(rows, clock))
                decision.level = decision.escalation_level = step.level
                if step.kind == "service_failure":  # an event on the record for the rolling year (DS.3, reports)
                    run = rows[-(ladder.failure_after or 1):]
                    decision.rows.append((ServiceFailureRow, dict(
                        contract_id=o.contract_id, return_type=o.return_type, periods=",".join(r.period_id for r in run),
                        last_period_id=o.period_id, occurred=o.due, recorded_at=clock.now)))
                if step.audience and _news(history.get(o.pair, [o]), o, step, clock):
                    decision.organisations = (o.provider_id, o.commissioner_id)
                    build = self._escalation(decision, o, step, ladder, rows)
            self.levels[o.id] = decision.level
            planned.append((decision, build))
        return planned

    def _escalation(self, decision: Decision, o: Owed, step: Step, ladder: Ladder, rows: list[Owed]) -> Build:
        clock = self.clock

        def build(session: Session, directory: Directory, describer: Describer) -> None:
            about = describer.about(o)
            people = (directory.people(o.provider_id, o.contract_id, [r for r in step.audience if r in PROVIDER])
                      + directory.people(o.commissioner_id, o.contract_id,
                                         [r for r in step.audience if r == "commissioner"]))
            failure = step.kind == "service_failure"
            decision.why = (f"{about.contract_name}: the {about.return_label.lower()} for {about.period} is late for "
                            f"the {ordinal(step.run)} consecutive period"
                            + (": a service failure under the contract" if failure else ": a warning"))
            shown = rows[-(ladder.failure_after or step.run if failure else min(step.run, SHOWN_PERIODS)):]
            periods = [_late_period(describer, row, clock) for row in shown]
            for person in people:
                if failure:
                    message = render("service_failure", person, a=about, count=number(len(shown)), periods=periods,
                                     rule=ladder.rule, source=ladder.source, occurred=short_day(clock.today))
                else:
                    message = render("warning", person, a=about, run=ordinal(step.run), periods=periods,
                                     failure=_failure_line(ladder, step), copied=_names([p.name for p in people]))
                decision.outgoing.append(Outgoing(person, message))
        return build

    # -- overdue notices -----------------------------------------------------------------------------------------

    def overdue(self) -> list[Later]:
        s, today = self.settings.scheduler, self.clock.today
        found: list[Later] = []
        for o in self.owed:
            if o.due >= today or o.accepted_by(self.clock.now):
                continue
            n = due_overdue(o.due, today, s.overdue_every_days, s.overdue_max)
            if n is not None:
                found.append((f"overdue:o{o.id}:n{n}", partial(self._overdue, o, n)))
        return found

    def _overdue(self, o: Owed, n: int) -> Planned:
        decision = Decision(f"overdue:o{o.id}:n{n}", "overdue", "overdue", o.id, n, organisations=(o.provider_id,))
        every = self.settings.scheduler.overdue_every_days
        overdue = days_text((self.clock.today - o.due).days)

        def build(session: Session, directory: Directory, describer: Describer) -> None:
            about = describer.about(o)
            decision.why = (f"{about.contract_name}: the {about.return_label.lower()} for {about.period}, due "
                            f"{about.due_short}, is {overdue} overdue (overdue notice {n})")
            note = self.ladder_note(o)
            for person in directory.people(o.provider_id, o.contract_id, PROVIDER):
                decision.outgoing.append(Outgoing(person, render(
                    "overdue", person, a=about, overdue=overdue, ladder=note,
                    every="week" if every == 7 else days_text(every))))
        return decision, build

    def ladder_note(self, o: Owed) -> str:
        """Where the return stands on the ladder, as the overdue notice tells the provider."""
        level = self.levels.get(o.id, o.escalation_level)
        ladder = self.ladder_of(o)
        if level == 1 and ladder is not None and ladder.failure_after:
            return (f"This period counts as late. Under the contract, {number(ladder.failure_after)} consecutive "
                    "late periods are a service failure.")
        return LADDER_NOTE.get(level, "")

    # -- reminders -----------------------------------------------------------------------------------------------

    def reminders(self) -> list[Later]:
        s, today = self.settings.scheduler, self.clock.today
        found: list[Later] = []
        for o in self.owed:  # due_reminder: none once the due date has passed
            if o.accepted_by(self.clock.now):
                continue
            days_before = due_reminder(o.due, s.reminder_days_for(o.contract_id, o.return_type), today)
            if days_before is not None:
                found.append((f"reminder:o{o.id}:d{days_before}", partial(self._reminder, o, days_before)))
        return found

    def _reminder(self, o: Owed, days_before: int) -> Planned:
        decision = Decision(f"reminder:o{o.id}:d{days_before}", "reminder", "reminder", o.id, days_before,
                            organisations=(o.provider_id,))
        when = when_text((o.due - self.clock.today).days)

        def build(session: Session, directory: Directory, describer: Describer) -> None:
            about = describer.about(o)
            decision.why = (f"{about.contract_name}: the {about.return_label.lower()} for {about.period} is due "
                            f"{about.due} ({when}): the reminder "
                            + ("on the day" if days_before == 0 else f"{days_text(days_before)} before"))
            people = directory.submitters(o.provider_id, o.contract_id)
            workbook = None
            if any(p.email for p in people):  # Telegram says /template instead
                workbook = workbook_for(session, self.files, o, about.provider_name, self.clock.now)
                decision.rows += workbook.rows
            for person in people:
                attach = workbook if person.email else None
                message = render("reminder", person, a=about, when=when, attachment=attach.name if attach else "")
                if attach is not None:
                    message = dataclasses.replace(message, attachment_sha256=attach.sha256,
                                                  attachment_name=attach.name)
                decision.outgoing.append(Outgoing(person, message))
        return decision, build


def _made(decision: Decision, build: Build) -> Later:
    """A decision made already (the ladder's and the digest's are few), as the plan lists them."""
    return decision.key, lambda: (decision, build)


def _run(rows: list[Owed], clock: Clock) -> int:
    """Consecutive late periods at the end of `rows` (oldest first)."""
    run = 0
    for row in rows:
        run = run + 1 if row.late(clock) else 0
    return max(run, 1)


def _news(rows: list[Owed], o: Owed, step: Step, clock: Clock) -> bool:
    """Is this step still news? The latest past-due period of its return always is; after downtime over several
    deadlines only the latest is told (its notice lists the earlier ones), except a service failure, which is told
    whenever it is found within the year."""
    return rows[-1].id == o.id or (step.kind == "service_failure" and o.due >= clock.today - timedelta(days=365))


def _late_period(describer: Describer, row: Owed, clock: Clock) -> LatePeriod:
    about = describer.about(row)
    if row.accepted_by(clock.now):
        assert row.first_accepted_at is not None
        day = clock.local_date(row.first_accepted_at)
        received = f"accepted {short_day(day)} ({days_text((day - row.due).days)} late)"
    else:
        received = "no return accepted yet"
    return LatePeriod(about.period_label, short_day(row.due), received)


def _failure_line(ladder: Ladder, step: Step) -> str:
    """What the contract's service failure rule means for this run, for a warning."""
    n = ladder.failure_after
    if n is None:
        return ""
    left = n - step.run % n
    if step.run > n:
        more = "the next late return would be another" if left == 1 else f"{number(left)} more would make another"
        return f"A service failure was recorded after {number(n)} consecutive late periods; {more}."
    more = "the next late return would be one" if left == 1 else f"{number(left)} more would make one"
    return f"Under the contract, {number(n)} consecutive late periods are a service failure: {more}."


def _names(names: list[str]) -> str:
    if not names:
        return "nobody"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _nothing(session: Session, directory: Directory, describer: Describer) -> None:
    """A decision with no message: an on-time period, or a level-1 late period (its overdue notice tells it)."""
