"""A new deployment chases only what falls due once it exists, unless someone asks for more (jobs/chase.py).

Issue 20: "With the shipped config on a real date, one run queued 48 overdue notices (up to "510 days overdue"),
13 escalations ("late for the sixth consecutive period") and recorded a service failure. [...] A new deployment
must never chase what was due before it existed, unless someone asks it to."
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa
from scheduler_fixtures import ALICE, CAROL, CH_STOP_SMOKING, app_on, at, notices, scheduler_deployment
from sqlmodel import Session, func, select

from bot import config
from bot.app import App
from bot.storage.deployment import started_on
from bot.storage.models import Notice, OutboxMessage, ServiceFailureRow
from bot.storage.sync import sync_settings
from jobs.chase import chase_from
from jobs.preview import lines, preview
from jobs.reports import report_sweep
from jobs.sweep import sweep

# City and Hackney's contract began on 1 April 2021; its Q1, Q2 and Q3 2021-22 returns fell due on 15 July,
# 15 October and (a Saturday) 15 January. kpibot is set up on Monday 17 January 2022, the working day after.
GO_LIVE = date(2022, 1, 17)


def _count(engine: sa.Engine, model: type) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def test_the_first_sweep_of_a_new_deployment_chases_nothing_due_before_it_existed(engine: sa.Engine,
                                                                                   tmp_path: Path) -> None:
    settings = scheduler_deployment(tmp_path, engine.url.render_as_string(hide_password=False), CH_STOP_SMOKING)
    app = app_on(settings, engine, GO_LIVE)
    with Session(engine) as session:
        assert started_on(session) == GO_LIVE
    assert sweep(engine, settings, app.files, at(GO_LIVE, 10)) == 0
    assert report_sweep(engine, settings, app.files, at(date(2022, 1, 24), 10)) == 0  # 15 January's report
    assert _count(engine, ServiceFailureRow) == 0 and notices(engine) == []
    # What falls due once it exists is chased as ever: Q4 (due Good Friday 15 April) gets its reminders.
    assert sweep(engine, settings, app.files, at(date(2022, 4, 1), 10)) == 1
    assert [(n.kind, n.to, n.subject) for n in notices(engine)] == [
        ("reminder", ALICE, "Reminder: City and Hackney Stop Smoking Service: quarterly monitoring return for "
                            "Q4 2021-22 due in 14 days (15 April 2022)")]


def test_an_earlier_chase_from_is_how_someone_asks_for_the_older_returns(engine: sa.Engine, tmp_path: Path) -> None:
    settings = scheduler_deployment(tmp_path, engine.url.render_as_string(hide_password=False), CH_STOP_SMOKING,
                                    "[scheduler]\nchase_from = 2021-04-01\n")
    app = app_on(settings, engine, GO_LIVE)
    assert sweep(engine, settings, app.files, at(GO_LIVE, 10)) > 0
    sent = notices(engine)
    assert {n.subject for n in sent if n.kind == "overdue"} >= {
        "Overdue: City and Hackney Stop Smoking Service: quarterly monitoring return for Q1 2021-22 (186 days "
        "overdue)"}
    assert any(n.kind == "escalation" and n.to == CAROL and n.subject.startswith("Service failure") for n in sent)
    with Session(engine) as session:
        assert chase_from(session, settings).why == "[scheduler] chase_from in config.toml"


def test_a_database_loaded_by_an_earlier_kpibot_goes_on_chasing_every_return(engine: sa.Engine,
                                                                               tmp_path: Path) -> None:
    """An upgrade must not quietly stop the overdue notices a running deployment is sending."""
    settings = scheduler_deployment(tmp_path, engine.url.render_as_string(hide_password=False), CH_STOP_SMOKING)
    with Session(engine) as session:  # what `kpibot init` did before it recorded the start
        sync_settings(session, settings, at(date(2021, 4, 1)))
        session.commit()
    App.init(_app(settings, engine), at(GO_LIVE, 8))
    with Session(engine) as session:
        assert started_on(session) is None and chase_from(session, settings).day is None
        assert chase_from(session, settings).sentence().startswith("Every return is chased")
    assert sweep(engine, settings, _app(settings, engine).files, at(GO_LIVE, 10)) > 0
    assert any(n.kind == "overdue" and "Q1 2021-22" in n.subject for n in notices(engine))


def test_the_dry_run_shows_exactly_what_the_sweep_then_queues_and_queues_nothing(engine: sa.Engine,
                                                                                  tmp_path: Path) -> None:
    settings = scheduler_deployment(tmp_path, engine.url.render_as_string(hide_password=False), CH_STOP_SMOKING,
                                    "[scheduler]\nchase_from = 2021-10-01\n")
    app = app_on(settings, engine, GO_LIVE)
    now = at(GO_LIVE, 10)
    shown = preview(engine, settings, app.files, now)
    assert _count(engine, Notice) == _count(engine, OutboxMessage) == _count(engine, ServiceFailureRow) == 0
    text = "\n".join(lines(shown, settings))
    assert text.startswith("Dry run: nothing is queued or sent. A sweep now (10:00 on Monday 17 January 2022) "
                           f"would queue {shown.messages} messages.")
    assert "Returns due before 1 October 2021 are not chased ([scheduler] chase_from in config.toml)." in text
    assert "1 return due before 1 October 2021 with nothing accepted is left alone" in text  # Q1
    assert ("Overdue notice: City and Hackney Stop Smoking Service: the quarterly monitoring return for Q2 2021-22, "
            "due 15 October 2021, is 94 days overdue (overdue notice 14).") in text
    assert "  to Alice (provider submitter) by email, alice@breathe-easy.example: \"Overdue: " in text
    assert "is late for the second consecutive period: a warning." in text
    assert sweep(engine, settings, app.files, now) == shown.messages
    queued = sorted((n.kind, n.to, n.subject) for n in notices(engine, ("reminder", "overdue", "escalation", "digest")))
    assert queued == sorted((d.outbox_kind, o.recipient.address, o.message.subject) for d in shown.decisions
                            for o in d.outgoing)


def test_outside_the_sending_hours_the_dry_run_shows_the_next_sweep_that_may_send(engine: sa.Engine,
                                                                                  tmp_path: Path) -> None:
    settings = scheduler_deployment(tmp_path, engine.url.render_as_string(hide_password=False), CH_STOP_SMOKING)
    app = app_on(settings, engine, date(2022, 3, 31))
    shown = preview(engine, settings, app.files, at(date(2022, 4, 2), 20))  # a Saturday evening
    assert shown.at == at(date(2022, 4, 4), 9)
    text = "\n".join(lines(shown, settings))
    assert ("Notices go out on working days from 09:00 to 17:30, so the next sweep that may send is at 09:00 on "
            "Monday 4 April 2022; it would queue 1 message.") in text
    assert ("Reminder: City and Hackney Stop Smoking Service: the quarterly monitoring return for Q4 2021-22 is due "
            "Friday 15 April 2022 (in 11 days): the reminder 14 days before.") in text
    assert _count(engine, OutboxMessage) == 0


def _app(settings: config.Settings, engine: sa.Engine) -> App:
    app = App(settings)
    app.__dict__["engine"] = engine
    return app


def test_init_records_the_start_once_and_a_later_init_keeps_it(engine: sa.Engine, tmp_path: Path) -> None:
    settings = scheduler_deployment(tmp_path, engine.url.render_as_string(hide_password=False), CH_STOP_SMOKING)
    app_on(settings, engine, GO_LIVE)
    _app(settings, engine).init(at(date(2022, 6, 1), 8))
    with Session(engine) as session:
        assert started_on(session) == GO_LIVE


def test_the_dry_run_names_the_exception_report_and_its_readers_without_drawing_it(engine: sa.Engine,
                                                                                   tmp_path: Path) -> None:
    settings = scheduler_deployment(tmp_path, engine.url.render_as_string(hide_password=False), CH_STOP_SMOKING,
                                    "[scheduler]\nchase_from = 2021-10-01\n")
    app = app_on(settings, engine, GO_LIVE)
    text = "\n".join(lines(preview(engine, settings, app.files, at(date(2022, 1, 24), 10)), settings))
    assert ("Exception report: the commissioners' exception report on the quarterly returns due 15 January 2022, 5 "
            "working days after that deadline (its PDF is drawn when it is sent).\n"
            "  to Carol (commissioner) by email, carol@example-council.example") in text
    assert _count(engine, OutboxMessage) == 0
