"""`kpibot outbox send`: deliver the messages that are due."""

from __future__ import annotations

import click

from bot.clock import utc_now
from bot.commands.common import State


@click.group("outbox")
def group() -> None:
    """The queue of outgoing messages."""


@group.command("send")
@click.pass_obj
def send(state: State) -> None:
    """Deliver due messages once (the scheduler runs this every minute)."""
    count = state.app.dispatcher().run_once(utc_now())
    click.echo(f"{count} message(s) attempted")
