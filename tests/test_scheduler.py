"""The scheduler over simulated years, on SQLite and PostgreSQL: every reminder, overdue notice and escalation,
with its recipient, date and words; the escalation ladder; catch-up after downtime; sending hours.

The clock is simulated: `Replay` runs the sweep once per working day at 09:00 London time, and returns arrive
through the real intake at the moments a test gives, so each sweep sees exactly what had arrived by then.
"""

from __future__ import annotations

import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from scheduler_fixtures import (
    ALEX,
    ALICE,
    APRIL_END,
    APRIL_RETURNS,
    APRIL_START,
    CAROL,
    CH_STOP_SMOKING,
    DAVE,
    LIFESTYLE,
    SAM,
    app_on,
    april_year_expected,
    at,
    brief,
    levels,
    notices,
    received,
    return_file,
    scheduler_deployment,
)
from sqlmodel import Session, col, func, select

from bot import config
from bot.app import App, all_tasks
from bot.demo.simulate import Replay
from bot.processes import leases
from bot.service.loop import Service
from bot.storage.models import Notice, Obligation, OutboxMessage
from jobs.reports import report_sweep
from jobs.status import scheduler_lines
from jobs.sweep import sweep
from jobs.tasks import scheduler_tasks
from kpi_core import loader, samples


def replay_year(app: App, first: date, last: date,
                returns: list[tuple[str, str, str, str, date, bool]]) -> None:
    """Run the scheduler from `first` to `last`; each return (sender, framework, return type, period, day, good)
    arrives at 10:00 on its day, after that day's 09:00 sweep."""
    scheduler = Replay(app, first, reports=False, deliver=False)
    for n, (sender, framework, return_type, period, day, good) in enumerate(returns):
        scheduler.until(at(day))
        result = app.intake.submit(received(sender, return_file(framework, return_type, seed=n, good=good), period,
                                            at(day), f"m{n}"))
        assert result.outcome == ("accepted" if good else "rejected"), result.reply
    scheduler.until(at(last, 18))


@pytest.mark.long
def test_a_year_of_an_april_start_quarterly_contract(engine: sa.Engine, tmp_path: Path) -> None:
    """2021-22: Q1 accepted the day before its 3-day reminder; Q2 late; Q3 due on a Saturday, rejected, then late;
    Q4 due on Good Friday (a bank holiday) and never sent: three late quarters in a row, a service failure; the
    annual return on time."""
    settings = scheduler_deployment(tmp_path, str(engine.url.render_as_string(hide_password=False)), CH_STOP_SMOKING)
    app = app_on(settings, engine, date(2021, 4, 1))
    replay_year(app, APRIL_START, APRIL_END, APRIL_RETURNS)
    sent = notices(engine)
    assert brief(sent) == april_year_expected()
    assert levels(engine, "ch-stop-smoking") == {"2021-22-Q1": 0, "2021-22-Q2": 1, "2021-22-Q3": 2,
                                                 "2021-22-Q4": 3, "2021-22": 0, "2022-23-Q1": 0, "2022-23": 0}

    # The words: what is due, for which period, by when, with the workbook; the ladder in each notice.
    first = sent[0]
    assert first.attachment == "ch-stop-smoking-2021-22-Q1.xlsx"
    assert ("the quarterly monitoring return for City and Hackney Stop Smoking Service, Q1 2021-22 (April 2021 to "
            "June 2021), is due in 14 days: by Thursday 15 July 2021") in first.text
    assert "The workbook to fill in is attached (ch-stop-smoking-2021-22-Q1.xlsx)" in first.text
    assert all(s.attachment for s in sent if s.kind == "reminder")
    q2 = next(s for s in sent if s.kind == "overdue" and s.to == DAVE)
    assert "was due by Friday 15 October 2021 and has not been accepted: it is 3 days overdue" in q2.text
    assert "This period counts as late. Under the contract, three consecutive late periods are a service failure." \
        in q2.text
    q3 = next(s for s in sent if s.kind == "overdue" and "Q3" in s.subject)
    assert "The version received on 14 January 2022 was not accepted" in q3.text
    assert "your manager and the commissioner have been told" in q3.text
    warned = next(s for s in sent if s.kind == "escalation" and s.to == CAROL and "Warning" in s.subject)
    assert "- Q2 2021-22 (July 2021 to September 2021): due 15 October 2021, accepted 20 October 2021 (5 days late)" \
        in warned.text
    assert "- Q3 2021-22 (October 2021 to December 2021): due 15 January 2022, no return accepted yet" in warned.text
    assert "the next late return would be one" in warned.text
    assert "This warning goes to Alice, Dave and Carol." in warned.text
    failure = next(s for s in sent if "Service failure" in s.subject)
    assert "due 15 January 2022, accepted 26 January 2022 (11 days late)" in failure.text
    assert "due 15 April 2022, no return accepted yet" in failure.text
    # The rule is this contract's by the commissioner's configuration (the lifestyle schedule's words are quoted
    # where the contract itself says it: see the lifestyle year below).
    assert ('"Returns submitted late for three consecutive periods are a service failure" (the contract\'s terms, as '
            "set in kpibot's configuration)") in failure.text
    assert "recorded on 19 April 2022" in failure.text
    assert "Q1 2021-22" not in failure.text  # on time: not part of the run
    with Session(engine) as session:  # every notice is recorded once under its key, with its message
        keys = session.exec(select(Notice.key).where(col(Notice.outbox_id).is_not(None))).all()
        chased = ("digest", "plans_after_return", "plan_reminder", "plan_overdue", "plan_workbook")  # plans
        assert len(keys) == len(set(keys)) == len(sent) + len(notices(engine, chased))


@pytest.mark.long
def test_a_year_of_the_november_start_lifestyle_contract(engine: sa.Engine, tmp_path: Path) -> None:
    """2025-26 (Q1 = November to January): Q1 due on Sunday 15 February, accepted on the Friday before; Q2
    accepted the day before its 3-day reminder; Q3 due on Saturday 15 August and late."""
    settings = scheduler_deployment(tmp_path, str(engine.url.render_as_string(hide_password=False)), LIFESTYLE)
    app = app_on(settings, engine, date(2025, 11, 1))
    replay_year(app, date(2025, 11, 1), date(2026, 9, 30), [
        (SAM, "lifestyle", "quarterly", "2025-26-Q1", date(2026, 2, 13), True),
        (SAM, "lifestyle", "quarterly", "2025-26-Q2", date(2026, 5, 11), True),
        (SAM, "lifestyle", "quarterly", "2025-26-Q3", date(2026, 8, 19), True),
    ])
    c, q = "One You Lifestyle Programmes", "quarterly monitoring return"

    def reminder(day: date, period: str, when: str, due: str) -> tuple[date, str, str, str]:
        return (day, "reminder", SAM, f"Reminder: {c}: {q} for {period} due {when} ({due})")

    expected = [
        # Sunday 15 February: 14 days before is Sunday 1 February, so Friday 30 January; 1 day before and the day
        # itself fall on the weekend, so one reminder on Friday 13th (the return came at 10:00 that day).
        reminder(date(2026, 1, 30), "Q1 2025-26", "in 16 days", "15 February 2026"),
        reminder(date(2026, 2, 12), "Q1 2025-26", "in 3 days", "15 February 2026"),
        reminder(date(2026, 2, 13), "Q1 2025-26", "in 2 days", "15 February 2026"),
        reminder(date(2026, 5, 1), "Q2 2025-26", "in 14 days", "15 May 2026"),
        # 12 May (3 days before): not sent, the return was accepted on 11 May.
        reminder(date(2026, 7, 31), "Q3 2025-26", "in 15 days", "15 August 2026"),
        reminder(date(2026, 8, 12), "Q3 2025-26", "in 3 days", "15 August 2026"),
        reminder(date(2026, 8, 14), "Q3 2025-26", "tomorrow", "15 August 2026"),
        *[(date(2026, 8, 17), "overdue", who, f"Overdue: {c}: {q} for Q3 2025-26 (2 days overdue)")
          for who in (SAM, ALEX)],
    ]
    sent = notices(engine)
    assert brief(sent) == sorted(expected)
    assert "Q1 2025-26 (November 2025 to January 2026), is due in 16 days: by Sunday 15 February 2026" in sent[0].text
    assert sent[0].attachment == "lifestyle-2025-26-Q1.xlsx"
    overdue = next(s for s in sent if s.kind == "overdue")
    assert "This period counts as late" in overdue.text  # the first late period: no warning, no escalation
    assert levels(engine, "lifestyle") == {"2025-26-Q1": 0, "2025-26-Q2": 0, "2025-26-Q3": 1, "2025-26-Q4": 0,
                                           "2025-26": 0}


def test_three_late_quarters_make_one_service_failure_and_an_on_time_return_resets_the_ladder(
        engine: sa.Engine, tmp_path: Path) -> None:
    """Q1-Q3 2021-22 late: one service-failure notice, however often the sweep runs; Q4 on time resets the run, so
    2022-23 Q1 late is a first late period again and Q2 late a warning, not another failure."""
    settings = scheduler_deployment(tmp_path, str(engine.url.render_as_string(hide_password=False)), CH_STOP_SMOKING)
    app = app_on(settings, engine, date(2021, 4, 1))
    arrivals = {"2021-22-Q1": date(2021, 7, 20), "2021-22-Q2": date(2021, 10, 20), "2021-22-Q3": date(2022, 1, 20),
                "2021-22-Q4": date(2022, 4, 13), "2022-23-Q1": date(2022, 7, 19), "2022-23-Q2": date(2022, 10, 19)}
    # The days that matter for the ladder: each quarter's first overdue day, swept three times, and the day after.
    ladder_days = [date(2021, 7, 16), date(2021, 10, 18), date(2022, 1, 17), date(2022, 4, 19), date(2022, 7, 18),
                   date(2022, 10, 17)]
    timeline = [(at(d, hour), None) for d in ladder_days for hour in (9, 12, 16)]
    timeline += [(at(d + timedelta(days=1), 11), None) for d in ladder_days]
    timeline += [(at(day), period) for period, day in arrivals.items()]
    for n, (moment, period) in enumerate(sorted(timeline)):
        if period is None:
            sweep(app.engine, settings, app.files, moment)
        else:
            app.intake.submit(received(ALICE, return_file("ch-stop-smoking", "quarterly", seed=n), period, moment,
                                       f"m{n}"))
    escalations = notices(engine, ("escalation",))
    failures = [s for s in escalations if s.subject.startswith("Service failure")]
    assert [(s.day, s.to) for s in failures] == [(date(2022, 1, 17), CAROL)]
    assert [(s.day, s.to) for s in escalations if s.subject.startswith("Warning")] == [
        (date(2021, 10, 18), ALICE), (date(2021, 10, 18), DAVE), (date(2021, 10, 18), CAROL),
        (date(2022, 10, 17), ALICE), (date(2022, 10, 17), DAVE), (date(2022, 10, 17), CAROL)]
    assert {p: v for p, v in levels(engine, "ch-stop-smoking").items() if p in arrivals} == {
        "2021-22-Q1": 1, "2021-22-Q2": 2, "2021-22-Q3": 3, "2021-22-Q4": 0, "2022-23-Q1": 1, "2022-23-Q2": 2}
    with Session(engine) as session:
        ladder = session.exec(select(func.count()).select_from(Notice).where(Notice.kind == "ladder")).one()
    assert ladder == 7  # one decision per past-due period (the 2021-22 annual return too), never repeated


def test_a_scheduler_down_over_a_deadline_catches_up_with_sense(engine: sa.Engine, tmp_path: Path) -> None:
    """Down from 16 July to 20 October 2021: Q2's reminders are not sent after its deadline; its overdue notice
    and escalation, due on the 18th, are sent on the 20th; Q1's weekly notices come as one, not a burst."""
    settings = scheduler_deployment(tmp_path, str(engine.url.render_as_string(hide_password=False)), CH_STOP_SMOKING)
    app = app_on(settings, engine, date(2021, 4, 1))
    sweep(app.engine, settings, app.files, at(date(2021, 7, 16), 9))  # Q1 never arrives: late
    assert sweep(app.engine, settings, app.files, at(date(2021, 10, 20), 9)) > 0
    c, q = "City and Hackney Stop Smoking Service", "quarterly monitoring return"
    caught_up = [(s.kind, s.to, s.subject) for s in notices(engine) if s.day == date(2021, 10, 20)]
    assert sorted(caught_up) == sorted([
        *[("overdue", who, f"Overdue: {c}: {q} for Q1 2021-22 (97 days overdue)") for who in (ALICE, DAVE)],
        *[("overdue", who, f"Overdue: {c}: {q} for Q2 2021-22 (5 days overdue)") for who in (ALICE, DAVE)],
        *[("escalation", who, f"Warning: {c}: {q} late for the second consecutive period")
          for who in (ALICE, DAVE, CAROL)]])
    q1 = [s.key.split(":")[2] for s in notices(engine, ("overdue",)) if "Q1" in s.subject and s.to == ALICE]
    assert q1 == ["n1", "n14"]  # the first, then the fourteenth weekly notice standing for the twelve missed


def test_notices_wait_for_the_sending_hours_of_a_working_day(engine: sa.Engine, tmp_path: Path) -> None:
    """A reminder due on Friday 1 October 2021 is not queued at 08:59 or on the evening before; at 17:45 it waits
    for the next working day, and is not lost."""
    settings = scheduler_deployment(tmp_path, str(engine.url.render_as_string(hide_password=False)), CH_STOP_SMOKING)
    app = app_on(settings, engine, date(2021, 4, 1))
    with Session(engine) as session:  # Q1 was accepted on time, so only Q2's reminders are due
        q1 = session.exec(select(Obligation).where(Obligation.period_id == "2021-22-Q1")).one()
        q1.first_accepted_at = at(date(2021, 7, 1))
        session.add(q1)
        session.commit()
    day = date(2021, 10, 1)
    assert sweep(app.engine, settings, app.files, at(day, 8, 59)) == 0
    assert sweep(app.engine, settings, app.files, at(day, 17, 45)) == 0
    assert sweep(app.engine, settings, app.files, at(date(2021, 10, 2), 10)) == 0  # Saturday
    assert sweep(app.engine, settings, app.files, at(date(2021, 10, 4), 9)) == 1  # Monday: sent, not lost
    assert sweep(app.engine, settings, app.files, at(date(2021, 10, 4), 9, 5)) == 0  # once
    assert [(s.day, s.to) for s in notices(engine)] == [(date(2021, 10, 4), ALICE)]
    assert "due in 11 days" in notices(engine)[0].subject


def test_reminders_follow_the_contract_and_return_type_settings(engine: sa.Engine, tmp_path: Path) -> None:
    extra = ("[scheduler]\nreminder_days = [7]\n[scheduler.return_types.annual]\nreminder_days = [21]\n"
             "[scheduler.contracts.ch-stop-smoking.return_types.quarterly]\nreminder_days = [10, 2]\n")
    settings = scheduler_deployment(tmp_path, str(engine.url.render_as_string(hide_password=False)),
                                    CH_STOP_SMOKING, extra)
    assert settings.scheduler.reminder_days_for("ch-stop-smoking", "quarterly") == (10, 2)
    assert settings.scheduler.reminder_days_for("ch-stop-smoking", "annual") == (21,)
    app = app_on(settings, engine, date(2021, 4, 1))
    Replay(app, date(2021, 6, 1), reports=False, deliver=False).until(at(date(2021, 7, 16), 18))
    assert [(s.day, s.subject.split(" due ")[1]) for s in notices(engine, ("reminder",))] == [
        (date(2021, 7, 5), "in 10 days (15 July 2021)"), (date(2021, 7, 13), "in 2 days (15 July 2021)")]


def test_reminders_go_by_telegram_to_a_linked_chat_and_say_template(engine: sa.Engine, tmp_path: Path) -> None:
    settings = scheduler_deployment(tmp_path, str(engine.url.render_as_string(hide_password=False)), CH_STOP_SMOKING)
    text = Path(settings.source).read_text().replace('role = "provider_submitter"\n',
                                                     'role = "provider_submitter"\ntelegram_chat_id = 1001\n', 1)
    Path(settings.source).write_text(text)
    linked = config.load(settings.source, environ={"KPIBOT_TELEGRAM_TOKEN": "123:abc"})
    app = app_on(linked, engine, date(2021, 4, 1))
    sweep(app.engine, linked, app.files, at(date(2021, 7, 1), 9))
    with Session(engine) as session:
        message = session.exec(select(OutboxMessage)).one()
    assert (message.channel, message.address, message.attachment_sha256, message.headers) == ("telegram", "1001",
                                                                                              None, {})
    assert "Send /template to get the workbook to fill in, then send it back here." in message.body_text
    # Without a bot token the same contact is reminded by email, marked as automatic.
    sweep(app.engine, settings, app.files, at(date(2021, 7, 12), 9))
    with Session(engine) as session:
        email = session.exec(select(OutboxMessage).where(OutboxMessage.channel == "email")).one()
    assert email.headers["Auto-Submitted"] == "auto-generated" and email.attachment_sha256


def test_the_weekly_digest_lists_what_is_late_and_red_in_one_message(engine: sa.Engine, tmp_path: Path) -> None:
    settings = scheduler_deployment(tmp_path, str(engine.url.render_as_string(hide_password=False)),
                                    CH_STOP_SMOKING + LIFESTYLE)
    app = app_on(settings, engine, date(2026, 1, 1))
    values = samples.sample_values(loader.get("lifestyle"), "quarterly", seed=3, level=0.3)  # mostly red
    weak = samples.to_csv(values).encode()
    assert app.intake.submit(received(SAM, weak, "2025-26-Q1", at(date(2026, 2, 10)), "w")).outcome == "accepted"
    monday = date(2026, 2, 23)
    sweep(app.engine, settings, app.files, at(monday, 9))
    sweep(app.engine, settings, app.files, at(monday + timedelta(days=1), 9))  # once a week
    digests = notices(engine, ("digest",))
    assert [(d.day, d.to) for d in digests] == [(monday, CAROL)]
    text = digests[0].text
    assert "LATE RETURNS" in text and "City and Hackney Stop Smoking Service: quarterly monitoring return for Q3 " \
        "2025-26" in text
    assert "INDICATORS AT RED IN THE LATEST RETURNS" in text and "One You Lifestyle Programmes, Q1 2025-26" in text
    assert digests[0].subject.startswith("Weekly digest, week of 23 February 2026: ")


def test_the_digest_tells_each_commissioner_of_files_refused_as_personal_data_and_nothing_of_them(
        engine: sa.Engine, tmp_path: Path) -> None:
    """Issue 14: a refused file's 'commissioners told that a refused file exists, not its content'. Carol sees both
    contracts; Rita only the lifestyle one, so she hears nothing of Breathe Easy's file; a file refused the week
    before is not told again."""
    settings = scheduler_deployment(tmp_path, str(engine.url.render_as_string(hide_password=False)),
                                    CH_2025 + LIFESTYLE + RITA_CONTACT)
    app = app_on(settings, engine, date(2026, 1, 1))
    patients = (b"item,breakdown,value\nquit_dates,,120\nname,nhs_number,dob\nJane Smith,943 476 5919,1961-03-02\n"
                b"Ali Khan,401 023 2137,1958-11-30\nMary Jones,943 476 5870,1972-01-15\n")
    for day, tag in ((date(2026, 2, 12), "old"), (date(2026, 2, 17), "new")):  # Thursday before, Tuesday of
        result = app.intake.submit(received(ALICE, patients, "2025-26-Q3", at(day), f"<{tag}@breathe-easy>"))
        assert result.outcome == "quarantined"
    with Session(engine) as session:  # the other digest lines are not this test's business
        for message in session.exec(select(OutboxMessage)):
            session.delete(message)
        session.commit()
    monday = date(2026, 2, 23)
    sweep(app.engine, settings, app.files, at(monday, 9))
    digests = {d.to: d for d in notices(engine, ("digest",))}
    assert "personal data" not in digests[RITA].text  # she hears of the lifestyle return that is late
    text = digests[CAROL].text
    assert "FILES REFUSED AS POSSIBLE PERSONAL DATA IN THE LAST 7 DAYS (1)" in text
    assert ("- Breathe Easy CIC: a file alice@breathe-easy.example sent on 17 February 2026 was refused "
            "as it may hold patient-level data; it is kept locked away and deleted on 19 March 2026.") in text
    assert "12 February" not in text
    for secret in ("Jane", "Smith", "943", "1961", "return.csv"):
        assert secret not in text
    assert digests[CAROL].subject.endswith(", 1 file refused as possible personal data")


CH_2025 = CH_STOP_SMOKING.replace("start = 2021-04-01", "start = 2025-04-01")
RITA = "rita@example-council.example"
RITA_CONTACT = """
[[contacts]]
email = "rita@example-council.example"
name = "Rita"
organisation = "example-council"
role = "commissioner"
contracts = ["lifestyle"]
"""


def test_the_exception_report_goes_five_working_days_after_each_quarterly_deadline(
        engine: sa.Engine, tmp_path: Path) -> None:
    """City and Hackney's Q3 is due on Thursday 15 January 2026 (report on Thursday 22nd), the lifestyle Q1 on
    Sunday 15 February (report on Friday 20th). Rita may see only the lifestyle contract: she gets only its report."""
    settings = scheduler_deployment(tmp_path, str(engine.url.render_as_string(hide_password=False)),
                                    CH_2025 + LIFESTYLE + RITA_CONTACT)
    app = app_on(settings, engine, date(2026, 1, 1))
    weak = samples.to_csv(samples.sample_values(loader.get("ch-stop-smoking"), "quarterly", seed=2, level=0.4))
    assert app.intake.submit(received(ALICE, weak.encode(), "2025-26-Q3", at(date(2026, 1, 14)), "q3")).outcome \
        == "accepted"
    for moment in (at(date(2026, 1, 21), 12), at(date(2026, 1, 22), 8), at(date(2026, 1, 22), 9),
                   at(date(2026, 1, 22), 15), at(date(2026, 2, 19), 12), at(date(2026, 2, 20), 9),
                   at(date(2026, 2, 23), 9)):
        report_sweep(app.engine, settings, app.files, moment)
    reports = notices(engine, ("report",))
    assert [(r.day, r.to, r.subject) for r in reports] == [
        # 2 late: Q1 and Q2 2025-26 were never sent (the report lists every overdue return, not only Q3's)
        (date(2026, 1, 22), CAROL, "Exception report: quarterly returns due 15 January 2026 (2 late, "
                                   f"{reports[0].subject.split(', ')[1]}"),
        (date(2026, 2, 20), CAROL, "Exception report: quarterly returns due 15 February 2026 (1 late, 0 red)"),
        (date(2026, 2, 20), RITA, "Exception report: quarterly returns due 15 February 2026 (1 late, 0 red)")]
    assert reports[0].subject.endswith(" red)") and not reports[0].subject.endswith("(0 late, 0 red)")
    assert "- City and Hackney Stop Smoking Service" in reports[0].text
    assert "One You" not in reports[0].text and "City and Hackney" not in reports[1].text
    assert reports[0].attachment == "exception-report-2026-01-15.pdf"
    with Session(engine) as session:
        sha = session.exec(select(OutboxMessage.attachment_sha256).where(OutboxMessage.kind == "report")
                           .order_by(col(OutboxMessage.id))).first()  # 15 January's (PostgreSQL keeps no order)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(app.files.get(sha))
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "quarterly returns due 15 January 2026" in text and "City and Hackney Stop Smoking Service" in text


def test_kpibot_run_sweeps_and_status_shows_when_the_last_sweep_ran(engine: sa.Engine, tmp_path: Path) -> None:
    settings = scheduler_deployment(tmp_path, str(engine.url.render_as_string(hide_password=False)), CH_STOP_SMOKING)
    app = app_on(settings, engine, date(2021, 4, 1))
    now = at(date(2021, 7, 1), 9)
    assert scheduler_lines(engine, settings, now)[0].startswith("Scheduler: has never run on this database")
    assert [t.name for t in all_tasks(app)][-4:] == ["sweep", "reports", "meetings", "evidence"]
    done = Service(app, tasks=scheduler_tasks(app.engine, app.settings, app.files), clock=lambda: now).run_once()
    assert done == {"sweep": 1, "reports": 0, "meetings": 0, "evidence": 0}  # City and Hackney asks for no document
    lines = scheduler_lines(engine, settings, now + timedelta(minutes=3))
    assert lines == [f"Scheduler: last sweep 3 minutes ago (01 Jul 2021 09:00, {leases.me()}), queued 1 message; "
                     "1 notice waiting to be sent."]
    stopped = scheduler_lines(engine, settings, now + timedelta(hours=2))
    assert stopped[0].startswith("Scheduler: last sweep 2 hours ago") and stopped[1] == (
        "WARNING: the scheduler should sweep every 300 seconds and has not: is `kpibot run` running?")


def test_kpibot_status_shows_the_scheduler(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    settings = scheduler_deployment(tmp_path, f"sqlite:///{tmp_path / 'kpibot.db'}", CH_STOP_SMOKING)
    runner = CliRunner()
    assert runner.invoke(main, ["--config", settings.source, "init"]).exit_code == 0
    result = runner.invoke(main, ["--config", settings.source, "status"])
    assert result.exit_code == 0 and "Service: `kpibot run` has never run against this database" in result.output
    assert "no reminders, overdue notices, escalations or reports go out" in result.output


def test_returns_due_before_chase_from_are_not_chased_or_counted(engine: sa.Engine, tmp_path: Path) -> None:
    """Deployed in October 2021 in the middle of the contract: Q1 (due in July, handled outside kpibot) is neither
    chased nor a late period, so Q2 late is the first of a run, not the second."""
    settings = scheduler_deployment(tmp_path, str(engine.url.render_as_string(hide_password=False)),
                                    CH_STOP_SMOKING, "[scheduler]\nchase_from = 2021-10-01\n")
    app = app_on(settings, engine, date(2021, 4, 1))
    sweep(app.engine, settings, app.files, at(date(2021, 10, 18), 9))
    sent = notices(engine)
    assert [(s.kind, s.to) for s in sent] == [("overdue", ALICE), ("overdue", DAVE)]
    assert all("Q2 2021-22" in s.subject for s in sent) and "This period counts as late" in sent[0].text
    assert levels(engine, "ch-stop-smoking")["2021-22-Q2"] == 1
