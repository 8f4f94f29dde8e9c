"""Single-use sign-in links: asked for with an address, sent through the outbox, used once within 15 minutes.

A link carries a random token (256 bits); only its SHA-256 is stored. The message that carries it is an outbox row
like any other, so the link travels by the contact's own channel (their linked Telegram chat, else their email);
once it has been delivered, used or has expired, the link is removed from the row's text (`scrub`), so the
database never keeps a token that works. People are never told whether an address is registered: an unknown
address, one that asked too often and one with no channel all get the same answer.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot import config
from bot.reports import display
from bot.reports.templating import render_text
from bot.storage.audit import record
from bot.storage.db import retrying, write_session
from bot.storage.models import Contact, OutboxMessage
from bot.storage.web_models import SignInLink
from jobs.recipients import channel_of

MINUTES = 15
TOKEN_BYTES = 32
KIND = "sign_in"
SCRUBBED = "(This sign-in link has been used or has expired, so it was removed.)"
PATH = "/sign-in/link/"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


@dataclass(frozen=True)
class Asked:
    outcome: Literal["sent", "unknown", "throttled", "no_channel"]
    channel: str = ""


@dataclass(frozen=True)
class Redeemed:
    outcome: Literal["ok", "unknown", "used", "expired", "inactive"]
    contact_id: int | None = None
    how: str = ""  # the channel the link went by


def _contact(session: Session, email: str) -> Contact | None:
    return session.exec(select(Contact).where(Contact.email == email.strip().lower(),
                                              Contact.active == True)).first()  # noqa: E712


def ask(engine: sa.Engine, settings: config.Settings, email: str, now: datetime) -> Asked:
    """Queue a sign-in link for the active contact with `email`, through the outbox, unless they asked for
    `[web] sign_ins_per_hour` already in the last hour."""
    def write() -> Asked:
        with write_session(engine) as session:
            contact = _contact(session, email)
            if contact is None or contact.id is None:
                return Asked("unknown")
            recent = session.exec(select(func.count()).select_from(SignInLink).where(
                SignInLink.contact_id == contact.id, col(SignInLink.created_at) > now - timedelta(hours=1))).one()
            if recent >= settings.web.sign_ins_per_hour:
                record(session, now, contact.email, "web_sign_in_throttled", f"contact:{contact.id}", {})
                session.commit()
                return Asked("throttled")
            route = channel_of(contact, telegram=bool(settings.telegram_token))
            if route is None:
                return Asked("no_channel")
            channel, address = route
            token = secrets.token_urlsafe(TOKEN_BYTES)
            link = SignInLink(token_hash=token_hash(token), contact_id=contact.id, created_at=now,
                              expires_at=now + timedelta(minutes=MINUTES), channel=channel)
            session.add(link)
            session.flush()
            values: dict[str, Any] = dict(name=contact.name, link=link_url(settings, token), minutes=MINUTES,
                          until=display.moment(link.expires_at, settings.timezone).split(" at ")[-1])
            message = OutboxMessage(
                dedupe_key=f"sign-in:{link.id}", created_at=now, contact_id=contact.id, channel=channel,
                address=address, kind=KIND, next_attempt_at=now,
                subject=render_text("messages/sign_in.email-subject.txt", **values).strip(),
                body_text=render_text(f"messages/sign_in.{'telegram' if channel == 'telegram' else 'email'}.txt",
                                      **values).strip(),
                headers={"Auto-Submitted": "auto-generated"} if channel == "email" else {})
            session.add(message)
            session.flush()
            link.outbox_id = message.id
            record(session, now, contact.email, "web_sign_in_sent", f"contact:{contact.id}",
                   {"channel": channel, "link": link.id})
            session.commit()
            return Asked("sent", channel)
    return retrying(write)


def link_url(settings: config.Settings, token: str) -> str:
    return f"{settings.web.base_url.rstrip('/')}{PATH}{token}"


def issue_local(engine: sa.Engine, email: str, now: datetime) -> str:
    """A sign-in link's token printed on this machine's command line (`kpibot web --as`), sent by no channel."""
    token = secrets.token_urlsafe(TOKEN_BYTES)

    def write() -> None:
        with write_session(engine) as session:
            contact = _contact(session, email)
            if contact is None or contact.id is None:
                raise LookupError(f"{email} is not an active contact; contacts come from config.toml")
            session.add(SignInLink(token_hash=token_hash(token), contact_id=contact.id, created_at=now,
                                   expires_at=now + timedelta(minutes=MINUTES), channel="local"))
            record(session, now, "operator", "web_sign_in_printed", f"contact:{contact.id}", {})
            session.commit()
    retrying(write)
    return token


def redeem(engine: sa.Engine, token: str, now: datetime) -> Redeemed:
    """Use a link once: the contact it signs in, or why not. The conditional update makes it single-use even when
    two requests race."""
    def write() -> Redeemed:
        with write_session(engine) as session:
            link = session.exec(select(SignInLink).where(SignInLink.token_hash == token_hash(token))).first()
            if link is None:
                return Redeemed("unknown")
            if link.used_at is not None:
                return Redeemed("used")
            if link.expires_at <= now:
                return Redeemed("expired")
            contact = session.get(Contact, link.contact_id)
            if contact is None or not contact.active:
                return Redeemed("inactive")
            done = session.execute(sa.update(SignInLink).where(col(SignInLink.id) == link.id,
                                                               col(SignInLink.used_at).is_(None)).values(used_at=now))
            if done.rowcount != 1:  # type: ignore[attr-defined]
                return Redeemed("used")
            _scrub_rows(session, [link.outbox_id] if link.outbox_id else [])
            record(session, now, contact.email, "web_signed_in", f"contact:{contact.id}",
                   {"by": "link", "channel": link.channel})
            session.commit()
            return Redeemed("ok", contact.id, link.channel)
    return retrying(write)


def _scrub_rows(session: Session, outbox_ids: list[int]) -> int:
    if not outbox_ids:
        return 0
    done = session.execute(sa.update(OutboxMessage).where(col(OutboxMessage.id).in_(outbox_ids),
                                                          col(OutboxMessage.status) != "sending")
                           .values(body_text=SCRUBBED))
    return max(done.rowcount, 0)  # type: ignore[attr-defined]


def scrub(engine: sa.Engine, now: datetime) -> int:
    """Remove the link from every sign-in message that was delivered, failed, or outlived its link; return how
    many. (A message still waiting keeps it until then: it is the message.)"""
    with Session(engine) as session:
        ids = list(session.exec(select(OutboxMessage.id).where(
            OutboxMessage.kind == KIND, OutboxMessage.body_text != SCRUBBED,
            sa.or_(col(OutboxMessage.status).in_(("sent", "failed", "interrupted")),
                   col(OutboxMessage.created_at) < now - timedelta(minutes=MINUTES)))).all())
    if not ids:
        return 0

    def write() -> int:
        with write_session(engine) as session:
            count = _scrub_rows(session, [i for i in ids if i is not None])
            session.commit()
            return count
    return retrying(write)
