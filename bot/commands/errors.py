"""Explain a failure a command did not foresee in one line a user can act on.

bot/cli.py calls `explain` for any exception that reaches it, so no command ever shows a traceback: a database
that is not set up or cannot be reached, a file that cannot be written, and, for anything else, what failed and
how to see the details. Modules are inspected by name so that `kpibot --help` never imports SQLAlchemy.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from bot.commands.common import NOT_SET_UP

if TYPE_CHECKING:
    from bot.commands.common import State

# What the database drivers say when a table is missing: the schema was never created.
MISSING_TABLE = ("no such table", "undefinedtable", "does not exist")


def explain(exc: BaseException, state: State | None = None) -> str:
    """One line saying what went wrong and what to do."""
    if type(exc).__module__.startswith("sqlalchemy") or isinstance(exc, sqlite3.Error):  # sqlite3: `kpibot score`
        return _database(exc, _database_url(state))
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename else ""
        return f"{where}{exc.strerror or exc}"
    return (f"kpibot stopped on an unexpected fault ({type(exc).__name__}: {exc}); run the command again with "
            "`kpibot --debug ...` to see where, and report it")


def _database(exc: BaseException, url: str) -> str:
    from sqlalchemy import exc as sa_exc

    text = f"{type(getattr(exc, 'orig', None)).__name__} {exc}".lower()
    if any(marker in text for marker in MISSING_TABLE):
        return NOT_SET_UP
    if isinstance(exc, sa_exc.OperationalError | sqlite3.OperationalError):
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        return f"cannot use the database {url}: {reason}"
    if isinstance(exc, sa_exc.ArgumentError | sa_exc.NoSuchModuleError):
        return f"{url} is not a database address kpibot can use; write sqlite:///path/to/kpibot.db or " \
               "postgresql+psycopg://user@host/database"
    return f"the database {url} refused the operation: {str(exc).strip().splitlines()[0]}"


def _database_url(state: State | None) -> str:
    """The configured database, without its password."""
    try:
        url = state.settings.storage.database_url if state is not None else ""
    except Exception:  # noqa: BLE001 - explaining a failure must not fail
        return "(unknown)"
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)
