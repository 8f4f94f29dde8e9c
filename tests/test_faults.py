"""Faults injected into real processes: killed mid-draw and mid-send, a database that goes away and comes back.

Nothing is lost, nothing is sent twice that the channel could have told apart, and the log says what happened.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from intake_fixtures import NOW, deployment, received, sample_csv
from services import free_port, start_postgres
from sqlmodel import Session, select
from test_intake_concurrency import in_child
from test_outbox import _Inbox

from bot import config
from bot.channels.email.transport import EmailTransport
from bot.intake.service import Intake, Unavailable
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.transport import Outbound
from bot.reports.queue import RenderQueue
from bot.storage import db
from bot.storage.files import FileStore
from bot.storage.models import AuditEvent, OutboxMessage, RenderJob, Submission


def _kill_when_blocked(work: object) -> None:
    """Run `work` in a forked child that signals through a pipe when it reaches the fault point, and SIGKILL it
    there: the kill lands exactly where the test means it to."""
    read, write = os.pipe()

    def child() -> None:
        os.close(read)
        work(lambda: (os.write(write, b"x"), signal.pause()))  # type: ignore[operator]

    pid = in_child(child)
    os.close(write)
    assert os.read(read, 1) == b"x"  # the child is at the fault point
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(read)


@pytest.mark.with_pdf
def test_a_renderer_killed_while_drawing_is_taken_over_and_the_reply_goes_once(
        intake: Intake, settings: config.Settings, files: FileStore) -> None:
    result = intake.submit(received(sample_csv(), caption="2025-26-Q2"))
    url = intake.engine.url.render_as_string(hide_password=False)
    intake.engine.dispose()

    def draw_until_killed(fault: object) -> None:
        def stuck(report: object) -> bytes:
            fault()  # type: ignore[operator]
            return b""
        RenderQueue(db.make_engine(url), settings, files, clock=lambda: NOW, render=stuck).run_once()

    _kill_when_blocked(draw_until_killed)
    with Session(intake.engine) as session:
        assert session.exec(select(RenderJob)).one().status == "rendering"  # left mid-draw
    assert RenderQueue(intake.engine, settings, files, clock=lambda: NOW).run_once() == 1  # its process is gone
    sent: list[Outbound] = []
    dispatcher = Dispatcher(intake.engine, {"email": type("T", (), {"send": lambda self, m: sent.append(m)})()},
                            files)
    dispatcher.run_once(NOW)
    dispatcher.run_once(NOW + timedelta(hours=1))
    assert len(sent) == 1 and sent[0].attachment is not None and sent[0].attachment.startswith(b"%PDF")
    assert result.outcome == "accepted"


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[int, _Inbox]]:
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def test_an_email_interrupted_mid_send_goes_again_with_the_same_message_id(
        intake: Intake, files: FileStore, smtp_inbox: tuple[int, _Inbox], caplog: pytest.LogCaptureFixture) -> None:
    port, inbox = smtp_inbox
    intake.submit(received(sample_csv(), caption="2025-26-Q2"))
    url = intake.engine.url.render_as_string(hide_password=False)
    intake.engine.dispose()

    class Stalling(EmailTransport):
        """Hands the message to the server, then stops dead before kpibot records that it went."""

        def __init__(self, fault: object) -> None:
            super().__init__("127.0.0.1", port, "kpibot@example.test", security="plain")
            self.fault = fault

        def send(self, message: Outbound) -> None:
            super().send(message)
            self.fault()  # type: ignore[operator]

    _kill_when_blocked(lambda fault: Dispatcher(db.make_engine(url), {"email": Stalling(fault)}, files).run_once(NOW))
    assert len(inbox.messages) == 1
    with caplog.at_level(logging.WARNING):
        Dispatcher(intake.engine, {"email": EmailTransport("127.0.0.1", port, "kpibot@example.test", security="plain")},
                   files).run_once(NOW + timedelta(minutes=1))
    assert len(inbox.messages) == 2  # at least once: the reader's mail client folds the twin by its Message-ID
    assert inbox.messages[0]["Message-ID"] == inbox.messages[1]["Message-ID"]
    assert "interrupted while sending; sent again" in caplog.text  # the log says what happened
    with Session(intake.engine) as session:
        assert session.exec(select(OutboxMessage)).one().status == "sent"
        assert [e.action for e in session.exec(select(AuditEvent).where(
            AuditEvent.action.in_(("outbox_resumed", "outbox_sent"))))] == ["outbox_resumed", "outbox_sent"]  # type: ignore[attr-defined]


def test_a_submission_left_by_a_killed_process_is_finished_by_the_service(
        intake: Intake, settings: config.Settings) -> None:
    from bot.app import App, core_tasks
    from bot.service.loop import Service

    url = intake.engine.url.render_as_string(hide_password=False)
    message = received(sample_csv(), caption="2025-26-Q2")
    intake.engine.dispose()

    def receive_then_die(fault: object) -> None:
        child = Intake(db.make_engine(url), settings, FileStore(settings.storage.files_dir),
                       reader=lambda data, name: (fault(), None)[1])  # type: ignore[operator,misc]
        child.submit(message)

    _kill_when_blocked(receive_then_die)
    with Session(intake.engine) as session:
        assert session.exec(select(Submission)).one().status == "received"  # stored, recorded, never answered
    app = App(settings)
    app.__dict__["engine"] = intake.engine
    app.__dict__["intake"] = intake
    assert Service(app, tasks=core_tasks(app), clock=lambda: NOW).run_once()["resume"] == 1
    with Session(intake.engine) as session:
        assert session.exec(select(Submission)).one().status == "accepted"
        assert len(session.exec(select(OutboxMessage)).all()) == 1


@pytest.mark.postgres
def test_postgresql_going_away_records_nothing_half_done_and_work_resumes_when_it_is_back(
        tmp_path, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    """A server of its own, stopped and started again while kpibot is running."""
    try:
        server = start_postgres()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"PostgreSQL not available: {exc}")
    try:
        from db_fixtures import fresh_postgres_url

        from bot.storage.models import Contract
        from bot.storage.sync import ensure_obligations, sync_settings

        url = fresh_postgres_url(server, template=None)
        settings = deployment(tmp_path, url, "[reports]\nattach_pdf = false\n")
        engine = db.make_engine(url)
        db.upgrade(engine)
        with Session(engine) as session:
            sync_settings(session, settings, NOW)
            for contract in session.exec(select(Contract)):
                ensure_obligations(session, contract, NOW.date())
            session.commit()
        intake = Intake(engine, settings, FileStore(settings.storage.files_dir), sleep=lambda s: None)
        assert intake.submit(received(sample_csv(seed=1), message_id="before", caption="2025-26-Q1")).outcome \
            == "accepted"
        assert server.bin_dir is not None and server.data_dir is not None
        ctl = [str(server.bin_dir / "pg_ctl"), "-D", str(server.data_dir)]
        import subprocess

        from services import _as_postgres
        subprocess.run(_as_postgres([*ctl, "-m", "fast", "stop"]), check=True, capture_output=True)
        with caplog.at_level(logging.WARNING), pytest.raises(Unavailable):
            intake.submit(received(sample_csv(seed=2), message_id="during", caption="2025-26-Q2"))
        assert "retrying" in caplog.text
        root, port = server.data_dir.parent, sa.engine.make_url(url).port
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(_as_postgres([*ctl, "-l", str(root / "server.log"), "-w", "-o", options, "start"]),
                       check=True, capture_output=True)
        # The channel delivers the message again (it was never acknowledged): it is processed once.
        result = intake.submit(received(sample_csv(seed=2), message_id="during", caption="2025-26-Q2"))
        assert (result.outcome, result.version) == ("accepted", 1)
        with Session(engine) as session:
            assert [s.status for s in session.exec(select(Submission).order_by(Submission.id))] == \
                ["accepted", "accepted"]
        engine.dispose()
    finally:
        server.stop()


def test_an_unreachable_database_is_a_clear_error_not_a_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = deployment(tmp_path, f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")
    intake = Intake(db.make_engine(settings.storage.database_url), settings, FileStore(tmp_path / "files"),
                    sleep=lambda s: None)
    with pytest.raises(Unavailable, match="busy or unreachable"):
        intake.submit(received(sample_csv()))
