"""The first day of a real deployment, with the shipped config.toml, as whole processes on a chosen date.

Issue 20: "The first `kpibot run` sends a storm. With the shipped config on a real date, one run queued 48 overdue
notices (up to "510 days overdue"), 13 escalations ("late for the sixth consecutive period") and recorded a service
failure. This happened because the example contracts started in 2025 and `chase_from` is commented out."

A council copies config.toml, runs `kpibot init`, looks at `kpibot run --dry-run`, then starts `kpibot run`. Each
runs as its own process under libfaketime (`faketime -f '@<moment>'`), with mail going to a real SMTP server on
127.0.0.1, so what the test reads is what the people in config.toml would receive on that day.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from mail_fixtures import SmtpServer
from services import ServiceUnavailable, started

from kpi_core.duedates import next_working_day

KPIBOT = Path(sys.executable).with_name("kpibot")  # the script installed beside the Python running the tests


def _faketime() -> str:
    found = shutil.which("faketime")
    if found is None:
        raise ServiceUnavailable("libfaketime is not installed (apt-get install faketime)")
    return found


class Deployment:
    """The shipped config.toml in a folder of its own, mail to the test's SMTP server, run at chosen moments."""

    def __init__(self, folder: Path, smtp_port: int) -> None:
        self.folder = folder
        self.faketime = started("libfaketime", _faketime)
        text = (REPO_ROOT / "config.toml").read_text(encoding="utf-8")
        assert "\nsmtp_port = 25\n" in text
        (folder / "config.toml").write_text(text.replace("\nsmtp_port = 25\n", f"\nsmtp_port = {smtp_port}\n"),
                                            encoding="utf-8")

    def kpibot(self, moment: datetime, *args: str) -> str:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TZ": "Europe/London", "NO_PROXY": "127.0.0.1",
               "HOME": str(self.folder)}  # no KPIBOT_* secret, no DATABASE_URL: the shipped file alone
        done = subprocess.run([self.faketime, "-f", f"@{moment:%Y-%m-%d %H:%M:%S}", str(KPIBOT), *args],
                              capture_output=True, text=True, cwd=self.folder, env=env, timeout=240)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    def rows(self, query: str) -> list[tuple]:  # type: ignore[type-arg]
        with sqlite3.connect(self.folder / "var" / "kpibot.db") as db:
            return db.execute(query).fetchall()


def first_working_day_from_today() -> date:
    """Today's real date, or the next working day when it is not one (nothing is sent on a weekend)."""
    return next_working_day(date.today())


@pytest.mark.long
@pytest.mark.parametrize("first_day", [
    pytest.param(first_working_day_from_today(), id="today"),
    pytest.param(date(2026, 11, 16), id="the-working-day-after-a-quarterly-deadline"),
    pytest.param(date(2027, 1, 5), id="ten-days-before-a-quarterly-deadline"),
])
def test_the_first_day_with_the_shipped_config_sends_no_storm(tmp_path: Path, smtp: SmtpServer,
                                                               first_day: date) -> None:
    live = Deployment(tmp_path, smtp.port)
    morning = datetime.combine(first_day, time(10, 0))
    assert "Database created" in live.kpibot(morning, "init")
    preview = live.kpibot(morning + timedelta(seconds=30), "run", "--dry-run")
    assert f"Returns due before {first_day.day} {first_day:%B %Y} are not chased (the day `kpibot init` first " \
           "loaded this database" in preview
    live.kpibot(morning + timedelta(minutes=1), "run", "--once")  # the sweep queues
    live.kpibot(morning + timedelta(minutes=2), "run", "--once")  # the outbox delivers what it queued

    received = [(m["To"], m["Subject"].replace("\r\n", "").replace("\n", "")) for m in smtp.inbox.messages]
    # What the people in config.toml get on the first day: at most a reminder for a return that falls due from
    # today on; never an overdue notice, an escalation, a service failure or a report on earlier periods.
    for _, subject in received:
        assert subject.startswith("Reminder: "), received
        due = datetime.strptime(re.search(r"\((\d{1,2} \w+ \d{4})\)$", subject).group(1), "%d %B %Y").date()
        assert due >= first_day, subject
    assert live.rows("SELECT count(*) FROM service_failure") == [(0,)]
    assert live.rows("SELECT DISTINCT kind FROM outbox_message WHERE kind != 'reminder'") == []
    # The dry run said exactly this, beforehand.
    assert f"would queue {len(received)} message" in preview
    for to, subject in received:
        assert f"by email, {to}: \"{subject}\"" in preview
    status = live.kpibot(morning + timedelta(minutes=3), "status")
    assert f"Scheduler: Returns due before {first_day.day} {first_day:%B %Y} are not chased" in status
