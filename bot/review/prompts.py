"""What words typed in a chat or an email thread are for.

A Telegram chat asked to type a query's reason or an answer is a prompt kept in SQL: a reply to the prompt finds
it by the prompt's message; words typed without replying go to the chat's latest prompt still open. Nothing is
kept in the process's memory, so a restart loses nothing. An email reply finds its query through the outbox
message it answers (`query_told_by`)."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.storage.db import retrying, write_session
from bot.storage.review_models import ChatPrompt, ReviewMessage


def ask(engine: sa.Engine, chat_id: int, contact_id: int, kind: str, review_id: int, now: datetime, hours: int, *,
        submission_id: int | None = None, query_id: int | None = None, message_id: int | None = None) -> None:
    """Record that the chat was asked for the words of a `kind` act (query | answer)."""
    def write() -> None:
        with write_session(engine) as session:
            session.add(ChatPrompt(chat_id=chat_id, contact_id=contact_id, kind=kind, review_id=review_id,
                                   submission_id=submission_id, query_id=query_id, prompt_message_id=message_id,
                                   created_at=now, expires_at=now + timedelta(hours=hours)))
            session.commit()
    retrying(write)


def pending(engine: sa.Engine, chat_id: int, contact_id: int, reply_to: int | None, now: datetime) -> ChatPrompt | None:
    """The prompt these words answer: the one replied to (while open), else the chat's latest still open."""
    with Session(engine, expire_on_commit=False) as session:
        query = select(ChatPrompt).where(ChatPrompt.chat_id == chat_id, ChatPrompt.contact_id == contact_id,
                                         col(ChatPrompt.used_at).is_(None), col(ChatPrompt.expires_at) > now)
        if reply_to is not None:
            query = query.where(ChatPrompt.prompt_message_id == reply_to)
        return session.exec(query.order_by(col(ChatPrompt.id).desc())).first()


def used(engine: sa.Engine, prompt_id: int, now: datetime) -> None:
    """The prompt has had its words: later words in the chat are not taken for it."""
    def write() -> None:
        with write_session(engine) as session:
            session.execute(sa.update(ChatPrompt).where(col(ChatPrompt.id) == prompt_id,
                                                        col(ChatPrompt.used_at).is_(None)).values(used_at=now))
            session.commit()
    retrying(write)


def query_told_by(session: Session, outbox_ids: list[int]) -> int | None:
    """The query an outbox message told of (the latest, when a thread holds several): an email reply in the
    thread of a query answers it."""
    if not outbox_ids:
        return None
    return session.exec(select(ReviewMessage.query_id).where(col(ReviewMessage.outbox_id).in_(outbox_ids),
                                                             col(ReviewMessage.query_id).is_not(None))
                        .order_by(col(ReviewMessage.query_id).desc())).first()
