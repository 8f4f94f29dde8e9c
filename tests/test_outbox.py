"""The outbox: each message delivered once, retried with back-off, given up on permanently when it must be."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from intake_fixtures import ALICE, NOW, received, sample_csv
from services import free_port
from sqlmodel import Session, select

from bot.channels.email.transport import EmailTransport
from bot.intake.service import Intake
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.local import LocalTransport
from bot.outbox.transport import Outbound, TransportError
from bot.storage.files import FileStore
from bot.storage.models import AuditEvent, Contact, OutboxMessage


class RecordingTransport:
    """Records what was sent; raises the queued errors first, one per call."""

    def __init__(self, *errors: TransportError) -> None:
        self.sent: list[Outbound] = []
        self.errors = list(errors)

    def send(self, message: Outbound) -> None:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(message)


def queue_reply(intake: Intake) -> int:
    intake.submit(received(sample_csv(), caption="2025-26-Q2"))
    with Session(intake.engine) as session:
        return session.exec(select(OutboxMessage.id)).one()  # type: ignore[return-value]


def message(engine: sa.Engine, message_id: int) -> OutboxMessage:
    with Session(engine) as session:
        row = session.get(OutboxMessage, message_id)
        assert row is not None
        return row


def test_it_sends_each_message_once(intake: Intake, files: FileStore) -> None:
    queue_reply(intake)
    transport = RecordingTransport()
    dispatcher = Dispatcher(intake.engine, {"email": transport}, files)
    assert dispatcher.run_once(NOW) == 1
    assert dispatcher.run_once(NOW + timedelta(hours=1)) == 0  # a second run, or a restart, sends nothing more
    assert Dispatcher(intake.engine, {"email": transport}, files).run_once(NOW + timedelta(days=1)) == 0
    assert [m.address for m in transport.sent] == [ALICE]
    assert "Result: Accepted" in transport.sent[0].text


def test_a_transient_failure_is_retried_with_exponential_back_off(intake: Intake, files: FileStore) -> None:
    message_id = queue_reply(intake)
    transport = RecordingTransport(TransportError("451 try later"), TransportError("timeout"))
    dispatcher = Dispatcher(intake.engine, {"email": transport}, files, backoff=timedelta(minutes=1))
    dispatcher.run_once(NOW)
    row = message(intake.engine, message_id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 1, NOW + timedelta(minutes=1))
    assert dispatcher.run_once(NOW + timedelta(seconds=59)) == 0  # not yet due
    dispatcher.run_once(NOW + timedelta(minutes=1))
    row = message(intake.engine, message_id)
    assert (row.attempts, row.next_attempt_at) == (2, NOW + timedelta(minutes=3))  # 1 + 2 minutes
    dispatcher.run_once(NOW + timedelta(minutes=3))
    row = message(intake.engine, message_id)
    assert (row.status, row.attempts, len(transport.sent)) == ("sent", 3, 1)


def test_it_gives_up_after_the_last_attempt(intake: Intake, files: FileStore) -> None:
    message_id = queue_reply(intake)
    transport = RecordingTransport(*[TransportError("down")] * 3)
    dispatcher = Dispatcher(intake.engine, {"email": transport}, files, max_attempts=3, backoff=timedelta(seconds=1))
    for minute in range(5):
        dispatcher.run_once(NOW + timedelta(minutes=minute))
    row = message(intake.engine, message_id)
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "down")
    assert transport.sent == []


def test_a_permanent_failure_disables_the_channel_for_the_contact(intake: Intake, files: FileStore) -> None:
    message_id = queue_reply(intake)
    transport = RecordingTransport(TransportError("550 no such user", permanent=True))
    Dispatcher(intake.engine, {"email": transport}, files).run_once(NOW)
    row = message(intake.engine, message_id)
    assert (row.status, row.attempts) == ("failed", 1)
    with Session(intake.engine) as session:
        alice = session.exec(select(Contact).where(Contact.email == ALICE)).one()
        assert alice.email_disabled and not alice.telegram_disabled
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "outbox_failed")).one().detail[
            "permanent"] is True


def _interrupt(engine: sa.Engine, message_id: int, parts_sent: int = 0) -> None:
    """A process claimed the message, then died before recording the outcome."""
    with Session(engine) as session:
        row = session.get(OutboxMessage, message_id)
        assert row is not None
        row.status, row.claimed_at, row.attempts, row.parts_sent = "sending", NOW, 1, parts_sent
        row.claimed_by = "elsewhere:1:1"  # another host: only its lease running out frees the message
        session.commit()


def test_an_email_interrupted_while_sending_is_sent_again_with_the_same_message_id(intake: Intake,
                                                                                    files: FileStore) -> None:
    message_id = queue_reply(intake)
    _interrupt(intake.engine, message_id)
    transport = RecordingTransport()
    dispatcher = Dispatcher(intake.engine, {"email": transport}, files)
    assert dispatcher.run_once(NOW + timedelta(minutes=5)) == 0  # its sender may still be at it
    dispatcher.run_once(NOW + timedelta(hours=1))
    assert [m.message_id for m in transport.sent] == [f"kpibot-outbox-{message_id}"]
    with Session(intake.engine) as session:
        assert "outbox_resumed" in [e.action for e in session.exec(select(AuditEvent))]
    assert message(intake.engine, message_id).status == "sent"


class PartsTransport:
    """Sends a chat message in parts, like the Telegram transport, reporting each part delivered."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def send(self, message: Outbound) -> None:
        for index, part in enumerate(message.text.split("|")):
            if index >= message.parts_sent:
                self.parts.append(part)
                assert message.on_part is not None
                message.on_part(index + 1)


def test_a_chat_message_interrupted_mid_way_waits_for_an_operator_and_never_repeats_a_part(
        intake: Intake, files: FileStore) -> None:
    result = intake.submit(received(sample_csv(), channel="telegram", sender="1001", caption="2025-26-Q2"))
    with Session(intake.engine) as session:
        row = session.exec(select(OutboxMessage).where(OutboxMessage.channel == "telegram")).one()
        row.body_text, message_id = "one|two|three", row.id
        session.commit()
    assert result.outcome == "accepted" and message_id is not None
    _interrupt(intake.engine, message_id, parts_sent=1)
    transport = PartsTransport()
    dispatcher = Dispatcher(intake.engine, {"telegram": transport}, files)
    dispatcher.run_once(NOW + timedelta(hours=1))
    row = message(intake.engine, message_id)
    assert transport.parts == [] and row.status == "interrupted" and "after 1 part(s)" in row.last_error
    dispatcher.retry(message_id, NOW + timedelta(hours=2))
    dispatcher.run_once(NOW + timedelta(hours=2))
    assert transport.parts == ["two", "three"]  # the first part had gone out before the interruption
    row = message(intake.engine, message_id)
    assert (row.status, row.parts_sent) == ("sent", 3)


def test_only_interrupted_or_failed_messages_can_be_retried(intake: Intake, files: FileStore) -> None:
    message_id = queue_reply(intake)
    with pytest.raises(ValueError, match="only interrupted or failed"):
        Dispatcher(intake.engine, {}, files).retry(message_id, NOW)
    with pytest.raises(LookupError):
        Dispatcher(intake.engine, {}, files).retry(99999, NOW)


def test_a_missing_transport_fails_the_message_clearly(intake: Intake, files: FileStore) -> None:
    message_id = queue_reply(intake)
    Dispatcher(intake.engine, {}, files).run_once(NOW)
    assert "no transport configured for channel 'email'" in message(intake.engine, message_id).last_error


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


class _Refusing:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        return "550 5.1.1 no such mailbox"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, _Inbox]]:
    inbox, port = _Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def test_email_goes_out_over_real_smtp_with_text_and_attachment(smtp_server: tuple[int, _Inbox]) -> None:
    port, inbox = smtp_server
    transport = EmailTransport("127.0.0.1", port, "kpibot@council.example", security="plain")
    transport.send(Outbound(address="alice@example.org", subject="Q2 return accepted", text="All green 🟢",
                            html="<p>All green</p>", attachment=b"%PDF-1.7 fake", attachment_name="report.pdf",
                            message_id="kpibot-outbox-7"))
    [mail] = inbox.messages
    assert (mail["To"], mail["Subject"], mail["Message-ID"]) == ("alice@example.org", "Q2 return accepted",
                                                                 "<kpibot-outbox-7@council.example>")
    parts = {part.get_content_type(): part for part in mail.walk()}
    assert "All green 🟢" in parts["text/plain"].get_payload(decode=True).decode()
    assert parts["application/pdf"].get_filename() == "report.pdf"


def test_a_refused_recipient_is_a_permanent_error() -> None:
    port = free_port()
    controller = Controller(_Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with pytest.raises(TransportError) as info:
            EmailTransport("127.0.0.1", port, "kpibot@council.example", security="plain").send(
                Outbound("x@example.org", "s", "t"))
        assert info.value.permanent
    finally:
        controller.stop()


def test_no_smtp_server_is_a_transient_error() -> None:
    with pytest.raises(TransportError) as info:
        EmailTransport("127.0.0.1", free_port(), "kpibot@council.example", security="plain", timeout=5).send(
            Outbound("x@example.org", "s", "t"))
    assert not info.value.permanent


def test_the_local_channel_writes_the_message_to_a_folder(tmp_path) -> None:  # type: ignore[no-untyped-def]
    LocalTransport(tmp_path).send(Outbound("alice@example.org", "Accepted", "Thanks", message_id="kpibot-outbox-1"))
    [written] = tmp_path.iterdir()
    assert written.read_text(encoding="utf-8").endswith("Subject: Accepted\n\nThanks\n")
