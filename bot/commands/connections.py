"""`kpibot check-connections`: try every connection before going live, and say what works and what to fix."""

from __future__ import annotations

import click

from bot.commands.common import State

MARK = {True: "OK  ", False: "FAIL", None: "--  "}


@click.command("check-connections")
@click.pass_obj
def command(state: State) -> None:
    """Try the database, SMTP, the IMAP mailbox and Telegram; say what works and what to fix (exit 1 if any fails)."""
    from bot.app import connection_checks, secrets_of
    from bot.processes.checks import run_checks

    app = state.unchecked_app()  # a database that is missing or old is a finding here, not a stop
    results = run_checks(connection_checks(app), secrets_of(app.settings))
    for r in results:
        click.echo(f"{MARK[r.ok]} {r.name}: {r.message}")
    failed = [r.name for r in results if r.ok is False]
    if failed:
        click.echo(f"\n{len(failed)} of {sum(r.ok is not None for r in results)} connections failed "
                   f"({', '.join(failed)}): fix what is said above, then run `kpibot check-connections` again.")
        raise SystemExit(1)
    click.echo("\nEvery connection that is set up works.")
