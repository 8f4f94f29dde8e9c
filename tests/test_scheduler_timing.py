"""When notices fall due: working days, bank holidays, sending hours across clock changes, catch-up, the ladder."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot import config
from jobs.ladder import Ladder
from jobs.timing import (
    Clock,
    digest_day,
    due_overdue,
    due_reminder,
    first_overdue_day,
    overdue_day,
    reminder_day,
    report_day,
)

DAYS = (14, 3, 1, 0)


@pytest.mark.parametrize(("due", "days_before", "day"), [
    (date(2025, 10, 15), 14, date(2025, 10, 1)),  # a Wednesday: as it falls
    (date(2026, 2, 15), 0, date(2026, 2, 13)),  # due on a Sunday: the day itself moves back to Friday
    (date(2026, 2, 15), 1, date(2026, 2, 13)),
    (date(2022, 4, 15), 0, date(2022, 4, 14)),  # due on Good Friday: Thursday
    (date(2022, 1, 15), 14, date(2021, 12, 31)),  # 1 January 2022 (a Saturday) back to Friday 31 December
    (date(2026, 1, 9), 14, date(2025, 12, 24)),  # Christmas and Boxing Day, then a weekend: Wednesday 24th
])
def test_a_reminder_falls_on_the_working_day_before_a_weekend_or_holiday(due: date, days_before: int,
                                                                         day: date) -> None:
    assert reminder_day(due, days_before) == day


@pytest.mark.parametrize(("due", "first"), [
    (date(2025, 10, 15), date(2025, 10, 16)),
    (date(2026, 2, 13), date(2026, 2, 16)),  # due Friday: Monday
    (date(2022, 1, 15), date(2022, 1, 17)),  # due Saturday: Monday
    (date(2022, 4, 14), date(2022, 4, 19)),  # due before Good Friday and Easter Monday: Tuesday
    (date(2025, 12, 24), date(2025, 12, 29)),
])
def test_the_first_overdue_notice_is_the_working_day_after_the_due_date(due: date, first: date) -> None:
    assert first_overdue_day(due) == first


def test_weekly_overdue_notices_move_off_bank_holidays() -> None:
    due = date(2022, 4, 8)  # Friday: first notice Monday 11 April, then Easter Monday 18th -> Tuesday 19th
    assert [overdue_day(due, n, 7) for n in (1, 2, 3)] == [date(2022, 4, 11), date(2022, 4, 19), date(2022, 4, 25)]


@pytest.mark.parametrize(("today", "expected"), [
    (date(2025, 9, 30), None),  # before the first reminder
    (date(2025, 10, 1), 14),
    (date(2025, 10, 9), 14),  # already sent on the 1st (the key says so); still the latest whose day has come
    (date(2025, 10, 10), 3),  # 3 days before is Sunday 12th: Friday 10th
    (date(2025, 10, 14), 1),  # down from the 2nd to the 14th: the 1-day one only, not three at once
    (date(2025, 10, 15), 0),
    (date(2025, 10, 16), None),  # after the deadline: never a reminder
])
def test_the_reminder_due_is_the_latest_whose_day_has_come_before_the_deadline(today: date,
                                                                              expected: int | None) -> None:
    assert due_reminder(date(2025, 10, 15), DAYS, today) == expected


@pytest.mark.parametrize(("today", "most", "expected"), [
    (date(2025, 10, 15), 0, None),
    (date(2025, 10, 16), 0, 1),
    (date(2025, 10, 22), 0, 1),
    (date(2025, 10, 23), 0, 2),
    (date(2025, 11, 20), 0, 6),  # down for a month: the sixth notice, not five at once
    (date(2025, 11, 20), 3, 3),  # capped at three
])
def test_the_overdue_notice_due_is_the_latest_whose_day_has_come(today: date, most: int,
                                                                 expected: int | None) -> None:
    assert due_overdue(date(2025, 10, 15), today, 7, most) == expected


def test_the_exception_report_and_digest_days_skip_holidays() -> None:
    assert report_day(date(2022, 4, 15), 5) == date(2022, 4, 25)  # Good Friday + 5 working days
    assert report_day(date(2026, 2, 15), 5) == date(2026, 2, 20)
    assert digest_day(date(2026, 5, 27), "monday") == date(2026, 5, 26)  # Monday 25 May is a bank holiday
    assert digest_day(date(2026, 5, 20), "wednesday") == date(2026, 5, 20)


@pytest.mark.parametrize(("utc", "sending"), [
    (datetime(2026, 3, 27, 8, 59, tzinfo=UTC), False),  # 08:59 GMT
    (datetime(2026, 3, 27, 9, 0, tzinfo=UTC), True),  # 09:00 GMT
    (datetime(2026, 3, 30, 8, 0, tzinfo=UTC), True),  # 09:00 BST, the Monday after the clocks change
    (datetime(2026, 3, 30, 7, 59, tzinfo=UTC), False),
    (datetime(2026, 3, 30, 16, 30, tzinfo=UTC), False),  # 17:30 BST
    (datetime(2026, 4, 3, 10, 0, tzinfo=UTC), False),  # Good Friday
    (datetime(2026, 3, 28, 12, 0, tzinfo=UTC), False),  # Saturday
])
def test_notices_go_from_nine_in_london_on_working_days(utc: datetime, sending: bool) -> None:
    assert Clock.of(utc, config.Settings()).sending is sending


@pytest.mark.parametrize(("run", "level", "kind", "audience"), [
    (1, 1, "late", ()),
    (2, 2, "warning", ("provider_submitter", "provider_manager", "commissioner")),
    (3, 3, "service_failure", ("commissioner",)),
    (4, 3, "warning", ("provider_submitter", "provider_manager", "commissioner")),
    (5, 3, "warning", ("provider_submitter", "provider_manager", "commissioner")),
    (6, 3, "service_failure", ("commissioner",)),  # six late quarters: two service failures
])
def test_the_ladder_climbs_with_the_run_of_late_periods(run: int, level: int, kind: str,
                                                        audience: tuple[str, ...]) -> None:
    step = Ladder(3).step(run)  # the lifestyle schedule: three consecutive late periods
    assert (step.level, step.kind, step.audience) == (level, kind, audience)


def test_a_contract_without_a_service_failure_rule_stops_at_a_warning() -> None:
    assert [Ladder(None).step(run).level for run in (1, 2, 3, 7)] == [1, 2, 2, 2]
    assert Ladder(None).step(3).kind == "warning"


CONFIG = """
[[organisations]]
id = "council"
name = "Council"
kind = "council"

[[organisations]]
id = "provider"
name = "Provider"
kind = "provider"

[[contracts]]
id = "ch"
name = "Stop smoking"
framework = "ch-stop-smoking"
provider = "provider"
commissioner = "council"
value = 1
start = 2025-04-01
"""


def load(tmp_path: Path, scheduler: str) -> config.Settings:
    path = tmp_path / "config.toml"
    path.write_text(scheduler + CONFIG, encoding="utf-8")
    return config.load(path, environ={})


def test_reminder_days_are_set_per_return_type_and_per_contract(tmp_path: Path) -> None:
    settings = load(tmp_path, "[scheduler]\nreminder_days = [10, 0]\n[scheduler.return_types.annual]\n"
                              "reminder_days = [28, 7]\n[scheduler.contracts.ch]\nreminder_days = [5]\n"
                              "[scheduler.contracts.ch.return_types.annual]\nreminder_days = []\n")
    s = settings.scheduler
    assert s.reminder_days_for("ch", "quarterly") == (5,)  # the contract's own
    assert s.reminder_days_for("ch", "annual") == ()  # none at all for this contract's annual return
    assert s.reminder_days_for("other", "annual") == (28, 7)
    assert s.reminder_days_for("other", "quarterly") == (10, 0)


@pytest.mark.parametrize(("text", "message"), [
    ("[scheduler.contracts.nope]\nreminder_days = [3]\n", "scheduler.contracts.nope: 'nope' is not a contract"),
    ("[scheduler.return_types.monthly]\nreminder_days = [3]\n",
     "scheduler.return_types.monthly: no such return (known: annual, quarterly)"),
    ("[scheduler]\nreminder_days = [3, 3]\n", "reminder_days: a day appears more than once in [3, 3]"),
    ("[scheduler]\nreminder_days = [-1]\n", "scheduler.reminder_days #1: must be 0 or more (not -1)"),
    ("[scheduler]\nsend_from = 18:00:00\n", "send_from must be earlier than send_until"),
    ("[scheduler]\ndigest_weekday = \"sunday\"\n", "scheduler.digest_weekday"),
    ("[scheduler]\nremind = [3]\n", "scheduler.remind: is not a known setting"),
])
def test_bad_scheduler_settings_are_refused_naming_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(config.ConfigError, match=None) as error:
        load(tmp_path, text)
    assert message in str(error.value)
