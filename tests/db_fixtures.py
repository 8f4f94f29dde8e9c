"""Database fixtures: every storage test runs on a real SQLite file and on a real PostgreSQL server.

The schema is migrated once per session into a template (a SQLite file, a PostgreSQL template database); each
test gets its own copy, so tests are independent and fast. A PostgreSQL copy is emptied after its test and handed
to the next one in the same worker (under a new name), rather than dropped: copying a database writes some six
hundred files and dropping it unlinks them, which cost more than the test itself on a busy machine. A copy whose
schema a test changed is dropped instead.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from services import Postgres, start_postgres, started

from bot.storage import db

_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    server = started("PostgreSQL", start_postgres)
    try:
        admin = sa.create_engine(server.database_url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text("DROP DATABASE IF EXISTS kpibot_template"))
            c.execute(sa.text("CREATE DATABASE kpibot_template"))
        template = db.make_engine(server.database_url("kpibot_template"))
        db.upgrade(template)
        with template.begin() as c:
            c.exec_driver_sql(_DDL_WATCH)
        template.dispose()
        admin.dispose()
        yield server
    finally:
        for admin in _spares.admins.values():
            admin.dispose()
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    with engine.connect() as c:
        c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def fresh_postgres_url(server: Postgres, template: str | None = "kpibot_template") -> str:
    name = f"t{next(_counter)}_{id(server) % 10000}"
    admin = sa.create_engine(server.database_url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f"DROP DATABASE IF EXISTS {name}"))
        c.execute(sa.text(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")))
    admin.dispose()
    return server.database_url(name)


# Schema changes are noticed by an event trigger the template carries (so every copy has it): any DDL a test runs
# (a table, a trigger that fails every insert, a migration up or down) adds a row to kpibot_test.ddl, and a copy
# with such a row is dropped rather than handed on. (It replaced an md5 of the whole catalogue, a quarter of the
# time it took to hand a copy on.) SECURITY DEFINER: DDL run as a test's own, lesser role is noted too.
_DDL_WATCH = """
CREATE SCHEMA kpibot_test;
CREATE TABLE kpibot_test.ddl (tag text NOT NULL);
CREATE FUNCTION kpibot_test.note_ddl() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
    INSERT INTO kpibot_test.ddl (tag) VALUES (tg_tag);
END $$;
CREATE EVENT TRIGGER kpibot_test_ddl ON ddl_command_end EXECUTE FUNCTION kpibot_test.note_ddl();
"""


@dataclass
class _Spares:
    """PostgreSQL copies of the template, emptied after their test, in this worker process."""

    version: str = ""  # the template's migration
    empty: str = ""  # the statements that empty a copy: every table's rows, every sequence restarted
    names: list[str] = field(default_factory=list)
    admins: dict[str, sa.Engine] = field(default_factory=dict)  # by server URL: one pooled admin connection


_spares = _Spares()


def _admin(server: Postgres) -> sa.Engine:
    url = server.database_url("postgres")
    if url not in _spares.admins:
        _spares.admins[url] = sa.create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1)
    return _spares.admins[url]


def _learn_template(server: Postgres) -> None:
    engine = sa.create_engine(server.database_url("kpibot_template"), poolclass=sa.NullPool)
    with engine.connect() as c:
        _spares.version = c.execute(sa.text("SELECT string_agg(version_num, ',') FROM alembic_version")).scalar() or ""
        tables = c.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                   "AND tablename <> 'alembic_version' ORDER BY tablename")).scalars().all()
    engine.dispose()
    _spares.empty = "; ".join(
        ["SET LOCAL session_replication_role = replica"]  # rows in any order
        + [f'DELETE FROM "{table}"' for table in tables]
        + ["SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false) "
           "FROM pg_sequences WHERE schemaname = 'public'"])


def _emptied(server: Postgres, name: str) -> str | None:
    """The copy `name` emptied of every row (sequences restarted) under a new name; None when it cannot be handed
    on (a test changed its schema or its migration, or it is gone), and then it is dropped. It is renamed first,
    while nobody is connected to it, so a connection the test leaked cannot find it again."""
    admin = _admin(server)
    renamed = f"{name.split('_r', 1)[0]}_r{next(_counter)}"
    try:
        with admin.connect() as c:  # whatever the test left connected (a killed child's server process too)
            c.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
            c.execute(sa.text(f"ALTER DATABASE {name} RENAME TO {renamed}"))
        engine = sa.create_engine(server.database_url(renamed), poolclass=sa.NullPool)
        try:
            with engine.begin() as c:
                changed, version = c.execute(sa.text(
                    "SELECT (SELECT count(*) FROM kpibot_test.ddl), "
                    "(SELECT string_agg(version_num, ',') FROM alembic_version)")).one()
                if changed or version != _spares.version:
                    raise LookupError(name)
                c.connection.dbapi_connection.cursor().execute(_spares.empty)  # one round trip: no parameters
        finally:
            engine.dispose()
        return renamed
    except (LookupError, sa.exc.SQLAlchemyError, psycopg.Error):
        with admin.connect() as c:
            c.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            c.execute(sa.text(f"DROP DATABASE IF EXISTS {renamed} WITH (FORCE)"))
        return None


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "kpibot.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: Postgres = request.getfixturevalue("postgres_server")
    if not _spares.empty:
        _learn_template(server)
    url = server.database_url(_spares.names.pop()) if _spares.names else fresh_postgres_url(server)
    yield url
    emptied = _emptied(server, sa.make_url(url).database or "")
    if emptied:
        _spares.names.append(emptied)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no schema at all (for migration tests)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return fresh_postgres_url(request.getfixturevalue("postgres_server"), template=None)


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()
