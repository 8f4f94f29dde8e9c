"""`kpibot run` as a real process with the bot token in its environment, polling the fake Bot API: SIGKILLed
after a return is stored and before its reply went out, it sends that reply once after a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from fake_telegram import TOKEN, running_fake_bot_api
from intake_fixtures import deployment
from sqlmodel import Session, select
from telegram_fixtures import ALICE_CHAT, ch_csv, send

from bot import config
from bot.storage.models import OutboxMessage, Submission

pytestmark = pytest.mark.timeout(180)
KPIBOT = Path(sys.executable).parent / "kpibot"


@contextmanager
def service(config_path: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`kpibot run` in a session of its own (so its reader worker goes with it when it is killed)."""
    env = {**os.environ, "KPIBOT_CONFIG": str(config_path), "KPIBOT_TELEGRAM_TOKEN": TOKEN,
           "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    env.pop("DATABASE_URL", None)
    with log.open("ab") as out:
        process = subprocess.Popen([str(KPIBOT), "run"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)


def until(condition: Callable[[], object], what: str, seconds: float = 60) -> object:
    """Look at the database until `condition` holds (a state to reach, not a delay)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def state(engine: sa.Engine) -> tuple[str, str] | None:
    """(submission status, reply status) once the return is stored, with its reply not yet going out."""
    with Session(engine) as session:
        submission = session.exec(select(Submission)).first()
        if submission is None:
            return None
        reply = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "reply")).first()
        if reply is not None and reply.status != "pending":
            return None  # being sent: a kill now could leave it interrupted (by design, for an operator)
        return submission.status, reply.status if reply else "not queued"


def is_reply(text: str) -> bool:
    """The summary answering the return (the scheduler's overdue notices and warnings about Q2 are not it)."""
    return text.startswith("✅ City and Hackney Stop Smoking Service") and "Q2 2025-26" in text


# A real `kpibot run` process takes seconds to start twice: once, on SQLite; the same kill on both databases, at
# random points of the intake, is tests/test_intake_concurrency.py's.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_service_killed_after_storing_a_return_sends_its_reply_once_after_restart(
        tmp_path: Path, database_url: str, loaded: sa.Engine, settings: config.Settings) -> None:
    with running_fake_bot_api() as api:
        path = tmp_path / "service.toml"
        deployment(tmp_path, database_url, f'[telegram]\nbase_url = "{api.base_url}"\n'
                                           f'base_file_url = "{api.base_file_url}"\n'
                                           "[outbox]\nbackoff_seconds = 1\n[reports]\nattach_pdf = false\n")
        (tmp_path / "config.toml").rename(path)
        for _ in range(100):  # until the restart, no message gets through: the reply cannot go out early
            api.fail("sendMessage", 502, "Bad Gateway")
        log = tmp_path / "service.log"
        with service(path, log) as first:
            api.wait_for(lambda calls: any(c.method == "deleteWebhook" for c in calls), timeout=60)
            send(api, ALICE_CHAT, 1, document=api.add_file(ch_csv(240, 130), "q2.csv"), caption="2025-26-Q2",
                 date=int(time.time()))
            killed_at = until(lambda: state(loaded), "the return to be stored")
            os.killpg(first.pid, signal.SIGKILL)
        api.failures.clear()
        with service(path, log) as second:
            api.wait_for(lambda calls: any(is_reply(c.params.get("text", "")) and c.ok for c in calls), timeout=90)
            second.send_signal(signal.SIGTERM)  # a clean stop: nothing more can be sent after this
            assert second.wait(60) == 0, log.read_text()[-3000:]
    replies = [c for c in api.sent("sendMessage", ALICE_CHAT) if is_reply(c.params["text"])]
    assert len(replies) == 1, (killed_at, [c.params["text"][:60] for c in api.sent("sendMessage")])
    with Session(loaded) as session:
        [submission] = session.exec(select(Submission)).all()
        assert submission.status == "accepted"
        [reply] = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "reply")).all()
        assert reply.status == "sent"
    faults = [line for line in log.read_text().splitlines()
              if " ERROR bot." in line or "bot/channels/" in line or "bot/outbox/telegram" in line]
    assert faults == [], log.read_text()[-3000:]
