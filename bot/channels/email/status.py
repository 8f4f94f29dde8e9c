"""The email channel's part of `kpibot status`: is the mailbox being read, and what came that kpibot did not score
(unknown senders' files, held messages, automatic mail, messages that failed)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot import config
from bot.storage.models import Heartbeat, InboundMail, Submission

WINDOW = timedelta(days=30)
MAX_LINES = 10


def status_lines(engine: sa.Engine, settings: config.Settings, now: datetime) -> list[str]:
    """Lines for `kpibot status` (none when no mailbox is configured and none was ever read)."""
    zone = ZoneInfo(settings.timezone)
    since = now - WINDOW
    with Session(engine) as session:
        beat = session.get(Heartbeat, "email")
        unknown = session.exec(
            select(Submission.sender_address, func.count(), func.max(Submission.received_at))
            .where(Submission.channel == "email", col(Submission.sender_contact_id).is_(None),
                   col(Submission.received_at) >= since)
            .group_by(Submission.sender_address).order_by(func.max(Submission.received_at).desc())).all()
        held = session.exec(select(InboundMail).where(
            sa.or_(col(InboundMail.outcome).startswith("held:"), col(InboundMail.outcome) == "failed"),
            col(InboundMail.received_at) >= since).order_by(col(InboundMail.received_at).desc())).all()
        ignored = session.exec(select(InboundMail.outcome, func.count()).where(
            col(InboundMail.outcome).startswith("ignored:"), col(InboundMail.received_at) >= since)
            .group_by(InboundMail.outcome)).all()
    if beat is None and not settings.email.mailbox_configured:
        return []
    lines = ["", "Email"]
    if not settings.email.mailbox_configured:
        lines.append("  No mailbox is configured ([email] imap_user); the records below are from before.")
    elif beat is None:
        lines.append(f"  Mailbox {settings.email.imap_user}: not read yet (is `kpibot run` running?)")
    else:
        when = f"{beat.at.astimezone(zone):%d %b %Y %H:%M}"
        if beat.detail.get("error"):
            lines.append(f"  Mailbox {settings.email.imap_user}: NOT READ. The last try ({when}) failed: "
                         f"{beat.detail['error']}")
        elif beat.at < now - timedelta(seconds=3 * settings.email.poll_seconds + 60):
            lines.append(f"  Mailbox {settings.email.imap_user}: not checked since {when} (is `kpibot run` running?)")
        else:
            lines.append(f"  Mailbox {settings.email.imap_user}: read, last checked {when}.")
    for address, count, last in unknown[:MAX_LINES]:
        lines.append(f"  Unknown sender {address}: {count} file(s), last {last.astimezone(zone):%d %b %Y}; not "
                     "answered, files kept restricted. Add them as a contact if they should send returns.")
    for row in held[:MAX_LINES]:
        why = ("could not be processed (see the log)" if not row.outcome.startswith("held:") else
               "held: no sender check (DMARC) from the council's mail server" if row.outcome == "held:dmarc missing"
               else "held: the sender check (DMARC) failed")
        lines.append(f"  {row.received_at.astimezone(zone):%d %b %Y} email from {row.sender or '?'} "
                     f"\"{row.subject[:60]}\": {why}; kept in folder {settings.email.processed_folder!r}.")
    if ignored:
        counts = ", ".join(f"{n} {outcome.removeprefix('ignored:')}" for outcome, n in sorted(ignored))
        lines.append(f"  Not read, by rule (automatic mail, bounces, lists), last 30 days: {counts}.")
    return lines
