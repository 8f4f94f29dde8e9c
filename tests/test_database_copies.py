"""The PostgreSQL copies the tests run on (db_fixtures.py): a copy is handed to the next test only as the template
left it, emptied; one whose schema or migration a test changed is dropped."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from db_fixtures import _emptied, _learn_template, fresh_postgres_url
from services import Postgres

pytestmark = pytest.mark.postgres
ALICE = ("INSERT INTO contact (email, name, organisation_id, role, active, email_disabled, telegram_disabled, channel) "
         "VALUES ('a@o.example', 'A', 'o', 'commissioner', true, false, false, 'any')")


def copy_of_template(server: Postgres) -> tuple[str, sa.Engine]:
    _learn_template(server)
    url = fresh_postgres_url(server)
    return sa.make_url(url).database or "", sa.create_engine(url, poolclass=sa.NullPool)


def exists(server: Postgres, name: str) -> bool:
    engine = sa.create_engine(server.database_url("postgres"), poolclass=sa.NullPool)
    with engine.connect() as c:
        found = c.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
    engine.dispose()
    return found is not None


def test_a_copy_with_rows_is_handed_on_empty_with_its_sequences_restarted(postgres_server: Postgres) -> None:
    name, engine = copy_of_template(postgres_server)
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO organisation (id, name, kind) VALUES ('o', 'O', 'council')"))
        c.execute(sa.text(ALICE))
    engine.dispose()
    renamed = _emptied(postgres_server, name)
    assert renamed is not None and renamed != name and not exists(postgres_server, name)
    engine = sa.create_engine(postgres_server.database_url(renamed), poolclass=sa.NullPool)
    with engine.begin() as c:
        assert c.execute(sa.text("SELECT count(*) FROM organisation")).scalar() == 0
        c.execute(sa.text("INSERT INTO organisation (id, name, kind) VALUES ('o', 'O', 'council')"))
        first = c.execute(sa.text(f"{ALICE} RETURNING id"))
        assert first.scalar() == 1  # the sequence starts again
    engine.dispose()


@pytest.mark.parametrize("change", [
    "CREATE TABLE stray (id int)",
    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE 'no'; END $$; "
    "CREATE TRIGGER refuse BEFORE INSERT ON organisation FOR EACH ROW EXECUTE FUNCTION refuse()",
    "ALTER TABLE organisation ADD COLUMN extra text",
    "DROP INDEX IF EXISTS ix_submission_received_at; DROP TABLE audit_event",
    "UPDATE alembic_version SET version_num = '0001'",  # a migration's row, with no DDL
    "CREATE ROLE lesser_test_role; GRANT ALL ON SCHEMA public TO lesser_test_role; SET ROLE lesser_test_role; "
    "CREATE TABLE made_by_a_lesser_role (id int)",
], ids=["table", "trigger", "column", "drop", "migration", "another-role"])
def test_a_copy_whose_schema_a_test_changed_is_dropped(postgres_server: Postgres, change: str) -> None:
    name, engine = copy_of_template(postgres_server)
    try:
        with engine.begin() as c:
            c.exec_driver_sql(change)
        engine.dispose()
        assert _emptied(postgres_server, name) is None
        assert not exists(postgres_server, name)
        assert not [n for n in _names(postgres_server) if n.startswith(name.split("_r", 1)[0] + "_r")]
    finally:
        admin = sa.create_engine(postgres_server.database_url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(sa.text("DROP ROLE IF EXISTS lesser_test_role"))
        admin.dispose()


def _names(server: Postgres) -> list[str]:
    engine = sa.create_engine(server.database_url("postgres"), poolclass=sa.NullPool)
    with engine.connect() as c:
        names = list(c.execute(sa.text("SELECT datname FROM pg_database")).scalars())
    engine.dispose()
    return names
