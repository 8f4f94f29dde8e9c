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
        template.dispose()
        admin.dispose()
        yield server
    finally:
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


# The schema as PostgreSQL describes it: every column, index, constraint, trigger, function, view, rule and sequence
# of the public schema, and the schemas there are. A copy handed on must still have the template's, or the next test
# would run on what this one left (a test's trigger that fails every insert, say).
_SCHEMA = """
SELECT md5(string_agg(line, '|' ORDER BY line)) FROM (
    SELECT format('c %s.%s %s %s %s', table_name, column_name, data_type, is_nullable, column_default) AS line
    FROM information_schema.columns WHERE table_schema = 'public'
    UNION ALL SELECT 'i ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
    UNION ALL SELECT format('k %s %s', conrelid::regclass, pg_get_constraintdef(oid)) FROM pg_constraint
    WHERE connamespace = 'public'::regnamespace
    UNION ALL SELECT format('t %s %s', tgrelid::regclass, tgname) FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL SELECT 'f ' || oid::regprocedure::text FROM pg_proc WHERE pronamespace = 'public'::regnamespace
    UNION ALL SELECT 'v ' || viewname FROM pg_views WHERE schemaname = 'public'
    UNION ALL SELECT format('u %s %s', tablename, rulename) FROM pg_rules WHERE schemaname = 'public'
    UNION ALL SELECT 's ' || sequencename FROM pg_sequences WHERE schemaname = 'public'
    UNION ALL SELECT 'n ' || nspname FROM pg_namespace
    UNION ALL SELECT 'r ' || version_num FROM alembic_version) AS schema_lines
"""


@dataclass
class _Spares:
    """PostgreSQL copies of the template, emptied after their test, in this worker process."""

    schema: str = ""
    names: list[str] = field(default_factory=list)


_spares = _Spares()


def _admin(server: Postgres) -> sa.Engine:
    return sa.create_engine(server.database_url("postgres"), isolation_level="AUTOCOMMIT")


def _emptied(server: Postgres, name: str) -> str | None:
    """The copy `name` emptied of every row (sequences restarted) under a new name; None when it cannot be handed
    on (its schema changed, or it is gone), and then it is dropped."""
    admin = _admin(server)
    try:
        with admin.connect() as c:  # whatever the test left connected (a killed child's server process too)
            c.execute(sa.text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
        engine = sa.create_engine(server.database_url(name), poolclass=sa.NullPool)
        try:
            with engine.begin() as c:
                if c.execute(sa.text(_SCHEMA)).scalar() != _spares.schema:
                    raise LookupError(name)
                tables = c.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                           "AND tablename <> 'alembic_version'")).scalars().all()
                c.execute(sa.text("SET LOCAL session_replication_role = replica"))  # rows in any order
                for table in tables:
                    c.execute(sa.text(f'DELETE FROM "{table}"'))
                c.execute(sa.text("SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false) "
                                  "FROM pg_sequences WHERE schemaname = 'public'"))
        finally:
            engine.dispose()
        renamed = f"{name.split('_r', 1)[0]}_r{next(_counter)}"  # a connection the test leaked cannot find it again
        with admin.connect() as c:
            c.execute(sa.text(f"ALTER DATABASE {name} RENAME TO {renamed}"))
        return renamed
    except (LookupError, sa.exc.SQLAlchemyError):
        with admin.connect() as c:
            c.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        return None
    finally:
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "kpibot.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: Postgres = request.getfixturevalue("postgres_server")
    if not _spares.schema:
        engine = sa.create_engine(server.database_url("kpibot_template"), poolclass=sa.NullPool)
        with engine.connect() as c:
            _spares.schema = c.execute(sa.text(_SCHEMA)).scalar() or ""
        engine.dispose()
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
