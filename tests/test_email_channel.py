"""The email channel against real servers on 127.0.0.1: Dovecot (IMAP) holding the mailbox, aiosmtpd (SMTP)
receiving kpibot's replies. Returns are the workbook kpibot makes, filled in as a provider would."""

from __future__ import annotations

import asyncio
import io
import os
import queue
import signal
import subprocess
import sys
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import pytest
import sqlalchemy as sa
from intake_fixtures import ALICE, NOW
from mail_fixtures import (  # noqa: F401
    KPIBOT,
    Captured,
    MailServer,
    SmtpServer,
    build,
    email_settings,
)
from pypdf import PdfReader
from services import free_port
from sqlmodel import Session, col, select

from bot import config
from bot.app import App
from bot.channels.email.channel import EmailChannel
from bot.channels.email.reading import Mailbox
from bot.channels.email.transport import EmailTransport
from bot.intake.service import Intake
from bot.outbox.dispatcher import Dispatcher
from bot.reports.queue import RenderQueue
from bot.storage.files import FileStore
from bot.storage.models import (
    InboundMail,
    IndicatorResultRow,
    OutboxMessage,
    PaymentRow,
    Submission,
)
from bot.workbooks.fill import fill
from bot.workbooks.template import build_template
from kpi_core import formatting, loader, samples
from kpi_core.calendar import parse_period

LATER = NOW + timedelta(minutes=5)
PROCESSED = "kpibot-processed"


def workbook(seed: int = 1) -> bytes:
    """City and Hackney's Q2 2025-26 return workbook, filled in by the provider."""
    fw = loader.get("ch-stop-smoking")
    book = build_template(fw, contract_id="ch-stop-smoking", contract_name="City and Hackney Stop Smoking Service",
                          provider_name="Breathe Easy CIC", period=parse_period("2025-26-Q2", 4))
    return fill(book, samples.sample_values(fw, "quarterly", seed=seed), fw)


def channel(intake: Intake, settings: config.Settings, server: MailServer) -> EmailChannel:
    app = App(server.settings(settings))
    app.__dict__["engine"] = intake.engine
    return EmailChannel(app, intake=intake, mailbox=lambda: server.mailbox(settings), clock=lambda: LATER)


def scan(intake: Intake, settings: config.Settings, server: MailServer) -> int:
    reader = channel(intake, settings, server)
    mailbox = reader.mailbox()
    mailbox.open()
    try:
        return reader.scan(mailbox)
    finally:
        mailbox.close()


def dispatch(intake: Intake, files: FileStore, smtp_port: int, now=LATER) -> int:  # type: ignore[no-untyped-def]
    transport = EmailTransport("127.0.0.1", smtp_port, KPIBOT, security="plain", timeout=5)
    return Dispatcher(intake.engine, {"email": transport}, files).run_once(now)


def submissions(engine: sa.Engine) -> list[Submission]:
    with Session(engine) as session:
        return list(session.exec(select(Submission).order_by(col(Submission.id))))


@pytest.mark.with_pdf
def test_a_return_emailed_in_is_scored_and_answered_in_its_thread_with_the_pdf(
        intake: Intake, settings: config.Settings, mail_server: MailServer, smtp: SmtpServer,
        render_queue: RenderQueue, files: FileStore) -> None:
    mail_server.deliver(build(files=(("Q2 return.xlsx", workbook()),),
                              headers={"References": "<thread-start@breathe-easy.example>"}))
    assert scan(intake, settings, mail_server) == 1
    [sub] = submissions(intake.engine)
    assert (sub.channel, sub.status, sub.contract_id, sub.period_id, sub.sender_address) == (
        "email", "accepted", "ch-stop-smoking", "2025-26-Q2", ALICE)
    assert mail_server.messages("INBOX") == [] and len(mail_server.messages(PROCESSED)) == 1  # moved, not deleted
    assert dispatch(intake, files, smtp.port) == 0  # the email waits for its PDF...
    assert render_queue.run_once() == 1
    assert dispatch(intake, files, smtp.port) == 1  # ...then goes with it
    [reply] = smtp.inbox.messages
    assert (reply["To"], reply["From"], reply["Subject"]) == (ALICE, KPIBOT, "Re: Q2 2025-26 return")
    assert reply["In-Reply-To"] == "<q2@breathe-easy.example>"
    assert reply["References"] == "<thread-start@breathe-easy.example> <q2@breathe-easy.example>"
    assert (reply["Auto-Submitted"], reply["X-Auto-Response-Suppress"]) == ("auto-replied", "All")
    parts = {part.get_content_type(): part for part in reply.walk()}
    text = parts["text/plain"].get_payload(decode=True).decode()
    assert "Result: Accepted" in text and "attached PDF" in text
    assert "Result: Accepted" in parts["text/html"].get_payload(decode=True).decode()
    pdf = parts["application/pdf"]
    assert pdf.get_filename() == "ch-stop-smoking-2025-26-Q2-v1.pdf"
    pdf_text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(
        pdf.get_payload(decode=True))).pages)
    assert "City and Hackney Stop Smoking Service" in pdf_text and "Breathe Easy CIC" in pdf_text
    with Session(intake.engine) as session:  # the figures kpibot scored are the report's
        results = {r.ref: r.value for r in session.exec(select(IndicatorResultRow).where(
            IndicatorResultRow.submission_id == sub.id))}
        [payment] = session.exec(select(PaymentRow).where(PaymentRow.submission_id == sub.id)).all()
    assert f"Total number of people setting a quit date: {results['1.1']:,.0f} (year to date)" in pdf_text
    shown = formatting.value(Fraction(str(results["1.4"])), "percentage", None)  # printed as every report prints it
    assert shown in pdf_text and "1.4 % of people who set a quit date who have quit" in pdf_text
    assert f"£{payment.amount:,.2f}" in pdf_text and "Received 1 October 2025 at 10:00" in pdf_text


def test_each_kind_of_message_is_handled_and_moved(intake: Intake, settings: config.Settings,
                                                   mail_server: MailServer, smtp: SmtpServer,
                                                   files: FileStore) -> None:
    mail_server.deliver(build(sender="stranger@elsewhere.example", message_id="<s1@elsewhere.example>",
                              files=(("q2.xlsx", workbook()),)))
    mail_server.deliver(build(message_id="<ooo@breathe-easy.example>", subject="Automatic reply: Q2",
                              headers={"Auto-Submitted": "auto-replied"}))
    mail_server.deliver(build(sender="MAILER-DAEMON@mx.breathe-easy.example", message_id="<dsn@mx.example>",
                              subject="Undeliverable: Re: Q2 2025-26 return", headers={"Return-Path": "<>"}))
    mail_server.deliver(build(message_id="<none@breathe-easy.example>", subject="Our return",
                              files=(("covering-letter.pdf", b"%PDF-1.4 a letter"),)))
    mail_server.deliver(build(message_id="<two@breathe-easy.example>", subject="Q2 2025-26 returns",
                              files=(("good.xlsx", workbook()), ("notes.csv", b"just,some\nnotes,here\n"))))
    assert scan(intake, settings, mail_server) == 5
    assert mail_server.messages("INBOX") == [] and len(mail_server.messages(PROCESSED)) == 5
    with Session(intake.engine) as session:
        outcomes = dict(session.exec(select(InboundMail.message_id, InboundMail.outcome)).all())
    assert outcomes == {"<s1@elsewhere.example>": "unknown sender", "<ooo@breathe-easy.example>":
                        "ignored:auto-submitted", "<dsn@mx.example>": "ignored:bounce",
                        "<none@breathe-easy.example>": "no return", "<two@breathe-easy.example>": "processed"}
    assert [(s.filename, s.status) for s in submissions(intake.engine)] == [
        ("q2.xlsx", "rejected"), ("good.xlsx", "accepted"), ("notes.csv", "rejected")]
    assert dispatch(intake, files, smtp.port) == 3
    answered = sorted((m["In-Reply-To"], m["Subject"]) for m in smtp.inbox.messages)
    assert answered == [("<none@breathe-easy.example>", "Re: Our return"),
                        ("<two@breathe-easy.example>", "Re: Q2 2025-26 returns"),
                        ("<two@breathe-easy.example>", "Re: Q2 2025-26 returns")]
    assert {m["To"] for m in smtp.inbox.messages} == {ALICE}  # nothing to the stranger, the robot or the daemon


def test_a_renumbered_folder_does_not_process_a_message_twice(intake: Intake, settings: config.Settings,
                                                              mail_server: MailServer) -> None:
    custom = settings.model_copy(update={"email": settings.email.model_copy(update={"folder": "Returns"})})
    client = mail_server.client()
    client.create("Returns")
    client.logout()
    raw = build(files=(("q2.xlsx", workbook()),))
    mail_server.deliver(raw, folder="Returns")
    assert scan(intake, custom, mail_server) == 1
    client = mail_server.client()
    client.delete("Returns")  # the folder is made anew: a new UIDVALIDITY, its UIDs start again
    client.create("Returns")
    client.logout()
    mail_server.deliver(raw, folder="Returns")  # e.g. an administrator restored the folder from a backup
    assert scan(intake, custom, mail_server) == 1
    assert len(submissions(intake.engine)) == 1
    with Session(intake.engine) as session:
        rows = session.exec(select(InboundMail).order_by(col(InboundMail.id))).all()
    assert [r.outcome for r in rows] == ["processed", "duplicate"] and rows[0].uidvalidity != rows[1].uidvalidity


@pytest.mark.parametrize("capabilities", ["no MOVE", "no MOVE nor UIDPLUS"])
def test_a_server_without_move_gets_a_copy_and_nothing_else_is_expunged(
        intake: Intake, settings: config.Settings, mail_server: MailServer, capabilities: str) -> None:
    mail_server.deliver(build(message_id="<flagged@breathe-easy.example>", text="someone's deleted draft"))
    client = mail_server.client()
    client.select("INBOX")
    client.store("1", "+FLAGS", r"(\Deleted)")  # a person deleted this one, not yet expunged: not ours to expunge
    client.logout()
    mail_server.deliver(build(files=(("q2.xlsx", workbook()),)))
    reader = channel(intake, settings, mail_server)
    mailbox = reader.mailbox()
    mailbox.open()
    dropped = ("MOVE",) if capabilities == "no MOVE" else ("MOVE", "UIDPLUS")
    mailbox.capabilities = tuple(c for c in mailbox.capabilities if c not in dropped)
    try:
        assert reader.scan(mailbox) == 1
        assert reader.scan(mailbox) == 0  # a copied message left flagged is not read again
    finally:
        mailbox.close()
    assert [m["Message-ID"] for m in mail_server.messages(PROCESSED)] == ["<q2@breathe-easy.example>"]
    assert "<flagged@breathe-easy.example>" in [m["Message-ID"] for m in mail_server.messages("INBOX")]
    assert len(submissions(intake.engine)) == 1


KILLED = """
import os, signal, sys
sys.path.insert(0, {tests!r})
from datetime import timedelta
from bot import config
from bot.app import App
from bot.channels.email.channel import EmailChannel
from bot.channels.email.reading import Mailbox
from bot.intake.service import Intake
from intake_fixtures import NOW

class DiesBeforeMoving(Mailbox):
    def move(self, uid):
        os.kill(os.getpid(), signal.SIGKILL)  # the ledger is committed; the message is still in the inbox

settings = config.load({config_path!r}, environ={{}})
settings = settings.model_copy(update={{"email": settings.email.model_copy(update={{"imap_port": {port},
    "imap_user": {user!r}}})}})
app = App(settings)
reader = EmailChannel(app, intake=Intake(app.engine, settings, app.files),
                      mailbox=lambda: DiesBeforeMoving(settings.email, "secret", timeout=10),
                      clock=lambda: NOW + timedelta(minutes=5))
mailbox = reader.mailbox()
mailbox.open()
reader.scan(mailbox)
"""


def test_a_kill_between_commit_and_move_then_a_restart_gives_one_submission_and_one_reply(
        intake: Intake, settings: config.Settings, mail_server: MailServer, smtp: SmtpServer, files: FileStore,
        tmp_path: Path) -> None:
    mail_server.deliver(build(files=(("q2.xlsx", workbook()),)))
    script = KILLED.format(tests=str(Path(__file__).parent), config_path=str(tmp_path / "config.toml"),
                           port=mail_server.port, user=mail_server.user)
    died = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert died.returncode == -signal.SIGKILL, died.stderr[-2000:]
    assert len(mail_server.messages("INBOX")) == 1  # killed before the move...
    assert len(submissions(intake.engine)) == 1  # ...after the commit
    assert scan(intake, settings, mail_server) == 1  # the restarted channel only moves it
    assert mail_server.messages("INBOX") == [] and len(mail_server.messages(PROCESSED)) == 1
    assert len(submissions(intake.engine)) == 1
    assert dispatch(intake, files, smtp.port) == 1 and dispatch(intake, files, smtp.port) == 0
    assert len(smtp.inbox.messages) == 1


def test_a_reply_due_while_smtp_is_down_goes_once_it_is_back_with_the_same_message_id(
        intake: Intake, settings: config.Settings, mail_server: MailServer, files: FileStore) -> None:
    mail_server.deliver(build(files=(("q2.xlsx", workbook()),)))
    scan(intake, settings, mail_server)
    smtp = SmtpServer(free_port(), Captured(refuse=1))
    assert dispatch(intake, files, smtp.port) == 1  # nobody listening
    with Session(intake.engine) as session:
        [message] = session.exec(select(OutboxMessage)).all()
        assert message.status == "pending" and "cannot connect to the SMTP server" in message.last_error
        assert message.attempts == 0  # the channel was down, not this message: sending pauses, nothing used up
    smtp.start()  # back, but answering the first attempt "451 try again later" after taking the message
    try:
        assert dispatch(intake, files, smtp.port, LATER + timedelta(minutes=2)) == 1
        assert dispatch(intake, files, smtp.port, LATER + timedelta(minutes=10)) == 1
    finally:
        smtp.stop()
    [delivered] = smtp.inbox.messages
    [refused] = smtp.inbox.refused
    assert delivered["Message-ID"] == refused["Message-ID"] == f"<kpibot-outbox-{message.id}@council.example>"
    with Session(intake.engine) as session:
        assert session.get(OutboxMessage, message.id).status == "sent"  # type: ignore[union-attr]


def test_the_channel_runs_beside_the_event_loop_and_idle_brings_new_mail_at_once(
        intake: Intake, settings: config.Settings, mail_server: MailServer) -> None:
    scans: queue.Queue[int] = queue.Queue()

    class Observed(EmailChannel):
        def scan(self, mailbox: Mailbox) -> int:
            found = super().scan(mailbox)
            scans.put(found)
            return found

    app = App(mail_server.settings(settings))
    app.__dict__["engine"] = intake.engine
    reader = Observed(app, intake=intake, mailbox=lambda: mail_server.mailbox(settings), clock=lambda: LATER)

    async def elsewhere() -> str:
        return "the loop is free"

    async def main() -> tuple[int, str, int]:
        await reader.start()
        first = await asyncio.to_thread(scans.get, True, 30)  # an empty inbox; now idling (poll_seconds = 300)
        free = await asyncio.wait_for(elsewhere(), 5)  # while the channel's thread waits in IDLE
        mail_server.deliver(build(files=(("q2.xlsx", workbook()),)))
        second = await asyncio.to_thread(scans.get, True, 30)  # IDLE woke it, long before the next poll
        await reader.stop()
        return first, free, second

    assert asyncio.run(asyncio.wait_for(main(), 60)) == (0, "the loop is free", 1)
    assert mail_server.messages("INBOX") == [] and len(submissions(intake.engine)) == 1


def test_kpibot_run_refuses_a_mailbox_without_its_password(settings: config.Settings) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    result = CliRunner().invoke(main, ["--config", settings.source, "run"], env={"KPIBOT_IMAP_PASSWORD": ""})
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert ("[email] imap_user is set (kpibot@council.example) but KPIBOT_IMAP_PASSWORD is not: set it in the "
            "environment, or leave imap_user empty") in result.output


def test_kpibot_run_refuses_a_dmarc_hold_without_the_server_to_trust(settings: config.Settings) -> None:
    """Without `authserv_id`, kpibot cannot tell its receiving server's Authentication-Results from one a sender
    wrote (issue 19): the mailbox is not read until it is set (or the hold is turned off)."""
    from click.testing import CliRunner

    from bot.cli import main

    path = Path(settings.source)
    path.write_text(path.read_text().replace('authserv_id = "mx.council.example"\n', ""))
    result = CliRunner().invoke(main, ["--config", str(path), "run"], env={"KPIBOT_IMAP_PASSWORD": "pw"})
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert ("[email] require_dmarc_pass is on but authserv_id is empty: set it to the name your mail server writes "
            "first in its Authentication-Results header") in result.output


def test_the_email_of_a_file_refused_as_personal_data_leaves_the_mailbox(
        intake: Intake, settings: config.Settings, mail_server: MailServer, caplog: pytest.LogCaptureFixture) -> None:
    """Issue 19: 'the email that carried a quarantined attachment stays in the processed folder for ever ... the
    service log prints the file name'. It is deleted from the mailbox once recorded (its file is kept restricted,
    and purged with the quarantine); a clean return's email is moved to the processed folder as ever."""
    patients = (b"name,nhs_number,dob\nJane Smith,943 476 5919,1961-03-02\nAli Khan,401 023 2137,1958-11-30\n"
                b"Mary Jones,943 476 5870,1972-01-15\n")
    mail_server.deliver(build(message_id="<list@breathe-easy.example>", subject="Q2 2025-26 clients",
                              files=(("9434765919 Jane Smith.csv", patients),)))
    mail_server.deliver(build(files=(("q2.xlsx", workbook()),)))
    with caplog.at_level("DEBUG"):
        assert scan(intake, settings, mail_server) == 2
    assert mail_server.messages("INBOX") == []
    assert [m["Message-ID"] for m in mail_server.messages(PROCESSED)] == ["<q2@breathe-easy.example>"]
    quarantined, accepted = submissions(intake.engine)
    assert (quarantined.status, accepted.status) == ("quarantined", "accepted")
    with Session(intake.engine) as session:
        ledger = {m.message_id: m for m in session.exec(select(InboundMail))}
    assert ledger["<list@breathe-easy.example>"].outcome == "quarantined"
    assert "Jane" not in caplog.text and "9434765919" not in caplog.text
    assert f"submission {quarantined.id}" in caplog.text  # the log says which, by its number
