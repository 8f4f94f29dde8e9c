"""The outbox against an SMTP server that answers with each class of reply (RFC 5321), on SQLite and PostgreSQL.

Issue 19: 'one 450 or 421 answer to RCPT TO fails the message after a single attempt and disables email for every
contact on that server ... replies were never delivered after the server came back'. A real aiosmtpd server answers
as each test tells it; kpibot's own SMTP client sends. What must hold:

- 4xx for one recipient: that message is retried with back-off; nobody is disabled.
- 5xx for one recipient: that message fails and email is disabled for that contact only.
- 4xx at connection, an authentication failure, a refused connection: the whole channel is failing, so sending
  pauses (and says why in `kpibot status`); no message fails for it, no contact is disabled, and everything goes
  once the server answers again.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult
from click.testing import CliRunner
from intake_fixtures import ALICE, BOB, DAVE, NOW
from services import free_port
from sqlmodel import Session, col, select

from bot import config
from bot.channels.email.transport import EmailTransport
from bot.cli import main
from bot.outbox.dispatcher import Dispatcher
from bot.storage.files import FileStore
from bot.storage.models import AuditEvent, Contact, OutboxMessage

BACKOFF = timedelta(seconds=60)


@dataclass
class Behaviour:
    """How the server answers; a test changes it while the server runs."""

    greeting: str = ""  # e.g. "421 4.3.2 ...": said instead of the 220 greeting, then the connection is closed
    sign_in: bool = True  # False: every AUTH is refused with 535
    recipients: dict[str, str] = field(default_factory=dict)  # address -> its answer to RCPT TO
    delivered: list[str] = field(default_factory=list)  # the recipients of each message taken
    connections: int = 0


class Handler:
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        answer = self.behaviour.recipients.get(address, "250 OK")
        if answer.startswith("250"):
            envelope.rcpt_tos.append(address)
        return answer

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.behaviour.delivered.extend(envelope.rcpt_tos)
        return "250 OK"


class Server(SMTP):
    """aiosmtpd's server, which can refuse a connection with a 4xx greeting."""

    def __init__(self, behaviour: Behaviour, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.behaviour = behaviour

    async def _handle_client(self) -> None:
        self.behaviour.connections += 1
        if self.behaviour.greeting:
            await self.push(self.behaviour.greeting)
            assert self.transport is not None
            self.transport.close()
            return
        await super()._handle_client()


class Controlled(Controller):
    def __init__(self, behaviour: Behaviour, port: int) -> None:
        def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:  # type: ignore[no-untyped-def]
            return AuthResult(success=behaviour.sign_in, handled=False)  # a refusal: aiosmtpd answers 535

        super().__init__(Handler(behaviour), hostname="127.0.0.1", port=port, authenticator=authenticate,
                         auth_require_tls=False)
        self.behaviour = behaviour

    def factory(self) -> SMTP:
        return Server(self.behaviour, self.handler, **self.SMTP_kwargs)


@pytest.fixture
def smtp() -> Iterator[tuple[Behaviour, int]]:
    behaviour, port = Behaviour(), free_port()
    controller = Controlled(behaviour, port)
    controller.start()
    behaviour.connections = 0  # starting, the controller connects once itself
    yield behaviour, port
    controller.stop()


def transport(port: int) -> EmailTransport:
    return EmailTransport("127.0.0.1", port, "kpibot@council.example", user="kpibot", password="pw",
                          security="plain", timeout=10)


def dispatcher(engine: sa.Engine, files: FileStore, port: int) -> Dispatcher:
    return Dispatcher(engine, {"email": transport(port)}, files, max_attempts=8, backoff=BACKOFF)


def queue(engine: sa.Engine, *addresses: str) -> dict[str, int]:
    """A notice to each contact, by email; their outbox ids by address."""
    ids = {}
    with Session(engine) as session:
        for address in addresses:
            contact = session.exec(select(Contact).where(Contact.email == address)).one()
            row = OutboxMessage(dedupe_key=f"notice:{address}", created_at=NOW, contact_id=contact.id,
                                channel="email", address=address, kind="reminder", subject="Q2 return due",
                                body_text="Your Q2 return is due on 15 October.", next_attempt_at=NOW)
            session.add(row)
            session.flush()
            ids[address] = row.id
        session.commit()
    return ids


def rows(engine: sa.Engine) -> dict[str, OutboxMessage]:
    with Session(engine) as session:
        return {m.address: m for m in session.exec(select(OutboxMessage))}


def disabled(engine: sa.Engine) -> list[str]:
    with Session(engine) as session:
        return sorted(c.email for c in session.exec(select(Contact).where(col(Contact.email_disabled) == True)))  # noqa: E712


def status(settings: config.Settings) -> str:
    result = CliRunner().invoke(main, ["--config", str(Path(settings.source)), "status"], catch_exceptions=False,
                                env={"KPIBOT_TELEGRAM_TOKEN": "", "DATABASE_URL": ""})
    assert result.exit_code == 0, result.output
    return result.output


def test_a_4xx_for_one_recipient_is_retried_and_a_5xx_disables_only_that_recipient(
        loaded: sa.Engine, files: FileStore, settings: config.Settings, smtp: tuple[Behaviour, int]) -> None:
    behaviour, port = smtp
    behaviour.recipients = {ALICE: "450 4.2.0 Mailbox busy, try again later", BOB: "550 5.1.1 No such mailbox"}
    queue(loaded, ALICE, BOB, DAVE)
    assert dispatcher(loaded, files, port).run_once(NOW) == 3
    sent = rows(loaded)
    assert behaviour.delivered == [DAVE] and sent[DAVE].status == "sent"
    assert (sent[ALICE].status, sent[ALICE].attempts, sent[ALICE].next_attempt_at) == ("pending", 1, NOW + BACKOFF)
    assert "450" in sent[ALICE].last_error
    assert sent[BOB].status == "failed" and "550" in sent[BOB].last_error
    assert disabled(loaded) == [BOB]  # Bob's address does not exist; Alice's mailbox was only busy
    said = status(settings)
    assert f"to {BOB} (email), failed" in said and "550" in said
    assert f"Email disabled for {BOB}: a message to them was refused for good" in said
    assert ALICE not in said and "paused" not in said.lower()
    behaviour.recipients = {}  # Alice's server takes mail again: her notice goes at its next attempt
    assert dispatcher(loaded, files, port).run_once(NOW + BACKOFF) == 1
    assert behaviour.delivered == [DAVE, ALICE] and rows(loaded)[ALICE].status == "sent"
    dispatcher(loaded, files, port).retry(sent[BOB].id or 0, NOW + BACKOFF)  # Bob's address was put right
    assert disabled(loaded) == [] and dispatcher(loaded, files, port).run_once(NOW + BACKOFF) == 1
    assert behaviour.delivered == [DAVE, ALICE, BOB]


@pytest.mark.parametrize(("fault", "said"), [
    ("421 at connection", "421"),
    ("authentication failure", "535"),
    ("connection refused", "cannot connect"),
])
def test_a_channel_wide_failure_pauses_sending_disables_no_one_and_everything_goes_when_it_is_back(
        loaded: sa.Engine, files: FileStore, settings: config.Settings, smtp: tuple[Behaviour, int],
        fault: str, said: str) -> None:
    behaviour, port = smtp
    target = port
    if fault == "421 at connection":
        behaviour.greeting = "421 4.3.2 Service not available, closing transmission channel"
    elif fault == "authentication failure":
        behaviour.sign_in = False
    else:
        target = free_port()  # nothing listens there
    ids = queue(loaded, ALICE, BOB, DAVE)
    assert dispatcher(loaded, files, target).run_once(NOW) == 1  # the first fails for all: the rest wait
    assert behaviour.connections == (0 if fault == "connection refused" else 1)
    waiting = rows(loaded)
    assert {m.status for m in waiting.values()} == {"pending"}
    assert {m.attempts for m in waiting.values()} == {0}  # a failure of the channel uses up no message's attempts
    assert disabled(loaded) == []
    text = status(settings)
    assert "Email sending is paused" in text and said in text, text
    assert "3 messages wait" in text and "no message has failed and no contact was disabled for it" in text
    assert dispatcher(loaded, files, target).run_once(NOW + BACKOFF / 2) == 0  # paused: not even tried
    assert dispatcher(loaded, files, target).run_once(NOW + BACKOFF) == 1  # tried again after the pause...
    with Session(loaded) as session:  # ...which doubles while the channel stays down
        assert [e.action for e in session.exec(select(AuditEvent).where(
            col(AuditEvent.action).startswith("channel_")))] == ["channel_paused"]
    behaviour.greeting, behaviour.sign_in = "", True
    later: datetime = NOW + BACKOFF + 2 * BACKOFF
    assert dispatcher(loaded, files, port).run_once(later) == 3
    assert sorted(behaviour.delivered) == sorted([ALICE, BOB, DAVE])
    assert {m.status for m in rows(loaded).values()} == {"sent"} and disabled(loaded) == []
    assert "paused" not in status(settings).lower()
    with Session(loaded) as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "channel_resumed")).one().detail[
            "channel"] == "email"
    assert sorted(ids) == sorted([ALICE, BOB, DAVE])
