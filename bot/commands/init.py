"""`kpibot init`: create or upgrade the database and load config.toml."""

from __future__ import annotations

import click

from bot.commands.common import State, fail, plural

# What a deployment needs before there is anything to set up, and what each is.
NEEDED = {"organisations": "[[organisations]] (the council and its providers)",
          "contracts": "[[contracts]] (each naming its framework)"}
CONTACTS = "[[contacts]] (who submits and who commissions)"


@click.command("init")
@click.pass_obj
def command(state: State) -> None:
    """Create or upgrade the database and load organisations, contacts and contracts (idempotent)."""
    import sqlalchemy as sa

    from bot.clock import utc_now
    from bot.storage import db

    missing = [what for key, what in NEEDED.items() if not getattr(state.settings, key)]
    if missing:
        fail(f"{state.settings.source} has no {' and no '.join(w.split(' ', 1)[0] for w in missing)}: there is "
             f"nothing to set up; add {' and '.join(missing)}, as in the example config.toml")
    app = state.unchecked_app()
    existed = state.database_exists() and sa.inspect(app.engine).has_table("alembic_version")
    before = db.current_revision(app.engine) if existed else None
    changed = app.init(utc_now())
    after = db.current_revision(app.engine)
    schema = "created" if before is None else ("upgraded" if before != after else "up to date")
    click.echo(f"Database {schema} (revision {after}); " + ", ".join(
        f"{plural(n, kind.rstrip('s'))} {'added' if kind == 'obligations' else 'changed'}"  # obligations only grow
        for kind, n in changed.items()))
    if not state.settings.contacts:
        click.echo(f"No contacts yet: nobody can send a return or be told anything until {CONTACTS} are added.")
    resumed = app.intake.resume_unfinished()  # submissions a stopped process left half done
    if resumed:
        click.echo(f"Finished {plural(len(resumed), 'submission')} left unfinished by a stopped process.")
