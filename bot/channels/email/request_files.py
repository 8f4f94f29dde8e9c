"""An email answering the council's request for information: a thin adapter over bot/intake/documents.py.

An email with files answers request 3 when it replies in the thread of one of kpibot's emails that names that one
request (the request itself, its reminder, its overdue notice: each subject says "request 3"), or when its own
subject names it ("Inspection report, request 3"). Its files are recorded (kept raw) and taken in order, documents
before pictures (a signature's logo is not the answer): the first the intake accepts answers the request; the
others are kept and their sender told why they were not used. Nothing in it is read as a return.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.channels.email.message import Inbound
from bot.channels.email.rules import our_messages
from bot.intake import documents
from bot.intake.received import Received, shown_filename
from bot.storage.files import FileStore
from bot.storage.models import OutboxMessage
from bot.storage.plan_models import InfoRequest

PICTURES = ("png", "jpg", "jpeg", "gif", "bmp")


def request_named(session: Session, message: Inbound, from_address: str) -> int | None:
    """The one request the email's subject names, else the one named by the latest of kpibot's emails it answers;
    a number naming no request at all is no request (the email goes on as usual)."""
    named = documents.named_request(message.subject)
    if named is not None and session.get(InfoRequest, named) is not None:  # "RFI 2025" names no request
        return named
    ours = our_messages(message, from_address)
    if not ours:
        return None
    subjects = session.exec(select(OutboxMessage.id, OutboxMessage.subject)
                            .where(col(OutboxMessage.id).in_(ours))).all()
    by_id = dict(subjects)
    for outbox_id in ours:  # latest first
        found = documents.named_request(by_id.get(outbox_id) or "")
        if found is not None and session.get(InfoRequest, found) is not None:
            return found
    return None


def answer_files(engine: sa.Engine, settings: config.Settings, files: FileStore, key: str, message: Inbound,
                 arrived: datetime, contact_id: int, request_id: int) -> str:
    """Record and take each file of the email for the request; what to tell the sender, one line per file."""
    lines = []
    ordered = sorted(message.attachments, key=lambda a: (a.filename.rpartition(".")[2].lower() in PICTURES,
                                                         a.number))
    answered = ""
    for attachment in ordered:
        taken = documents.record(engine, settings, files, Received(
            channel="email", message_id=key, sender=message.sender, filename=attachment.filename,
            data=attachment.data, received_at=arrived, caption=message.subject,
            part=attachment.number), contact_id, request_id)
        shown = shown_filename(attachment.filename)
        if taken.state == "received" and answered:
            taken = documents.refuse(engine, taken.upload_id, f"{shown} was kept with your email, but request "
                                     f"{request_id} was answered by {answered}.", still_open=False)
        elif taken.state == "received":
            taken = documents.take(engine, settings, files, taken.upload_id)
        if taken.state == "answered":
            answered = shown
        lines.append(taken.reply)
    return "\n\n".join(lines)


