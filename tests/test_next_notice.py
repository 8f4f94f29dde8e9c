"""Each return's next notice day (jobs/next_notice.py), on SQLite and PostgreSQL: a steady sweep reads only the
returns whose day has come, and the day never makes a notice late, lost or doubled.

City and Hackney's April-start year 2021-22, reminders 14, 3, 1 and 0 days before: Q1 is due Thursday 15 July
2021 (reminders 1, 12, 14 and 15 July), Q2 Friday 15 October (its 14-day reminder on Friday 1 October), the annual
return Saturday 30 April 2022 (its 14-day reminder on Thursday 14 April, before Good Friday).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa
from scheduler_fixtures import ALICE, CH_STOP_SMOKING, app_on, at, notices, scheduler_deployment
from sqlmodel import Session, col, select

from bot import config
from bot.storage import db
from bot.storage.models import Contract, Obligation
from bot.storage.sync import ensure_obligations
from jobs import next_notice
from jobs.chase import clock_at
from jobs.owed import candidates
from jobs.queueing import queue
from jobs.sweep import _planned, sweep
from kpi_core import loader
from kpi_core.framework.returns import DaysAfter

Q1, Q2, YEAR = "2021-22-Q1", "2021-22-Q2", "2021-22"


def url(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def days(engine: sa.Engine) -> dict[str, date | None]:
    """Each period's next notice day."""
    with Session(engine) as session:
        return dict(session.exec(select(Obligation.period_id, Obligation.next_notice_on)).all())


def looked_at(engine: sa.Engine, settings: config.Settings, day: date) -> list[str]:
    """The periods a steady sweep on `day` reads."""
    with Session(engine) as session:
        return [o.period_id for o in candidates(session, clock_at(session, at(day, 9), settings), full=False)]


def test_a_sweep_writes_each_returns_next_notice_day_and_a_steady_sweep_reads_nothing(engine: sa.Engine,
                                                                                       tmp_path: Path) -> None:
    settings = scheduler_deployment(tmp_path, url(engine), CH_STOP_SMOKING)
    app = app_on(settings, engine, date(2021, 4, 1))
    assert sweep(app.engine, settings, app.files, at(date(2021, 7, 1), 9)) == 1  # Q1's 14-day reminder
    assert days(engine) == {Q1: date(2021, 7, 12), Q2: date(2021, 10, 1), YEAR: date(2022, 4, 14)}
    assert looked_at(engine, settings, date(2021, 7, 2)) == []
    assert looked_at(engine, settings, date(2021, 7, 12)) == [Q1]
    assert sweep(app.engine, settings, app.files, at(date(2021, 7, 2), 9)) == 0
    assert sweep(app.engine, settings, app.files, at(date(2021, 7, 12), 9)) == 1  # the 3-day reminder, on its day
    assert days(engine)[Q1] == date(2021, 7, 14)


def test_an_accepted_return_placed_on_the_ladder_is_never_read_again(engine: sa.Engine, tmp_path: Path) -> None:
    """Q1 is not sent: its overdue notice and ladder decision go on Friday 16 July, the next overdue notice is
    due a week later; it is accepted late, and that sweep sends nothing and leaves it for good."""
    settings = scheduler_deployment(tmp_path, url(engine), CH_STOP_SMOKING)
    app = app_on(settings, engine, date(2021, 4, 1))
    sweep(app.engine, settings, app.files, at(date(2021, 7, 16), 9))
    assert [s.key.split(":")[:3] for s in notices(engine) if s.to == ALICE] == [["overdue", "o1", "n1"]]
    assert days(engine)[Q1] == date(2021, 7, 23)
    with Session(engine) as session:
        q1 = session.exec(select(Obligation).where(Obligation.period_id == Q1)).one()
        q1.first_accepted_at = at(date(2021, 7, 20))
        session.add(q1)
        session.commit()
    assert sweep(app.engine, settings, app.files, at(date(2021, 7, 23), 9)) == 0
    assert days(engine)[Q1] == next_notice.NEVER
    assert Q1 not in looked_at(engine, settings, date(2022, 7, 1))


def test_a_process_started_with_more_reminder_days_sends_the_new_reminder(engine: sa.Engine, tmp_path: Path) -> None:
    """The days were written with reminders 14, 3, 1, 0 days before; a process whose config adds 7 days before
    looks at every return again on its first sweep, and sends that reminder on Thursday 8 July."""
    settings = scheduler_deployment(tmp_path, url(engine), CH_STOP_SMOKING)
    app = app_on(settings, engine, date(2021, 4, 1))
    sweep(app.engine, settings, app.files, at(date(2021, 7, 1), 9))
    assert sweep(app.engine, settings, app.files, at(date(2021, 7, 8), 9)) == 0
    more = scheduler_deployment(tmp_path, url(engine), CH_STOP_SMOKING, "[scheduler]\nreminder_days = [14, 7, 3, 1, 0]")
    assert sweep(app.engine, more, app.files, at(date(2021, 7, 8), 10)) == 1
    assert notices(engine)[-1].subject.endswith("due in 7 days (15 July 2021)")
    assert days(engine)[Q1] == date(2021, 7, 12)


def test_a_due_date_brought_forward_moves_its_reminders_forward(engine: sa.Engine, tmp_path: Path) -> None:
    """The quarterly return's due rule changes from the 15th to the 5th after the quarter: Q2 (now due Tuesday 5
    October) gets its 14-day reminder on Tuesday 21 September, before the day written for the old due date."""
    settings = scheduler_deployment(tmp_path, url(engine), CH_STOP_SMOKING)
    app = app_on(settings, engine, date(2021, 4, 1))
    sweep(app.engine, settings, app.files, at(date(2021, 7, 1), 9))
    assert days(engine)[Q2] == date(2021, 10, 1)
    returns = dict(loader.get("ch-stop-smoking").returns)
    returns["quarterly"] = returns["quarterly"].model_copy(update={"due": DaysAfter(rule="days_after", days=5)})
    with Session(engine) as session:
        contract = session.get(Contract, "ch-stop-smoking")
        assert contract is not None
        ensure_obligations(session, contract, date(2021, 9, 1), returns)
        session.commit()
    assert days(engine)[Q2] is None
    sweep(app.engine, settings, app.files, at(date(2021, 9, 21), 9))
    assert [s.subject for s in notices(engine, ("reminder",)) if s.day == date(2021, 9, 21)] == [
        "Reminder: City and Hackney Stop Smoking Service: quarterly monitoring return for Q2 2021-22 due in 14 days "
        "(5 October 2021)"]


def test_a_day_worked_out_for_an_old_due_date_does_not_land(engine: sa.Engine, tmp_path: Path) -> None:
    """A sweep reads Q2 (due 15 October); before it writes the day, the due date changes: the write is refused
    and the next sweep works the day out afresh."""
    settings = scheduler_deployment(tmp_path, url(engine), CH_STOP_SMOKING)
    app = app_on(settings, engine, date(2021, 4, 1))
    run = _planned(app.engine, settings, app.files, at(date(2021, 7, 1), 9), full=None)
    queue(app.engine, run.decisions, at(date(2021, 7, 1), 9))
    with Session(engine) as session:
        session.execute(sa.update(Obligation).where(col(Obligation.period_id) == Q2)
                        .values(due_date=date(2021, 10, 5), next_notice_on=None))
        session.commit()
    assert next_notice.write(app.engine, run.looked, run.clock, settings) == 2  # Q1 and the annual return
    assert days(engine)[Q2] is None


def test_a_sweep_killed_after_queueing_leaves_the_days_and_the_next_sends_nothing_twice(engine: sa.Engine,
                                                                                      tmp_path: Path) -> None:
    settings = scheduler_deployment(tmp_path, url(engine), CH_STOP_SMOKING)
    app = app_on(settings, engine, date(2021, 4, 1))
    run = _planned(app.engine, settings, app.files, at(date(2021, 7, 1), 9), full=None)
    assert queue(app.engine, run.decisions, at(date(2021, 7, 1), 9)) == 1  # and killed before writing the days
    assert set(days(engine).values()) == {None}
    assert sweep(app.engine, settings, app.files, at(date(2021, 7, 1), 9, 5)) == 0
    assert days(engine)[Q1] == date(2021, 7, 12)
    assert sweep(app.engine, settings, app.files, at(date(2021, 7, 12), 9)) == 1
    assert [s.key for s in notices(engine)] == [f"reminder:o1:d{n}:c1:email" for n in (14, 3)]


def test_a_sweep_whose_clock_went_back_decides_as_if_no_day_were_written(engine: sa.Engine, tmp_path: Path) -> None:
    """The demo's replays go back in time: the 12 July sweep sends the 3-day reminder, and one on 1 July after it
    the 14-day reminder, as a sweep reading every return would."""
    settings = scheduler_deployment(tmp_path, url(engine), CH_STOP_SMOKING)
    app = app_on(settings, engine, date(2021, 4, 1))
    assert sweep(app.engine, settings, app.files, at(date(2021, 7, 12), 9)) == 1
    assert sweep(app.engine, settings, app.files, at(date(2021, 7, 1), 9)) == 1
    assert sorted(s.key for s in notices(engine)) == [f"reminder:o1:d{n}:c1:email" for n in (14, 3)]


def test_the_migration_fills_the_day_of_returns_that_need_no_notice_again(empty_database_url: str) -> None:
    engine = db.make_engine(empty_database_url)
    db.upgrade(engine, "0025")
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO organisation (id, name, kind) VALUES ('c', 'Council', 'council'), "
                          "('p', 'Provider', 'provider')"))
        c.execute(sa.text("INSERT INTO contract (id, name, framework_id, framework_version, provider_id, "
                          "commissioner_id, value, start, year_start_month) VALUES ('k', 'K', 'lifestyle', '1', "
                          "'p', 'c', 1, '2025-04-01', 4)"))
        for n, accepted in enumerate((True, True, False), start=1):
            c.execute(sa.text("INSERT INTO obligation (id, contract_id, return_type, period_id, period_start, "
                              "period_end, due_date, first_accepted_at, escalation_level) VALUES (:id, 'k', "
                              "'quarterly', :period, '2025-04-01', '2025-06-30', '2025-07-15', :at, 0)"),
                      dict(id=n, period=f"p{n}", at="2025-07-10 09:00:00" if accepted else None))
        for n in (1, 3):  # 1 and 3 are placed on the ladder; 2 is accepted but not yet placed
            c.execute(sa.text("INSERT INTO notice (key, obligation_id, kind, level, created_at) VALUES "
                              "(:key, :id, 'ladder', 0, '2025-07-16 09:00:00')"), dict(key=f"ladder:o{n}", id=n))
    db.upgrade(engine)
    assert days(engine) == {"p1": next_notice.NEVER, "p2": None, "p3": None}
    engine.dispose()
