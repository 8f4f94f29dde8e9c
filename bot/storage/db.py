"""Engines, write transactions and schema upgrades for SQLite (the embedded default) and PostgreSQL.

Several processes write at once (channels, the scheduler, the outbox, `kpibot submit`). On SQLite a transaction
that reads and then writes fails at once with "database is locked" when another process wrote in between (the
busy timeout does not apply to upgrading a read to a write), so every transaction that will write takes the write
lock at its start (`BEGIN IMMEDIATE`, see `write_session`) and waits for it; the lock is held only for the short
time the rows are written, never across parsing or rendering.
"""

from __future__ import annotations

import json as jsonlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar, TypeVarTuple, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, SQLModel

from bot.storage.revisions import MIGRATIONS, head_revision  # noqa: F401  (db.head_revision for callers)

if TYPE_CHECKING:
    from alembic.config import Config

WRITE: Final = "kpibot_write"  # execution option: this transaction will write
log = logging.getLogger(__name__)
T = TypeVar("T")
Ts = TypeVarTuple("Ts")


def make_engine(url: str) -> sa.Engine:
    """An engine for `url`; SQLite files get WAL, a busy timeout and enforced foreign keys."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            dbapi_connection.isolation_level = None  # we say BEGIN ourselves (below), as SQLAlchemy's docs advise

        @sa.event.listens_for(engine, "begin")
        def _begin(connection: sa.Connection) -> None:
            immediate = connection.get_execution_options().get(WRITE)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def begin_write(session: Session) -> None:
    """Start `session`'s next transaction as a writer: on SQLite it takes the write lock now (waiting for it),
    so the reads that decide what to write see the state the write applies to. Call before the first statement."""
    session.connection(execution_options={WRITE: True})


@contextmanager
def write_session(engine: sa.Engine | sa.Connection, **options: Any) -> Iterator[Session]:
    """A session for one writing transaction (see `begin_write`); the caller commits."""
    with Session(engine, **options) as session:
        begin_write(session)
        yield session


def lock_row(session: Session, model: type[SQLModel], key: object) -> None:
    """Serialise writers of one row (e.g. one obligation) until the transaction ends. PostgreSQL locks the row;
    SQLite's write transaction (`begin_write`) already excludes every other writer."""
    if session.get_bind().dialect.name == "postgresql":
        pk = sa.inspect(model).primary_key[0]
        session.execute(sa.select(pk).where(pk == key).with_for_update())


def table_of(model: type[SQLModel]) -> sa.Table:
    """A model's table, for Core statements of plain rows (bulk inserts on the intake's path skip the ORM)."""
    return cast(sa.Table, model.__table__)  # type: ignore[attr-defined]


def fetch_rows(session: Session, statement: sa.Select[*Ts]) -> Sequence[sa.Row[*Ts]]:
    """Run a select of more columns than `sqlmodel.select` has types for (it stops at four), keeping each
    column's type. The same call as `session.exec`."""
    # sqlmodel's Session.execute is SQLAlchemy's, but its stub drops the row type the statement carries.
    return cast("sa.Result[*Ts]", session.execute(statement)).all()


def insert_tuples(session: Session, table: sa.Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]],
                  json: Sequence[str] = ()) -> None:
    """Insert plain tuples of `columns` in one executemany on the driver, without SQLAlchemy's per-row parameter
    handling (which costs more than the insert itself for the intake's few hundred rows a return). For values the
    driver takes as they are (ints, floats, strings, None); the `json` columns are serialised here, as the JSON
    type would (json.dumps)."""
    if not rows:
        return
    connection = session.connection()
    if json:
        at = [columns.index(name) for name in json]
        encoded: list[tuple[Any, ...]] = []
        for row in rows:
            values = list(row)
            for n in at:
                values[n] = jsonlib.dumps(values[n])
            encoded.append(tuple(values))
        rows = encoded
    quote = connection.dialect.identifier_preparer.quote
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    connection.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({', '.join(quote(c) for c in columns)}) VALUES "
                               f"({', '.join([mark] * len(columns))})", list(rows))


def insert_ignore(session: Session, model: type[SQLModel], rows: list[dict[str, Any]] | dict[str, Any]) -> int:
    """Insert rows, skipping any that would break a unique constraint (another process got there first).
    Return how many were inserted."""
    rows = [rows] if isinstance(rows, dict) else rows
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)
    # Core: no ORM identity map. SQLAlchemy keeps an INSERT's row count only when asked (PostgreSQL's was lost).
    result = session.connection().execute(insert.on_conflict_do_nothing().execution_options(preserve_rowcount=True),
                                          rows)
    return max(result.rowcount, 0)


TRANSIENT = ("database is locked", "database is busy", "could not serialize", "deadlock detected",
             "server closed the connection", "connection refused", "terminating connection", "could not connect",
             "connection is closed", "the database system is starting up", "the database system is shutting down")


def is_transient(exc: BaseException) -> bool:
    """A database error that retrying soon can cure: a busy SQLite file, a PostgreSQL restart or deadlock."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, sa.exc.OperationalError) and any(t in str(exc).lower() for t in TRANSIENT)


def retrying(work: Callable[[], T], attempts: int = 6, first_wait: float = 0.2,
             sleep: Callable[[float], None] = time.sleep) -> T:
    """Run `work` (one whole transaction), again after a transient database error, waiting longer each time
    (0.2 s, 0.4 s ... about 6 s in all, on top of SQLite's own 30 s busy timeout). Other errors go straight up."""
    for attempt in range(attempts):
        try:
            return work()
        except sa.exc.DBAPIError as exc:
            if attempt == attempts - 1 or not is_transient(exc):
                raise
            log.warning("database busy or unreachable (%s); retrying", str(exc.orig).strip()[:200])
            sleep(first_wait * 2 ** attempt)
    raise AssertionError("unreachable")


def alembic_config(engine: sa.Engine) -> Config:
    from alembic.config import Config  # Alembic loads only to migrate: `kpibot score` starts without it

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Create or upgrade the schema to `revision`, keeping the data."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at (None before `kpibot init`), read as Alembic stores it: one row of
    `alembic_version`, since the migrations are one line."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
