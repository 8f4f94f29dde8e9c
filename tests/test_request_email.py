"""Requests for information by email, against real servers on 127.0.0.1: the request goes out over SMTP (aiosmtpd);
the provider answers by replying in its thread with the document attached, or in a new email naming the request in
its subject, into the mailbox (Dovecot). The email channel hands the files to the intake's door for requests: kept
raw, linked, never read as a return, answered in the thread; a hostile file is refused clearly, the request open."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from intake_fixtures import ALICE, NOW, sample_csv
from mail_fixtures import KPIBOT, MailServer, SmtpServer, build, email_settings  # noqa: F401
from sqlmodel import Session, func, select
from test_review_email import body, contact_id, dispatch, scan

from bot import config
from bot.app import App
from bot.channels.email.channel import EmailChannel
from bot.intake.service import Intake
from bot.plans.requests import ask
from bot.review.scene import Act
from bot.storage.answer_models import RequestUpload
from bot.storage.files import FileStore
from bot.storage.models import Submission
from bot.storage.plan_models import InfoRequest

CAROL = "carol@example-council.example"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def scan_at(intake: Intake, settings: config.Settings, server: MailServer, now: datetime) -> int:
    """Read the mailbox as the channel does at `now`."""
    app = App(server.settings(settings))
    app.__dict__["engine"] = intake.engine
    reader = EmailChannel(app, intake=intake, mailbox=lambda: server.mailbox(settings), clock=lambda: now)
    mailbox = reader.mailbox()
    mailbox.open()
    try:
        return reader.scan(mailbox)
    finally:
        mailbox.close()


def rows(engine: sa.Engine, table: type) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def state(engine: sa.Engine, request_id: int) -> tuple[str, bool | None, str]:
    with Session(engine) as session:
        found = session.get(InfoRequest, request_id)
        assert found is not None
        return found.state, found.on_time, found.filename


def test_the_provider_answers_a_request_by_replying_in_its_thread_with_the_document(
        intake: Intake, settings: config.Settings, mail_server: MailServer, smtp: SmtpServer,
        files: FileStore) -> None:
    carol = Act(contact_id(intake.engine, CAROL), "cli", NOW)
    request_id = ask(intake.engine, settings, carol, "ch-stop-smoking", "Inspection report", "2 working days")\
        .review_id or 0
    dispatch(intake.engine, files, smtp)
    [asked] = [m for m in smtp.inbox.messages if m["To"] == ALICE]
    assert asked["Subject"].startswith(f"Request {request_id} from the council")
    assert "reply to this email with the document attached" in body(asked)
    reply = build(subject="Re: the report you asked for", message_id="<rq-1@breathe-easy.example>",
                  files=(("image001.png", PNG), ("CQC report.pdf", PDF)),  # a signature's logo comes first
                  headers={"In-Reply-To": asked["Message-ID"], "References": asked["Message-ID"]},
                  text="Here it is.")
    mail_server.deliver(reply, when=NOW + timedelta(hours=2))
    assert scan(intake, settings, mail_server) == 1
    assert state(intake.engine, request_id) == ("answered", True, "CQC report.pdf")  # the document, not the logo
    assert rows(intake.engine, Submission) == 0 and rows(intake.engine, RequestUpload) == 2  # both kept raw
    smtp.inbox.messages.clear()
    dispatch(intake.engine, files, smtp)
    ack = next(m for m in smtp.inbox.messages if m["To"] == ALICE)
    assert ack["In-Reply-To"] == "<rq-1@breathe-easy.example>"
    assert "as the answer to request 1 (Inspection report), on time" in body(ack)
    assert "image001.png was kept with your email, but request 1 was answered by CQC report.pdf" in body(ack)
    to_carol = next(m for m in smtp.inbox.messages if m["To"] == CAROL)
    assert to_carol["Subject"].startswith("Answered: Inspection report")
    assert [p.get_filename() for p in to_carol.walk() if p.get_filename()] == ["CQC report.pdf"]


def test_a_new_email_naming_the_request_answers_it_late_and_a_hostile_file_is_refused_in_the_thread(
        intake: Intake, settings: config.Settings, mail_server: MailServer, smtp: SmtpServer,
        files: FileStore) -> None:
    carol = Act(contact_id(intake.engine, CAROL), "cli", NOW)
    request_id = ask(intake.engine, settings, carol, "ch-stop-smoking", "Service user survey results",
                     "1 working day").review_id or 0
    hostile = build(subject=f"Survey results (request {request_id})", message_id="<rq-2@breathe-easy.example>",
                    files=(("survey.pdf", b"MZ\x90\x00" + b"\x00" * 64),))
    mail_server.deliver(hostile, when=NOW + timedelta(days=1))
    assert scan(intake, settings, mail_server) == 1
    assert state(intake.engine, request_id)[0] == "open" and rows(intake.engine, Submission) == 0
    dispatch(intake.engine, files, smtp)
    refused = next(m for m in smtp.inbox.messages if m["To"] == ALICE and m["In-Reply-To"] ==
                   "<rq-2@breathe-easy.example>")
    assert "survey.pdf is a program, not a document" in body(refused) and "request stays open" in body(refused)
    with Session(intake.engine) as session:
        kept = session.exec(select(RequestUpload)).one()
    assert kept.state == "refused" and kept.sha256 is not None and files.get(kept.sha256).startswith(b"MZ")

    late = build(subject=f"Survey results (request {request_id})", message_id="<rq-3@breathe-easy.example>",
                 files=(("survey.pdf", PDF),))
    mail_server.deliver(late, when=NOW + timedelta(days=6))
    assert scan_at(intake, settings, mail_server, NOW + timedelta(days=6, hours=1)) == 1
    assert state(intake.engine, request_id) == ("answered", False, "survey.pdf")
    assert rows(intake.engine, Submission) == 0


def test_a_return_whose_subject_happens_to_name_a_number_like_a_request_is_still_a_return(
        intake: Intake, settings: config.Settings, mail_server: MailServer) -> None:
    mail_server.deliver(build(subject="Q2 2025-26 return, RFI 2025", files=(("return.csv", sample_csv()),)))
    assert scan(intake, settings, mail_server) == 1
    assert rows(intake.engine, RequestUpload) == 0 and rows(intake.engine, Submission) == 1
