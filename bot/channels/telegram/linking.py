"""Which Telegram chat is which contact: single-use invite codes, `/start CODE`, unlinking, migrated groups.

An invite is a random code (about 144 bits, URL-safe, fits Telegram's 64-character `start` payload) of which only
the SHA-256 is stored; it expires (7 days by default) and links one chat once. Issuing a new invite for a contact
revokes their earlier unused ones, so at most one code per contact is live.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot.storage.audit import record
from bot.storage.db import retrying, write_session
from bot.storage.models import Contact, Heartbeat, Invite

DEFAULT_DAYS = 7
CODE_BYTES = 18  # 24 characters of [A-Za-z0-9_-]


def code_hash(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


@dataclass(frozen=True)
class Issued:
    code: str
    contact_email: str
    contact_name: str
    expires_at: datetime
    revoked_earlier: int


@dataclass(frozen=True)
class Revoked:
    contact_email: str
    unlinked_chat: int | None
    invites: int


@dataclass(frozen=True)
class Redeemed:
    outcome: Literal["linked", "already_linked", "unknown", "used", "expired", "revoked", "inactive"]
    contact_id: int | None = None
    contact_name: str = ""
    role: str = ""
    expired_at: datetime | None = None
    replaced_chat: int | None = None  # the chat this contact was linked to before, now unlinked


def _contact(session: Session, email: str) -> Contact:
    contact = session.exec(select(Contact).where(Contact.email == email.strip().lower())).first()
    if contact is None:
        raise LookupError(f"there is no contact {email!r}; contacts come from config.toml (run `kpibot init` "
                          "after adding one)")
    return contact


def issue(engine: sa.Engine, email: str, now: datetime, days: int = DEFAULT_DAYS) -> Issued:
    """A new invite code for the contact with `email` (earlier unused ones are revoked)."""
    code = secrets.token_urlsafe(CODE_BYTES)

    def write() -> Issued:
        with write_session(engine) as session:
            contact = _contact(session, email)
            if not contact.active:
                raise LookupError(f"{contact.email} is no longer an active contact (removed from config.toml)")
            revoked = session.exec(sa.update(Invite).where(
                col(Invite.contact_id) == contact.id, col(Invite.used_at).is_(None),
                col(Invite.revoked_at).is_(None)).values(revoked_at=now)).rowcount
            expires = now + timedelta(days=days)
            assert contact.id is not None
            session.add(Invite(code_hash=code_hash(code), contact_id=contact.id, created_at=now, expires_at=expires))
            record(session, now, "operator", "telegram_invite_issued", f"contact:{contact.id}",
                   {"expires_at": expires.isoformat(), "revoked_earlier": revoked})
            session.commit()
            return Issued(code, contact.email, contact.name, expires, revoked)
    return retrying(write)


def revoke(engine: sa.Engine, email: str, now: datetime) -> Revoked:
    """Unlink the contact's chat and revoke their unused invites."""
    def write() -> Revoked:
        with write_session(engine) as session:
            contact = _contact(session, email)
            revoked = session.exec(sa.update(Invite).where(
                col(Invite.contact_id) == contact.id, col(Invite.used_at).is_(None),
                col(Invite.revoked_at).is_(None)).values(revoked_at=now)).rowcount
            chat, contact.telegram_chat_id = contact.telegram_chat_id, None
            record(session, now, "operator", "telegram_unlinked", f"contact:{contact.id}",
                   {"chat": chat, "invites_revoked": revoked})
            session.commit()
            return Revoked(contact.email, chat, revoked)
    return retrying(write)


def redeem(engine: sa.Engine, code: str, chat_id: int, now: datetime) -> Redeemed:
    """Link `chat_id` to the contact whose invite `code` is, once; or say why not. One transaction: the code is
    used and the chat linked together, or neither."""
    def write() -> Redeemed:
        with write_session(engine) as session:
            invite = session.exec(select(Invite).where(Invite.code_hash == code_hash(code))).first()
            if invite is None:
                return Redeemed("unknown")
            contact = session.get(Contact, invite.contact_id)
            assert contact is not None
            linked = Redeemed("linked", contact_id=contact.id, contact_name=contact.name, role=contact.role)
            if invite.used_at is not None:
                same = invite.used_by_chat == chat_id and contact.telegram_chat_id == chat_id
                return replace(linked, outcome="already_linked" if same else "used")
            if invite.revoked_at is not None:
                return Redeemed("revoked")
            if invite.expires_at <= now:
                return Redeemed("expired", expired_at=invite.expires_at)
            if not contact.active:
                return Redeemed("inactive")
            invite.used_at, invite.used_by_chat = now, chat_id
            for other in session.exec(select(Contact).where(Contact.telegram_chat_id == chat_id,
                                                            Contact.id != contact.id)):
                other.telegram_chat_id = None  # a chat speaks for one contact: the newest invite wins
                record(session, now, str(chat_id), "telegram_unlinked", f"contact:{other.id}",
                       {"chat": chat_id, "reason": f"chat linked to contact {contact.id}"})
            session.flush()
            replaced = contact.telegram_chat_id if contact.telegram_chat_id != chat_id else None
            contact.telegram_chat_id, contact.telegram_disabled = chat_id, False
            record(session, now, str(chat_id), "telegram_linked", f"contact:{contact.id}",
                   {"chat": chat_id, "invite": invite.id, "replaced_chat": replaced})
            session.commit()
            return replace(linked, replaced_chat=replaced)
    return retrying(write)


def linked_contact(engine: sa.Engine, chat_id: int) -> Contact | None:
    """The active contact this chat speaks for, or None."""
    with Session(engine, expire_on_commit=False) as session:
        contact = session.exec(select(Contact).where(Contact.telegram_chat_id == chat_id,
                                                     Contact.active == True)).first()  # noqa: E712
        if contact is not None:
            session.expunge(contact)
        return contact


def enable_again(engine: sa.Engine, contact_id: int, now: datetime) -> None:
    """A contact whose bot was blocked wrote again (so unblocked it): deliver to them again."""
    def write() -> None:
        with write_session(engine) as session:
            updated = session.exec(sa.update(Contact).where(
                col(Contact.id) == contact_id, col(Contact.telegram_disabled) == True)  # noqa: E712
                .values(telegram_disabled=False)).rowcount
            if updated:
                record(session, now, "system", "telegram_enabled", f"contact:{contact_id}",
                       {"reason": "the contact wrote to the bot again"})
            session.commit()
    retrying(write)


def follow_migration(engine: sa.Engine, old: int, new: int, now: datetime) -> int:
    """A group became a supergroup with a new chat id: move the contacts linked to it; return how many."""
    def write() -> int:
        with write_session(engine) as session:
            if session.exec(select(Contact).where(Contact.telegram_chat_id == new)).first() is not None:
                return 0  # already followed (the update and a delivery may both report it)
            moved = 0
            for contact in session.exec(select(Contact).where(Contact.telegram_chat_id == old)):
                contact.telegram_chat_id = new
                record(session, now, "system", "telegram_chat_migrated", f"contact:{contact.id}",
                       {"from": old, "to": new})
                moved += 1
            session.commit()
            return moved
    return retrying(write)


def commissioner_chats(engine: sa.Engine) -> list[int]:
    """Chats of active commissioners: they get the commissioner-only commands in their menu."""
    with Session(engine) as session:
        return [c for c in session.exec(select(col(Contact.telegram_chat_id)).where(
            Contact.role == "commissioner", Contact.active == True,  # noqa: E712
            col(Contact.telegram_chat_id).is_not(None))) if c is not None]


def status_lines(engine: sa.Engine, now: datetime) -> list[str]:
    """Telegram's part of `kpibot status`: the channel's state, linked chats, live invites, and contacts the bot
    cannot reach. Nothing when Telegram has never been used."""
    with Session(engine) as session:
        linked = session.exec(select(func.count()).select_from(Contact).where(
            col(Contact.telegram_chat_id).is_not(None), Contact.active == True)).one()  # noqa: E712
        live = session.exec(select(func.count()).select_from(Invite).where(
            col(Invite.used_at).is_(None), col(Invite.revoked_at).is_(None), col(Invite.expires_at) > now)).one()
        blocked = session.exec(select(Contact).where(Contact.telegram_disabled == True)  # noqa: E712
                               .order_by(Contact.email)).all()
        channel = session.get(Heartbeat, "telegram")
    if not (linked or live or blocked or channel):
        return []
    bot = f" as @{channel.detail['bot']}" if channel and channel.detail.get("bot") else ""
    lines = [f"Telegram{bot}: {linked} chat(s) linked, {live} invite(s) not yet used."]
    if channel is not None and channel.detail.get("error"):
        lines.append(f"  The Telegram channel is off since {channel.at:%d %b %Y %H:%M} UTC: {channel.detail['error']}")
    lines += [f"  Telegram disabled for {c.email}: the bot was blocked or the chat is gone; it is enabled again "
              "when they write to the bot (or link a chat with a new invite)." for c in blocked]
    return lines
