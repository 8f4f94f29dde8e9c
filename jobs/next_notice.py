"""The first day the sweep need look at an obligation again: `obligation.next_notice_on`.

Every notice an obligation can need falls on a day fixed by its due date and the scheduler's settings
(jobs/timing.py): its reminders, its place on the escalation ladder and first overdue notice (the working day after
the due date), then the overdue notices after that. Once a sweep has recorded every notice due by today, nothing
can happen to the obligation before the next of those days. The sweep writes that day. Later sweeps read, through
an index, only the obligations whose day has come, so a sweep on a day with nothing due reads nothing, however many
contracts there are and however many reminders are pending.

Why the day can be trusted:
- It is written only after the sweep's notices are queued. A kill in between leaves the old day, and the next sweep
  looks again and finds the notices recorded.
- It is worked out as if the return were still owed, unless it was accepted by the sweep's `now`. Acceptance only
  takes notices away, so a submission (on time, late, rejected) never makes the day wrong.
- A write lands only on a row whose due date is still the one it was worked out from, and only while a return
  taken as accepted still is. Changing a due date empties the day (bot/storage/sync.py), so a sweep racing that
  change cannot leave a stale day behind.
- The days depend on the settings (reminder days, overdue cadence). A process's first sweep with given settings
  (a start, a restart, a config change) looks at every obligation that may still need a notice and writes its day
  again, and so does a sweep whose clock has gone back a day or more (the demo's replays).
Two processes on one database work out the same days from the same settings: whichever writes last, the day is
the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import col

from bot import config
from bot.settings.scheduler import Scheduler
from bot.storage.db import retrying, write_session
from bot.storage.models import Obligation
from jobs.owed import Owed
from jobs.timing import Clock, due_overdue, first_overdue_day, overdue_day, reminder_day

NEVER = date(9999, 12, 31)  # no notice is ever due (an accepted return placed on the ladder)
CHUNK = 500

_swept: dict[tuple[str, str], datetime] = {}  # (database, settings) -> the latest sweep since a full look


def _identity(engine: sa.Engine, settings: config.Settings, clock: Clock) -> tuple[str, str]:
    return (engine.url.render_as_string(hide_password=True),
            f"{settings.timezone} {clock.since} {settings.scheduler.model_dump_json()}")


def needs_full_look(engine: sa.Engine, settings: config.Settings, clock: Clock) -> bool:
    """Must this sweep look at every obligation that may need a notice? Yes on a process's first sweep with these
    settings (and this day the chasing begins) on this database, and when its clock has gone back since."""
    last = _swept.get(_identity(engine, settings, clock))
    return last is None or clock.now < last


def swept(engine: sa.Engine, settings: config.Settings, clock: Clock, full: bool) -> None:
    """Record a sweep that wrote the days of what it looked at (every obligation that may need a notice, when
    `full`)."""
    key = _identity(engine, settings, clock)
    if full or key in _swept:
        _swept[key] = max(clock.now, _swept.get(key, clock.now))


def next_day(o: Owed, clock: Clock, settings: Scheduler) -> date:
    """The first day after today on which `o` may need a notice not recorded by today's sweep, or NEVER.

    Today's sweep records every notice due by today (reminders and overdue notices collapse into the latest, the
    ladder decides each period once), so only the days after it count."""
    today = clock.today
    if clock.since is not None and o.due < clock.since:  # kpibot's pre-history: never chased (jobs/chase.py)
        return NEVER
    days = []
    ladder = first_overdue_day(o.due)
    if not o.ladder_decided and ladder > today:  # else decided today, or too old to escalate now
        days.append(ladder)
    if not o.accepted_by(clock.now):
        days += [d for d in (reminder_day(o.due, before) for before in
                             settings.reminder_days_for(o.contract_id, o.return_type)) if d > today]
        sent = due_overdue(o.due, today, settings.overdue_every_days) or 0
        if not settings.overdue_max or sent < settings.overdue_max:
            days.append(overdue_day(o.due, sent + 1, settings.overdue_every_days))
    return min(days, default=NEVER)


def write(engine: sa.Engine, owed: Iterable[Owed], clock: Clock, settings: config.Settings) -> int:
    """Write the next notice day of each obligation a sweep looked at, after its notices are queued; return how
    many rows changed. Rows are grouped by (day, due date, accepted): a few updates, whatever the count."""
    groups: dict[tuple[date, date, bool], list[int]] = {}
    for o in owed:
        day = next_day(o, clock, settings.scheduler)
        if day != o.next_notice_on:
            groups.setdefault((day, o.due, o.accepted_by(clock.now)), []).append(o.id)
    if not groups:
        return 0

    def work() -> int:
        changed = 0
        with write_session(engine) as session:
            for (day, due, accepted), ids in groups.items():
                for start in range(0, len(ids), CHUNK):
                    where = [col(Obligation.id).in_(ids[start:start + CHUNK]), col(Obligation.due_date) == due]
                    if accepted:  # a day worked out for an accepted return holds while it stays accepted
                        where.append(col(Obligation.first_accepted_at).is_not(None))
                    result = session.execute(sa.update(Obligation).where(*where).values(next_notice_on=day))
                    changed += result.rowcount  # type: ignore[attr-defined]
            session.commit()
        return changed
    return retrying(work)
