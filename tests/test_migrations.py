"""Schema migrations: from nothing, and from the previous revision with data in it, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import Session, SQLModel

import bot.storage.answer_models  # noqa: F401  (the files sent in answer to requests, compared too)
import bot.storage.delivery_models  # noqa: F401  (the outbox's channel pauses, compared with the migrations too)
import bot.storage.meeting_models  # noqa: F401  (the meeting notes, compared with the migrations too)
import bot.storage.plan_models  # noqa: F401  (the action plans and requests, compared with the migrations too)
import bot.storage.review_models  # noqa: F401  (the review's tables, compared with the migrations too)
import bot.storage.setup_models  # noqa: F401  (benchmarks and the deployment's first day)
import bot.storage.web_models  # noqa: F401  (the web workspace's sign-in links and feed tokens)
from bot.storage import db
from bot.storage.models import Organisation, OutboxMessage

NOW = datetime(2025, 10, 1, 9, tzinfo=UTC)


def test_the_head_read_from_the_version_files_is_alembics_own() -> None:
    """`db.head_revision` reads the files' revision lines (so `kpibot score` starts without Alembic); Alembic,
    executing every file, must find the same last migration and the same one line."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(db.alembic_config(sa.create_engine("sqlite://")))
    assert script.get_heads() == [db.head_revision()]
    assert db.head_revision() == max(r.revision for r in script.walk_revisions())  # numbered in order


def test_current_revision_is_none_before_init_and_the_head_after(empty_database_url: str) -> None:
    engine = db.make_engine(empty_database_url)
    assert db.current_revision(engine) is None
    db.upgrade(engine, "0002")
    assert db.current_revision(engine) == "0002"
    engine.dispose()


def test_it_upgrades_an_empty_database_to_exactly_the_models(empty_database_url: str) -> None:
    engine = db.make_engine(empty_database_url)
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []  # the migrations build what the models say
    engine.dispose()


@pytest.mark.parametrize("start", ["0001", "0002"])
def test_it_upgrades_from_an_earlier_revision_keeping_the_data(empty_database_url: str, start: str) -> None:
    engine = db.make_engine(empty_database_url)
    db.upgrade(engine, "0001")
    assert not sa.inspect(engine).has_table("outbox_message")
    with engine.begin() as c:
        c.execute(sa.text("INSERT INTO organisation (id, name, kind) VALUES ('c1', 'Council', 'council')"))
    db.upgrade(engine, start)
    db.upgrade(engine)
    assert db.current_revision(engine) == db.head_revision()
    with Session(engine) as session:
        assert session.get(Organisation, "c1").name == "Council"  # type: ignore[union-attr]
        session.add(OutboxMessage(dedupe_key="k", created_at=NOW, channel="email", address="a@b.example",
                                  kind="reply", body_text="hi", next_attempt_at=NOW))
        session.commit()
    db.upgrade(engine)  # running it again changes nothing
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()
