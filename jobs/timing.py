"""When each notice is due: working days, sending hours and the day each stage of an obligation falls on.

Notices go out on working days in England and Wales (bank holidays from kpi_core's calendar), from 09:00 local
time: a stage that falls on a weekend or bank holiday moves to a working day, and anything due outside the sending
hours waits for the next sweep inside them. Pure functions of dates: no clock reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

from bot import config
from kpi_core.duedates import add_working_days, is_working_day, next_working_day

WEEKDAY = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4}


@dataclass(frozen=True)
class Clock:
    """`now` seen in the deployment's time zone, with the scheduler's sending hours and the day it chases from."""

    now: datetime
    zone: ZoneInfo
    send_from: time
    send_until: time
    since: date | None = None  # returns due before this are kpibot's pre-history: not chased

    @classmethod
    def of(cls, now: datetime, settings: config.Settings, started_on: date | None = None) -> "Clock":
        """The clock at `now`, chasing from `[scheduler] chase_from`, else from `started_on` (jobs/chase.py)."""
        s = settings.scheduler
        return cls(now, ZoneInfo(settings.timezone), s.send_from, s.send_until, s.chase_from or started_on)

    @cached_property
    def local(self) -> datetime:
        return self.now.astimezone(self.zone)

    @cached_property
    def today(self) -> date:
        return self.local.date()

    @property
    def sending(self) -> bool:
        """Inside the sending hours of a working day: notices may be queued now."""
        local = self.local
        return is_working_day(local.date()) and self.send_from <= local.time() < self.send_until

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


def next_sending(clock: Clock) -> datetime:
    """`clock.now` when notices may be queued now, else the moment the next sending hours begin (in UTC)."""
    if clock.sending:
        return clock.now
    day = clock.today if clock.local.time() < clock.send_from else clock.today + timedelta(days=1)
    start = datetime.combine(next_working_day(day), clock.send_from, clock.zone)
    return start.astimezone(clock.now.tzinfo)


def previous_working_day(day: date) -> date:
    """`day` itself if it is a working day, else the last working day before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


@lru_cache(maxsize=4096)  # pure, and the same few due dates are shared by many contracts
def reminder_day(due: date, days_before: int) -> date:
    """A reminder falls `days_before` the due date, or on the working day before that: a reminder must arrive
    before the deadline, never after it."""
    return previous_working_day(due - timedelta(days=days_before))


@lru_cache(maxsize=4096)
def first_overdue_day(due: date) -> date:
    """The working day after the due date: the first overdue notice and the escalation go out then."""
    return next_working_day(due + timedelta(days=1))


@lru_cache(maxsize=4096)
def overdue_day(due: date, number: int, every_days: int) -> date:
    """The day of overdue notice `number` (1 = the working day after the due date, then every `every_days`)."""
    return next_working_day(first_overdue_day(due) + timedelta(days=every_days * (number - 1)))


@lru_cache(maxsize=4096)
def due_reminder(due: date, days: tuple[int, ...], today: date) -> int | None:
    """The reminder to send by `today`: the latest whose day has come, while the deadline has not passed.

    Earlier reminders missed while the scheduler was down are not sent late (the latest one says the same, with
    less time left); none is sent after the due date. Returns its days-before, or None."""
    if today > due:
        return None
    come = [(reminder_day(due, d), -d) for d in days if reminder_day(due, d) <= today]
    return -max(come)[1] if come else None


@lru_cache(maxsize=4096)
def due_overdue(due: date, today: date, every_days: int, most: int = 0) -> int | None:
    """The number of the overdue notice to send by `today` (the latest whose day has come), or None. Missed
    weekly notices are not sent in a burst: the latest one stands for them. `most` caps the count (0: none)."""
    if today < first_overdue_day(due):
        return None
    number = (today - first_overdue_day(due)).days // every_days + 1
    while number > 1 and overdue_day(due, number, every_days) > today:
        number -= 1
    return min(number, most) if most else number


def report_day(deadline: date, working_days: int) -> date:
    """The day the commissioners' exception report goes out: `working_days` after a quarterly deadline."""
    return add_working_days(deadline, working_days) if working_days else next_working_day(deadline)


def digest_day(today: date, weekday: str) -> date:
    """This week's digest day: the configured weekday, or the next working day after it when it is a holiday."""
    monday = today - timedelta(days=today.weekday())
    return next_working_day(monday + timedelta(days=WEEKDAY[weekday]))
