"""Can kpibot use its database: reach it, and find the schema this kpibot needs (for `kpibot check-connections`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa

from bot.storage.db import current_revision, head_revision


def check_database(url: str, sqlite_path: Path | None, engine: Callable[[], sa.Engine]) -> tuple[bool, str]:
    """Connect and compare the schema's revision with this kpibot's; never creates a database file (the
    engine is made only once a SQLite file is known to be there)."""
    try:
        where = sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return False, (f"{url!r} is not a database address; write sqlite:///path/to/kpibot.db or "
                       "postgresql+psycopg://user@host/database")
    if sqlite_path is not None and not sqlite_path.is_file():
        return False, f"{where}: there is no database file yet; run `kpibot init`"
    try:
        current = current_revision(engine())
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        return False, (f"cannot connect to {where} ({reason}); check DATABASE_URL or [storage] database_url, "
                       "that the server is running and that it accepts this user")
    head = head_revision()
    if current is None:
        return False, f"{where}: connected, but kpibot's tables are not there; run `kpibot init`"
    if current != head:
        return False, (f"{where}: connected, but the schema is at revision {current} and this kpibot needs {head}; "
                       "run `kpibot init` to upgrade it")
    return True, f"{where}: connected; the schema is up to date (revision {head})"
