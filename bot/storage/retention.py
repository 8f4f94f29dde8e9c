"""Restricted files (possible personal data, unknown senders' files) are purged from disk when their time is up.

The `stored_file` row stays, with `purged_at`, as the record that the file came and what became of it.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.storage.audit import record
from bot.storage.db import write_session
from bot.storage.files import FileStore
from bot.storage.models import StoredFile


def purge_due(engine: sa.Engine, files: FileStore, now: datetime, limit: int = 500) -> int:
    """Delete restricted files whose purge date has passed; return how many."""
    with Session(engine) as session:
        due = session.exec(select(StoredFile.sha256).where(
            col(StoredFile.restricted) == True, col(StoredFile.purged_at).is_(None),  # noqa: E712
            col(StoredFile.purge_after) <= now).limit(limit)).all()
    purged = 0
    for digest in due:
        with write_session(engine) as session:
            row = session.get(StoredFile, digest)
            if row is None or not row.restricted or row.purged_at is not None:
                continue
            files.delete(digest)
            row.purged_at = now
            record(session, now, "system", "file_purged", f"file:{digest[:12]}", {"size": row.size})
            session.commit()
            purged += 1
    return purged
