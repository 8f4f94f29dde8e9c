"""`kpibot run`: the long-running service (scheduler, render queue, outbox and channels)."""

from __future__ import annotations

import logging

import click

from bot.commands.common import State


@click.command("run")
@click.option("--once", is_flag=True, help="Run every task once and exit (e.g. from cron), instead of serving.")
@click.option("--dry-run", is_flag=True, help="Print what the next sweep would send, to whom and why; queue and "
                                              "send nothing.")
@click.pass_obj
def command(state: State, once: bool, dry_run: bool) -> None:
    """Run kpibot: reminders and notices on time, replies and reports delivered, channels answered."""
    from bot.app import service_for
    from bot.config import ConfigError

    if dry_run:
        if once:
            raise click.UsageError("--dry-run sends nothing, so it cannot be combined with --once")
        _dry_run(state)
        return

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


def _dry_run(state: State) -> None:
    """What the next sweep would queue, by the sweep's own decisions (jobs/preview.py)."""
    from bot.clock import utc_now
    from jobs.preview import lines, preview

    app = state.app
    click.echo("\n".join(lines(preview(app.engine, app.settings, app.files, utc_now()), app.settings)))
