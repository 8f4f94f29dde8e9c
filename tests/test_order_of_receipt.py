"""Versions follow the order kpibot received the returns in, whatever order processes finish them in (issue 19).

'Return X is recorded, then its process is killed. A corrected return Y arrives and is accepted as version 1.
Recovery saves X as version 2, in force, and Y becomes superseded. The older figures are now in force.' The order is
the receipt's (the submission's sequence), so a return that finishes after a later one of the same return was saved
is not applied: its sender is told so, and which version is in force. Real processes, a real SIGKILL, on SQLite and
PostgreSQL. (The same kill at random points, 20 times per database: test_intake_concurrency.py.)
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from datetime import timedelta

import pytest
from intake_fixtures import NOW, received, sample_csv
from sqlmodel import Session, select
from test_intake_concurrency import child_intake, in_child, submissions, wait_all

from bot import config
from bot.intake.received import IntakeResult, Received
from bot.intake.service import Intake
from bot.storage import db
from bot.storage.files import FileStore
from bot.storage.models import OutboxMessage
from kpi_core.returns.reader import read_return

OLDER = received(sample_csv(seed=1), message_id="older", caption="2025-26-Q2", at=NOW)
NEWER = received(sample_csv(seed=2), message_id="newer", caption="2025-26-Q2", at=NOW + timedelta(minutes=1))


def in_child_reading(url: str, settings: config.Settings, message: Received,
                     reading: Callable[[], None]) -> tuple[int, int]:
    """Submit `message` in a forked process whose reader first writes to a pipe (the receipt is committed) and
    then runs `reading`; return the child's pid and the pipe's reading end."""
    ready, tell = os.pipe()

    def work() -> None:
        os.close(ready)

        def reader(data: bytes, name: str):  # type: ignore[no-untyped-def]
            os.write(tell, b"x")
            reading()
            return read_return(data, name)

        Intake(db.make_engine(url), settings, FileStore(settings.storage.files_dir), reader=reader).submit(message)

    pid = in_child(work)
    os.close(tell)
    assert os.read(ready, 1) == b"x"  # recorded, and now being read
    return pid, ready


def reply_to(intake: Intake, submission_id: int | None) -> str:
    with Session(intake.engine) as session:
        return session.exec(select(OutboxMessage.body_text).where(
            OutboxMessage.dedupe_key == f"reply:submission:{submission_id}")).one()


@pytest.mark.parametrize("recovery", ["the service resumes it", "the channel sends it again"])
def test_a_return_resumed_after_a_crash_never_replaces_a_newer_one(
        intake: Intake, settings: config.Settings, recovery: str) -> None:
    url = intake.engine.url.render_as_string(hide_password=False)
    intake.engine.dispose()  # no connection crosses a fork
    pid, ready = in_child_reading(url, settings, OLDER, signal.pause)
    os.kill(pid, signal.SIGKILL)  # killed while reading X
    os.waitpid(pid, 0)
    os.close(ready)
    newer = intake.submit(NEWER)
    assert (newer.outcome, newer.version) == ("accepted", 1)
    if recovery == "the service resumes it":
        [older] = intake.resume_unfinished()  # also what `kpibot init` runs
    else:
        older = intake.submit(OLDER)
    assert (older.outcome, older.version) == ("overtaken", None)
    assert [(s.idempotency_key, s.status, s.version) for s in submissions(intake.engine)] == [
        ("email:older:0", "overtaken", None), ("email:newer:0", "accepted", 1)]
    text = reply_to(intake, older.submission_id)
    assert text == older.reply
    assert text.startswith("return.csv, received 01 October 2025 10:00, was not applied: a newer return for City "
                           "and Hackney Stop Smoking Service, Q2 2025-26 (July 2025 to September 2025) arrived after "
                           "it (01 October 2025 10:01) and was saved first, as version 1.")
    assert "Version 1, received 01 October 2025 10:01, is the one in force." in text
    again = intake.submit(OLDER)  # sent once more later: the same answer, nothing changes
    assert again.outcome == "duplicate" and again.reply == text


def test_a_slow_earlier_return_is_not_overtaken_silently(intake: Intake, settings: config.Settings,
                                                         files: FileStore) -> None:
    """X takes longer to read than a later Y may wait for it (30 s): Y goes ahead as version 1, and X, when it
    is done, is answered that a newer return came after it, instead of replacing Y."""
    url = intake.engine.url.render_as_string(hide_password=False)
    intake.engine.dispose()
    go, release = os.pipe()
    pid, ready = in_child_reading(url, settings, OLDER, lambda: os.read(go, 1) and None)
    impatient = Intake(intake.engine, settings, files, sleep=lambda seconds: None)  # its 30 s wait passes at once
    newer = impatient.submit(NEWER)
    assert (newer.outcome, newer.version) == ("accepted", 1)
    os.write(release, b"x")  # X's read finishes now, long after Y was saved
    assert wait_all([pid]) == [0]
    os.close(ready)
    [older, saved] = submissions(intake.engine)
    assert (older.status, older.version, saved.status, saved.version) == ("overtaken", None, "accepted", 1)
    text = reply_to(intake, older.id)
    assert "was not applied: a newer return" in text and "Version 1, received 01 October 2025 10:01, is the one " \
        "in force." in text
    assert child_intake(url, settings).submit(NEWER).outcome == "duplicate"


def test_an_earlier_return_finished_first_is_the_earlier_version(intake: Intake) -> None:
    """The usual case: X is done before Y comes, so X is version 1 and Y, received later, version 2 in force."""
    first: IntakeResult = intake.submit(OLDER)
    second: IntakeResult = intake.submit(NEWER)
    assert [(r.outcome, r.version) for r in (first, second)] == [("accepted", 1), ("accepted", 2)]
    assert [s.status for s in submissions(intake.engine)] == ["superseded", "accepted"]
