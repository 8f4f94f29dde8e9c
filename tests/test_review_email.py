"""The review by email, against real servers on 127.0.0.1: the council's query goes out over SMTP (aiosmtpd), the
provider answers by replying in its thread into the mailbox (Dovecot), and the email channel hands the words of the
reply, without the quoted query, to bot/review. An answer to a query already closed is told so, in the thread."""

from __future__ import annotations

from datetime import timedelta
from email.message import Message

import sqlalchemy as sa
from intake_fixtures import ALICE, NOW, received, sample_csv
from mail_fixtures import KPIBOT, MailServer, SmtpServer, build, email_settings  # noqa: F401
from sqlmodel import Session, select

from bot import config
from bot.app import App
from bot.channels.email.channel import EmailChannel
from bot.channels.email.transport import EmailTransport
from bot.intake.service import Intake
from bot.outbox.dispatcher import Dispatcher
from bot.review import actions
from bot.review.listing import find
from bot.review.scene import Act
from bot.storage.files import FileStore
from bot.storage.models import Contact
from bot.storage.review_models import ReviewQuery

CAROL = "carol@example-council.example"
LATER = NOW + timedelta(hours=3)
QUOTED = ("\n\nOn Wed, 1 Oct 2025 at 11:00, kpibot <kpibot@council.example>\nwrote:\n> Carol has a question about "
          "the quarterly monitoring return\n> 1.5: the quit rate is far above last quarter's\n")


def contact_id(engine: sa.Engine, email: str) -> int:
    with Session(engine) as session:
        found = session.exec(select(Contact.id).where(Contact.email == email)).one()
        assert found is not None
        return found


def scan(intake: Intake, settings: config.Settings, server: MailServer) -> int:
    app = App(server.settings(settings))
    app.__dict__["engine"] = intake.engine
    reader = EmailChannel(app, intake=intake, mailbox=lambda: server.mailbox(settings), clock=lambda: LATER)
    mailbox = reader.mailbox()
    mailbox.open()
    try:
        return reader.scan(mailbox)
    finally:
        mailbox.close()


def dispatch(engine: sa.Engine, files: FileStore, smtp: SmtpServer) -> int:
    transport = EmailTransport("127.0.0.1", smtp.port, KPIBOT, security="plain", timeout=5)
    return Dispatcher(engine, {"email": transport}, files).run_once(LATER + timedelta(hours=1))


def body(message: Message) -> str:
    part = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    return part.get_payload(decode=True).decode()  # type: ignore[union-attr]


def reply_to(message: Message, text: str, message_id: str) -> bytes:
    """The provider's mail client answering `message`: in its thread, quoting it under the reply."""
    return build(subject="Re: " + " ".join(str(message["Subject"]).split()), message_id=message_id, text=text + QUOTED,
                 headers={"In-Reply-To": message["Message-ID"], "References": message["Message-ID"]})


def test_the_provider_answers_the_query_by_replying_in_its_thread(
        intake: Intake, settings: config.Settings, mail_server: MailServer, smtp: SmtpServer,
        files: FileStore) -> None:
    assert intake.submit(received(sample_csv(), contract_id="ch-stop-smoking", period_id="2025-26-Q2")).outcome \
        == "accepted"
    with Session(intake.engine) as session:
        found = find(session, "ch-stop-smoking", "2025-26-Q2")
    carol = Act(contact_id(intake.engine, CAROL), "cli", NOW + timedelta(hours=1))
    actions.query(intake.engine, settings, carol, found.review.id or 0, found.submission_id,
                  "1.5: the quit rate is far above last quarter's")
    dispatch(intake.engine, files, smtp)
    [query] = [m for m in smtp.inbox.messages if m["To"] == ALICE and m["Subject"].startswith("Query:")]
    assert "Reply to this email with your explanation" in body(query)

    mail_server.deliver(reply_to(query, "One clinic's quitters were entered twice; the rest stand.",
                                 "<answer-1@breathe-easy.example>"), when=NOW + timedelta(hours=2))
    assert scan(intake, settings, mail_server) == 1
    with Session(intake.engine) as session:
        [asked] = session.exec(select(ReviewQuery)).all()
    assert (asked.state, asked.answer, asked.answer_channel) == (
        "answered", "One clinic's quitters were entered twice; the rest stand.", "email")  # the quote left out
    smtp.inbox.messages.clear()
    dispatch(intake.engine, files, smtp)
    to_carol = next(m for m in smtp.inbox.messages if m["To"] == CAROL)
    assert to_carol["Subject"].startswith("Answer to your query") and "entered twice" in body(to_carol)
    ack = next(m for m in smtp.inbox.messages if m["To"] == ALICE)
    assert ack["In-Reply-To"] == "<answer-1@breathe-easy.example>" and "was passed to Carol" in body(ack)

    actions.sign_off(intake.engine, settings, Act(carol.contact_id, "cli", NOW + timedelta(hours=3)),
                     found.review.id or 0, found.submission_id)
    mail_server.deliver(reply_to(query, "And one more thing about Q2.", "<answer-2@breathe-easy.example>"),
                        when=NOW + timedelta(hours=3))
    assert scan(intake, settings, mail_server) == 1
    smtp.inbox.messages.clear()
    dispatch(intake.engine, files, smtp)
    closed = next(m for m in smtp.inbox.messages if m["To"] == ALICE and m["In-Reply-To"] ==
                  "<answer-2@breathe-easy.example>")
    assert "That query was closed on" in body(closed) and "the council signed the return off" in body(closed)
