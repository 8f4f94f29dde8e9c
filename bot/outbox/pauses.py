"""Pausing a channel whose server fails as a whole, and ending the pause when a message gets through.

A refused connection, a refused sign-in, a server that says it is unavailable (421), an unreachable Telegram: no
recipient is at fault, and every other message on the channel would fail the same way. So the dispatcher pauses
the channel (for its back-off, doubling with each failure in a row, up to MAX_PAUSE), puts the message back
without counting the attempt, and tries again when the pause is over; the first message that goes through ends it.
While it lasts `kpibot status` says so, with the reason and how many messages wait; it also names the contacts
whose email a permanent refusal of their address disabled.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot.settings.redaction import redact
from bot.storage.audit import record
from bot.storage.delivery_models import ChannelPause
from bot.storage.models import Contact, OutboxMessage

log = logging.getLogger(__name__)
MAX_PAUSE = timedelta(minutes=30)
WHAT = {"email": "Email sending", "telegram": "Telegram sending"}


def paused(session: Session, now: datetime) -> list[str]:
    """The channels nothing may be sent on now."""
    return list(session.exec(select(ChannelPause.channel).where(col(ChannelPause.until) > now)).all())


def pause(session: Session, channel: str, reason: str, now: datetime, first: timedelta) -> ChannelPause:
    """Record one more failure of the whole channel (in the caller's transaction): paused for `first`, doubling
    with each failure in a row."""
    row = session.get(ChannelPause, channel)
    reason = redact(reason)[:2000]
    if row is None:
        row = ChannelPause(channel=channel, since=now, until=now + first, failures=1, reason=reason)
        session.add(row)
        log.warning("%s paused: %s (no message fails and no contact is disabled for it; trying again at %s)",
                    WHAT.get(channel, channel), reason, row.until.isoformat(timespec="seconds"))
        record(session, now, "system", "channel_paused", f"channel:{channel}", {"channel": channel, "reason": reason})
        return row
    row.failures += 1
    row.until = now + min(first * 2 ** (row.failures - 1), MAX_PAUSE)
    row.reason = reason
    log.warning("%s still failing (%d times): %s; trying again at %s", WHAT.get(channel, channel), row.failures,
                reason, row.until.isoformat(timespec="seconds"))
    return row


def resume(session: Session, channel: str, now: datetime) -> None:
    """A message got through: end the channel's pause, if it had one (in the caller's transaction)."""
    row = session.get(ChannelPause, channel)
    if row is None:
        return
    session.delete(row)
    log.info("%s works again after %d failure(s) since %s", WHAT.get(channel, channel), row.failures,
             row.since.isoformat(timespec="seconds"))
    record(session, now, "system", "channel_resumed", f"channel:{channel}",
           {"channel": channel, "failures": row.failures, "since": row.since.isoformat()})


def status_lines(engine: sa.Engine, zone: str) -> list[str]:
    """`kpibot status`: each paused channel, why, since when, how many messages wait and when it is tried again."""
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    with Session(engine) as session:
        rows = session.exec(select(ChannelPause).order_by(col(ChannelPause.channel))).all()
        waiting = dict(session.exec(select(OutboxMessage.channel, func.count()).where(
            col(OutboxMessage.status).in_(("pending", "sending"))).group_by(OutboxMessage.channel)).all())
    lines = []
    for row in rows:
        count = waiting.get(row.channel, 0)
        lines.append(
            f"{WHAT.get(row.channel, row.channel)} is paused since {row.since.astimezone(tz):%d %b %Y %H:%M} "
            f"({row.failures} failure(s) in a row): {row.reason[:300]}. {count} message{'' if count == 1 else 's'} "
            f"wait{'s' if count == 1 else ''}; no message has failed and no contact was disabled for it. kpibot "
            f"tries again at {row.until.astimezone(tz):%d %b %Y %H:%M} and sends them once it works.")
    return lines


def disabled_lines(engine: sa.Engine) -> list[str]:
    """`kpibot status`: the contacts email is no longer sent to, because a message to them was refused for good."""
    with Session(engine) as session:
        contacts = session.exec(select(Contact).where(col(Contact.email_disabled) == True)  # noqa: E712
                                .order_by(col(Contact.email))).all()
    return [f"Email disabled for {c.email}: a message to them was refused for good (the address does not exist, "
            "says their server); nothing more goes to them by email. Once the address is right, `kpibot outbox "
            "retry ID` of that message (`kpibot outbox list`) sends it again and enables email for them." for c in
            contacts]
