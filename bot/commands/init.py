"""`kpibot init`: create or upgrade the database and load config.toml."""

from __future__ import annotations

import click

from bot.clock import utc_now
from bot.commands.common import State
from bot.storage import db


@click.command("init")
@click.pass_obj
def command(state: State) -> None:
    """Create or upgrade the database and load organisations, contacts and contracts (idempotent)."""
    app = state.app
    before = db.current_revision(app.engine) if _exists(app) else None
    changed = app.init(utc_now())
    after = db.current_revision(app.engine)
    schema = "created" if before is None else ("upgraded" if before != after else "up to date")
    click.echo(f"Database {schema} (revision {after}); "
               + ", ".join(f"{n} {k} changed" for k, n in changed.items()))
    resumed = app.intake.resume_unfinished()  # submissions a stopped process left half done
    if resumed:
        click.echo(f"Finished {len(resumed)} submission(s) left unfinished by a stopped process.")


def _exists(app) -> bool:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    return sa.inspect(app.engine).has_table("alembic_version")
