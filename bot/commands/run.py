"""`kpibot run`: the long-running service (scheduler, render queue, outbox and channels)."""

from __future__ import annotations

import logging

import click

from bot.commands.common import State


@click.command("run")
@click.option("--once", is_flag=True, help="Run every task once and exit (e.g. from cron), instead of serving.")
@click.pass_obj
def command(state: State, once: bool) -> None:
    """Run kpibot: reminders and notices on time, replies and reports delivered, channels answered."""
    from bot.app import service_for
    from bot.config import ConfigError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per Bot API poll is noise
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("weasyprint").setLevel(logging.WARNING)  # a line per layout step of every PDF is noise
    try:
        service = service_for(state.app, with_channels=not once)
    except ConfigError as exc:  # e.g. a mailbox configured without its password in the environment
        raise click.ClickException(str(exc)) from None
    if once:
        done = service.run_once()
        click.echo(", ".join(f"{name}: {count}" for name, count in done.items()))
        return
    service.run_forever()
