"""A return sent by Telegram is never lost (issue 19).

'If `kpibot run` is killed while a file downloads, the chat has already been told "Received ...: checking it now".
Telegram has already been told the update was handled, so it never comes again, and nothing is recorded. One getFile
502 is not retried either.' Now the upload (file id, chat, caption, message id) is recorded in the database before
the update is confirmed to Telegram and before the chat hears "Received"; the file is downloaded and the return
processed from that record, resumed like any submission (by the service's resume task, by `kpibot init`), and
getFile and the download are retried on 5xx and time-outs. Real python-telegram-bot against the fake Bot API, a real
`kpibot run` killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fake_telegram import TOKEN, FakeBotApi, running_fake_bot_api
from intake_fixtures import NOW, deployment
from sqlmodel import Session, select
from telegram_fixtures import ALICE_CHAT, WHEN, ch_csv, running_channel, send, telegram_app
from test_telegram_service import is_reply, service, until

from bot import config
from bot.app import App
from bot.intake.service import Intake
from bot.outbox.dispatcher import Dispatcher
from bot.reports.queue import RenderQueue
from bot.storage.files import FileStore
from bot.storage.models import OutboxMessage, Submission

pytestmark = pytest.mark.timeout(240)
KPIBOT = Path(sys.executable).parent / "kpibot"
RECEIVED = "📥 Received q2.csv: checking it now…"


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with running_fake_bot_api() as api:
        yield api


@pytest.fixture
def clock() -> list[datetime]:
    """The intake's clock (leases, and how long an upload is waited for): a test moves it on."""
    return [NOW]


@pytest.fixture
def app(settings: config.Settings, api: FakeBotApi, loaded: sa.Engine, files: FileStore,
        render_queue: RenderQueue, clock: list[datetime]) -> App:
    app = telegram_app(settings, api, Intake(loaded, settings, files, clock=lambda: clock[0]), render_queue)
    app.intake.fetchers["telegram"].__self__.download_waits = (0.0, 0.0, 0.0)  # at once: the waits are not tested
    return app


def submissions(engine: sa.Engine) -> list[Submission]:
    with Session(engine) as session:
        return list(session.exec(select(Submission).order_by(Submission.id)))  # type: ignore[arg-type]


def upload(api: FakeBotApi, date: int = WHEN) -> None:
    send(api, ALICE_CHAT, 7, date=date, document=api.add_file(ch_csv(240, 130), "q2.csv"), caption="2025-26-Q2")


def test_getfile_and_the_download_answering_502_are_retried(app: App, api: FakeBotApi) -> None:
    api.fail("getFile", 502, "Bad Gateway")
    api.fail("download", 502, "Bad Gateway")
    with running_channel(app):
        upload(api)
        api.wait_for(lambda calls: any(is_reply(c.params.get("text", "")) for c in calls))
    assert [c.status for c in api.calls if c.method == "getFile"] == [502, 200, 200]
    assert [c.status for c in api.calls if c.method == "download"] == [502, 200]
    assert api.texts(ALICE_CHAT).count(RECEIVED) == 1
    [submission] = submissions(app.engine)
    assert (submission.status, submission.version) == ("accepted", 1)
    assert api.sent("deleteMessage") == []  # a return is left in the chat


def test_a_file_refused_as_personal_data_is_removed_from_the_chat_and_its_name_shown_nowhere(
        app: App, api: FakeBotApi) -> None:
    """Issue 19: 'when a file is quarantined ... the Telegram message is not forwarded or kept'. A bot may delete
    what a person sent it in a private chat: kpibot deletes the message that carried the file."""
    patients = (b"name,nhs_number,dob\nJane Smith,943 476 5919,1961-03-02\nAli Khan,401 023 2137,1958-11-30\n"
                b"Mary Jones,943 476 5870,1972-01-15\n")
    with running_channel(app):
        send(api, ALICE_CHAT, 8, document=api.add_file(patients, "9434765919 Jane Smith.csv"), caption="2025-26-Q2")
        api.wait_for(lambda calls: any(c.method == "deleteMessage" and c.ok for c in calls))
    [removed] = api.sent("deleteMessage", ALICE_CHAT)
    assert removed.params["message_id"] == "8"
    texts = api.texts(ALICE_CHAT)
    assert texts[0] == "📥 Received return (name withheld).csv: checking it now…"
    assert any("was not accepted" in t and "personal data" in t for t in texts)
    assert not any("Jane" in t or "9434765919" in t for t in texts)
    assert not [c for c in api.calls if c.method in ("forwardMessage", "copyMessage", "forwardMessages")]
    [submission] = submissions(app.engine)
    assert submission.status == "quarantined"


def test_an_upload_telegram_will_not_give_yet_is_kept_and_finished_by_the_service_later(
        app: App, api: FakeBotApi, clock: list[datetime]) -> None:
    for _ in range(12):  # Telegram's file service is down for a while
        api.fail("getFile", 502, "Bad Gateway")
    with running_channel(app):
        upload(api)
        api.wait_for(lambda calls: any("could not be downloaded from Telegram yet" in c.params.get("text", "")
                                       for c in calls))
    assert api.texts(ALICE_CHAT)[0] == RECEIVED  # said once the upload was recorded
    [kept] = submissions(app.engine)
    assert (kept.status, kept.sha256, kept.source_ref, kept.caption, kept.channel_message_id) == (
        "received", None, "F1", "2025-26-Q2", f"{TOKEN.split(':')[0]}:{ALICE_CHAT}:7")
    api.failures.clear()
    assert app.intake.resume_unfinished() == []  # tried again a minute later, not at once
    clock[0] = NOW + timedelta(minutes=2)
    [result] = app.intake.resume_unfinished()  # the service's resume task, a few minutes on
    assert (result.outcome, result.version) == ("accepted", 1)
    transport = app.intake.fetchers["telegram"].__self__
    Dispatcher(app.engine, {"telegram": transport}, app.files).run_once(clock[0])
    assert [t for t in api.texts(ALICE_CHAT) if is_reply(t)] != []


def test_an_upload_that_never_comes_is_refused_after_a_day_asking_for_it_again(
        app: App, api: FakeBotApi, clock: list[datetime]) -> None:
    for _ in range(40):
        api.fail("getFile", 502, "Bad Gateway")
    with running_channel(app):
        upload(api)
        api.wait_for(lambda calls: any("could not be downloaded from Telegram yet" in c.params.get("text", "")
                                       for c in calls))
    clock[0] = NOW + timedelta(days=1, minutes=1)
    [result] = app.intake.resume_unfinished()
    assert result.outcome == "rejected" and [f.code for f in result.findings] == ["download_failed"]
    assert "could not download q2.csv from Telegram" in result.reply and "send the file again" in result.reply
    with Session(app.engine) as session:
        assert session.exec(select(OutboxMessage).where(OutboxMessage.kind == "reply")).one().body_text == \
            result.reply


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_service_killed_while_a_file_downloads_loses_nothing_and_kpibot_init_finishes_it(
        tmp_path: Path, database_url: str, loaded: sa.Engine, settings: config.Settings) -> None:
    with running_fake_bot_api() as api:
        path = tmp_path / "service.toml"
        deployment(tmp_path, database_url, f'[telegram]\nbase_url = "{api.base_url}"\n'
                                           f'base_file_url = "{api.base_file_url}"\n'
                                           "[reports]\nattach_pdf = false\n")
        (tmp_path / "config.toml").rename(path)
        log = tmp_path / "service.log"
        api.hold_downloads()
        with service(path, log) as first:
            api.wait_for(lambda calls: any(c.method == "deleteWebhook" for c in calls), timeout=60)
            upload(api, date=int(time.time()))
            api.wait_for(lambda calls: any(c.method == "download" for c in calls), timeout=60)
            os.killpg(first.pid, signal.SIGKILL)  # mid-download: the chat was told "Received"
        assert api.texts(ALICE_CHAT) == [RECEIVED]
        [kept] = submissions(loaded)
        assert (kept.status, kept.source_ref, kept.caption) == ("received", "F1", "2025-26-Q2")
        api.release_downloads()
        env = {**os.environ, "KPIBOT_CONFIG": str(path), "KPIBOT_TELEGRAM_TOKEN": TOKEN,
               "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
        env.pop("DATABASE_URL", None)
        init = subprocess.run([str(KPIBOT), "init"], env=env, capture_output=True, text=True, timeout=120)
        assert init.returncode == 0 and "Finished 1 submission left unfinished" in init.stdout, init.stderr
        with service(path, log) as second:  # the reply init queued goes out
            api.wait_for(lambda calls: any(is_reply(c.params.get("text", "")) and c.ok for c in calls), timeout=90)
            second.send_signal(signal.SIGTERM)
            assert second.wait(60) == 0, log.read_text()[-3000:]
    texts = api.texts(ALICE_CHAT)
    assert texts.count(RECEIVED) == 1 and len([t for t in texts if is_reply(t)]) == 1, texts
    assert until(lambda: submissions(loaded)[0].status == "accepted", "the return to be accepted")
