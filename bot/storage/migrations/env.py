"""Alembic environment: kpibot passes its engine in; there is no alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import bot.storage.answer_models  # noqa: F401  (and the files sent in answer to requests)
import bot.storage.delivery_models  # noqa: F401  (and the outbox's channel pauses)
import bot.storage.meeting_models  # noqa: F401  (and the quarterly meeting's notes)
import bot.storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
import bot.storage.plan_models  # noqa: F401  (and the action plans and requests)
import bot.storage.review_models  # noqa: F401  (and the review's)
import bot.storage.setup_models  # noqa: F401  (and the benchmarks and the deployment's first day)
import bot.storage.web_models  # noqa: F401  (and the web workspace's)

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
