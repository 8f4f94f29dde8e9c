"""The intake under real concurrent processes and kills, on SQLite and PostgreSQL.

Processes are forked from the test (so they start at once, with everything imported) and each opens its own
database connections; they are real OS processes, killed with a real SIGKILL.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from intake_fixtures import ALICE, NOW, received, sample_csv
from sqlmodel import Session, col, func, select

from bot import config
from bot.intake.received import IntakeResult, Received
from bot.intake.service import Intake
from bot.storage import db
from bot.storage.files import FileStore
from bot.storage.models import OutboxMessage, StoredFile, Submission
from kpi_core.returns.reader import read_return


def in_child(work: Callable[[], None]) -> int:
    """Fork a process that runs `work` and exits; return its pid."""
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 0
        try:
            work()
        except BaseException:  # noqa: BLE001
            import traceback
            traceback.print_exc()
            code = 1
        os._exit(code)
    return pid


def wait_all(pids: list[int]) -> list[int]:
    return [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]


def child_intake(url: str, settings: config.Settings) -> Intake:
    """An intake with its own engine, as a separate process would have."""
    return Intake(db.make_engine(url), settings, FileStore(settings.storage.files_dir))


def warm_submission_time(intake: Intake, first: bytes, second: bytes) -> float:
    """How long a submission (the second of these two) takes here once everything is warm: the range a random kill
    is drawn from. (Timing the process's first submission, with its imports and first queries, made the range
    several times a submission's life, so most kills landed after the work was done.)"""
    intake.submit(received(first, message_id="warm-up", caption="2025-26-Q1"))
    started = time.perf_counter()
    intake.submit(received(second, message_id="timed", caption="2025-26-Q1"))
    return time.perf_counter() - started


def child_submission_time(url: str, settings: config.Settings, message: Received) -> float:
    """How long a forked child takes to submit `message`, from the fork to its exit: the life a random kill of such
    a child is drawn from. (A child opens its own engine and checks the sender's obligations before its receipt, so
    a warm submission in this process is shorter than the life killed: kills drawn from that landed before the
    receipt the more often the faster the intake got.)"""
    started = time.perf_counter()
    assert wait_all([in_child(lambda: child_intake(url, settings).submit(message) and None)]) == [0]
    return time.perf_counter() - started


def submissions(engine: sa.Engine) -> list[Submission]:
    with Session(engine) as session:
        return list(session.exec(select(Submission).order_by(col(Submission.id))))


def test_many_processes_sending_versions_of_one_return_at_once_get_unique_ordered_versions(
        intake: Intake, settings: config.Settings) -> None:
    """Issue 14: 'the losers end failed ... several returns got the same version number'. Four processes each send
    three different versions of the same return, and the same bytes under two more message ids, all at once."""
    url = str(intake.engine.url.render_as_string(hide_password=False))
    same_bytes = sample_csv(seed=99)

    def sender(process: int) -> Callable[[], None]:
        def work() -> None:
            mine = child_intake(url, settings)
            for n in range(3):
                mine.submit(received(sample_csv(seed=10 * process + n), message_id=f"p{process}-{n}",
                                     caption="2025-26-Q2", at=NOW + timedelta(minutes=n)))
            mine.submit(received(same_bytes, message_id=f"p{process}-same", caption="2025-26-Q2"))
        return work

    intake.engine.dispose()  # no connection crosses a fork
    assert wait_all([in_child(sender(p)) for p in range(4)]) == [0, 0, 0, 0]
    subs = submissions(intake.engine)
    assert len(subs) == 16
    assert not [s for s in subs if s.status in ("failed", "received")], [(s.id, s.status, s.reason) for s in subs]
    versioned = sorted((s for s in subs if s.version is not None), key=lambda s: s.id or 0)
    assert [s.version for s in versioned] == list(range(1, len(versioned) + 1))  # unique, in order of receipt
    assert [s.status for s in versioned].count("accepted") == 1
    assert versioned[-1].status == "accepted"  # the last received is the one in force
    # The same bytes again are one submission, not a new version: no version repeats the one before it (whether
    # a copy is a duplicate depends on what arrived in between; test_the_same_bytes_sent_twice_at_once... pins it).
    assert all(a.sha256 != b.sha256 for a, b in zip(versioned, versioned[1:]))
    assert all(s.status != "duplicate" or s.duplicate_of_id for s in subs)
    with Session(intake.engine) as session:  # one stored file for the same bytes, whoever stored it first
        assert session.exec(select(func.count()).select_from(StoredFile)).one() == 13
        keys = session.exec(select(OutboxMessage.dedupe_key)).all()
    replies = [k for k in keys if k.startswith("reply:")]
    assert len(replies) == len(set(replies)) == 16
    # Whether a version's figures are an earlier one's again (which tells the commissioners that corrections are
    # undone: bot/intake/undoing.py) depends on the order the files happened to arrive in.
    assert all(k.startswith(("reply:", "undo:")) for k in keys)


@pytest.mark.long
def test_a_submission_killed_at_random_points_is_finished_once_after_restart(
        intake: Intake, settings: config.Settings) -> None:
    """Issue 14: 'a kill after the receipt is committed leaves the submission received for good'. A process
    sending returns is SIGKILLed at a random moment 25 times (on each database); restarting resumes what it left,
    and every submission ends accepted or rejected, with exactly one reply."""
    url = str(intake.engine.url.render_as_string(hide_password=False))
    rng = random.Random(7)
    good, bad = sample_csv(seed=5), b"item,breakdown,value\nquit_dates,,-1\n"
    intake.submit(received(good, message_id="warm-up", caption="2025-26-Q1"))
    intake.engine.dispose()
    # Kills land anywhere within the life of a child submitting a return.
    took = child_submission_time(url, settings, received(sample_csv(seed=6), message_id="timed", caption="2025-26-Q1"))
    mid_life = 0
    for round_ in range(25):
        data = [good, bad, sample_csv(seed=round_)][round_ % 3]
        message = received(data, message_id=f"k{round_}", caption="2025-26-Q2", at=NOW + timedelta(hours=round_))
        pid = in_child(lambda: child_intake(url, settings).submit(message) and None)
        time.sleep(rng.uniform(0, took * 1.5))  # a random point in its life, not a wait for anything
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        restarted = child_intake(url, settings)
        mid_life += bool(restarted.resume_unfinished())  # the kill left it unfinished
        again: IntakeResult = restarted.submit(message)  # the channel delivers the message again after a crash
        assert again.outcome in ("accepted", "rejected", "duplicate"), again
        restarted.engine.dispose()
    assert mid_life >= 5, mid_life  # the kills reached the work, not only its aftermath
    subs = [s for s in submissions(intake.engine) if s.idempotency_key.startswith("email:k")]
    assert len(subs) == 25
    assert {s.status for s in subs} <= {"accepted", "rejected", "superseded", "duplicate"}
    with Session(intake.engine) as session:
        keys = session.exec(select(OutboxMessage.dedupe_key)).all()
    assert len(keys) == len(set(keys))
    assert all(f"reply:submission:{s.id}" in keys for s in subs)  # each answered, once


@pytest.mark.long
@pytest.mark.timeout(900)  # 20 real kills a database: a minute or two on a busy two-core machine
def test_an_earlier_return_killed_while_a_later_one_completes_never_ends_in_force(
        intake: Intake, settings: config.Settings) -> None:
    """Issue 19: 'a random kill run on PostgreSQL left a submission received at 09:05 in force over one received at
    09:06'. 20 times on each database: return X is recorded, a later return Y of the same period is sent by
    another process, and X's process is SIGKILLed at a random moment while Y completes; then the service resumes X
    and the channel sends X again. Versions stay unique and in order of receipt, the one in force is always the
    latest received, and every submission is answered once. Each round kills at a random point of its own slice of
    X's life, so 20 rounds cover the whole life evenly (50 independent random points did so less evenly)."""
    url = str(intake.engine.url.render_as_string(hide_password=False))
    rng = random.Random(19)
    took = warm_submission_time(intake, sample_csv(seed=999), sample_csv(seed=998))
    intake.engine.dispose()
    mid_life = 0
    rounds = 20
    for round_ in range(rounds):
        at = NOW + timedelta(hours=2 * round_)
        earlier = received(sample_csv(seed=1000 + 2 * round_), message_id=f"x{round_}", caption="2025-26-Q2", at=at)
        later = received(sample_csv(seed=1001 + 2 * round_), message_id=f"y{round_}", caption="2025-26-Q2",
                         at=at + timedelta(minutes=1))
        recorded, tell = os.pipe()

        def send_earlier() -> None:
            os.close(recorded)

            def reader(data: bytes, name: str):  # type: ignore[no-untyped-def]
                os.write(tell, b"x")  # X's receipt is committed: Y may come
                return read_return(data, name)

            Intake(db.make_engine(url), settings, FileStore(settings.storage.files_dir), reader=reader).submit(earlier)

        first = in_child(send_earlier)
        os.close(tell)
        assert os.read(recorded, 1) == b"x"
        os.close(recorded)
        second = in_child(lambda: child_intake(url, settings).submit(later) and None)
        time.sleep(took * 1.5 * (round_ + rng.random()) / rounds)  # a point in X's life, not a wait for anything
        os.kill(first, signal.SIGKILL)
        os.waitpid(first, 0)
        assert wait_all([second]) == [0]
        restarted = child_intake(url, settings)
        mid_life += bool(restarted.resume_unfinished())  # the kill left X unfinished
        assert restarted.submit(earlier).outcome in ("accepted", "duplicate"), round_  # the channel sends it again
        restarted.engine.dispose()
        subs = [s for s in submissions(intake.engine) if s.period_id == "2025-26-Q2" or s.status == "received"]
        assert not [s for s in subs if s.status == "received"], round_
        versioned = [s for s in subs if s.version is not None]  # in order of receipt (submission id)
        assert [s.version for s in versioned] == list(range(1, len(versioned) + 1)), round_
        in_force = [s for s in subs if s.status == "accepted"]
        assert in_force == [versioned[-1]], (round_, [(s.id, s.status, s.version) for s in subs])
        assert {s.status for s in subs} <= {"accepted", "superseded", "overtaken", "duplicate"}
    assert mid_life >= rounds // 5, mid_life  # the kills reached X's work, not only its aftermath
    with Session(intake.engine) as session:
        keys = session.exec(select(OutboxMessage.dedupe_key)).all()
    assert len(keys) == len(set(keys))
    assert all(f"reply:submission:{s.id}" in keys for s in submissions(intake.engine))  # each answered, once


def test_a_resend_of_a_message_stuck_mid_processing_resumes_it(intake: Intake) -> None:
    """Issue 14: 'resending the same message returns "duplicate" without processing it'."""
    message = received(sample_csv(), message_id="stuck", caption="2025-26-Q2")
    with Session(intake.engine) as session:  # a process recorded the receipt and was killed
        session.add(Submission(idempotency_key=message.key, channel="email", channel_message_id="stuck",
                               sender_address=ALICE, sender_contact_id=1, received_at=NOW, filename="return.csv",
                               sha256=intake.files.put(message.data), size=len(message.data),
                               lease_owner=f"{os.uname().nodename[:60]}:999999:1", lease_until=NOW + timedelta(days=999)))
        session.add(StoredFile(sha256=intake.files.put(message.data), size=len(message.data), first_seen_at=NOW))
        session.commit()
    result = intake.submit(message)
    assert (result.outcome, result.version) == ("accepted", 1)
    again = intake.submit(message)
    assert again.outcome == "duplicate" and again.submission_id == result.submission_id
    assert len(submissions(intake.engine)) == 1


def test_a_busy_sqlite_database_is_waited_for(intake: Intake) -> None:
    """Issue 14: 'three submissions sent meanwhile crashed after ~40 s with database is locked'. Another process
    holds the write lock while a return arrives: the intake waits for it instead of failing."""
    if intake.engine.dialect.name != "sqlite":
        return
    other = sqlite3.connect(intake.engine.url.database or "", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE contact SET name = name")
    release = threading.Timer(0.5, other.commit)  # the other writer finishes a moment later
    release.start()
    result = intake.submit(received(sample_csv(), caption="2025-26-Q2"))
    release.join()
    other.close()
    assert result.outcome == "accepted"


def test_received_strings_are_bounded_and_cleaned_at_the_edge(intake: Intake) -> None:
    """Issue 14: 'a file name over ~168 characters or a sender over 254 gives a PostgreSQL DataError, no row and
    an orphan file ... A CR/LF in a file name makes an email reply impossible to build'."""
    name = "Q2 return\r\nBcc: everyone@example.org " + "x" * 400 + ".csv"
    result = intake.submit(received(sample_csv(), filename=name, message_id="<" + "m" * 600 + ">",
                                    caption="2025-26-Q2\r\n" + "c" * 5000))
    assert result.outcome == "accepted"
    sub = submissions(intake.engine)[0]
    assert "\n" not in sub.filename and "\r" not in sub.filename and len(sub.filename) <= 120
    assert sub.filename.endswith(".csv")
    stranger = intake.submit(received(sample_csv(), sender="s" * 300 + "@example.org", message_id="long"))
    assert stranger.outcome == "unknown_sender"
    from bot.channels.email.transport import EmailTransport
    from bot.outbox.transport import Outbound
    with Session(intake.engine) as session:
        reply = session.exec(select(OutboxMessage)).first()
    assert reply is not None
    mail = EmailTransport("127.0.0.1", 25, "kpibot@example.test").build(Outbound(
        address=reply.address, subject=reply.subject, text=reply.body_text, attachment=b"x",
        attachment_name=sub.filename))
    assert "\n" not in str(mail["Subject"]).strip()


def test_a_future_period_creates_no_obligations(intake: Intake) -> None:
    """Issue 14: '--period 9998-99-Q1 (rejected, but the rows stay): 39,495 obligation rows'."""
    from bot.storage.models import Obligation

    with Session(intake.engine) as session:
        before = session.exec(select(func.count()).select_from(Obligation)).one()
    result = intake.submit(received(sample_csv(), contract_id="ch-stop-smoking", period_id="9998-99-Q1"))
    assert result.outcome == "rejected" and [f.code for f in result.findings] == ["future_period"]
    with Session(intake.engine) as session:
        assert session.exec(select(func.count()).select_from(Obligation)).one() == before


def test_the_same_bytes_sent_twice_at_once_under_different_ids_are_stored_once(
        intake: Intake, settings: config.Settings) -> None:
    url = str(intake.engine.url.render_as_string(hide_password=False))
    data = sample_csv(seed=3)
    intake.engine.dispose()
    pids = [in_child(lambda i=i: child_intake(url, settings).submit(  # type: ignore[misc]
        received(data, message_id=f"twin{i}", caption="2025-26-Q2")) and None) for i in range(3)]
    assert wait_all(pids) == [0, 0, 0]
    statuses = sorted(s.status for s in submissions(intake.engine))
    assert statuses == ["accepted", "duplicate", "duplicate"]
