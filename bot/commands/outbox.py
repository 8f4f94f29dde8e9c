"""`kpibot outbox send | list | retry`: the queue of outgoing messages."""

from __future__ import annotations

import click

from bot.clock import utc_now
from bot.commands.common import State, echo_json, table

STATUSES = ("pending", "sending", "sent", "failed", "interrupted")
UNSENT = ("pending", "sending", "failed", "interrupted")


@click.group("outbox")
def group() -> None:
    """The queue of outgoing messages (replies, reports, reminders, notices)."""


@group.command("send")
@click.pass_obj
def send(state: State) -> None:
    """Draw the PDFs replies wait for, then deliver every message that is due, once (`kpibot run` does this
    every few seconds)."""
    from bot.outbox.listing import delivery_summary

    app = state.app
    now = utc_now()
    app.render_queue.run_once(limit=1000)
    before = _ids_by_status(state)
    app.dispatcher().run_once(now, limit=1000)
    click.echo(delivery_summary(app.engine, before, now))


@group.command("list")
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES),
              help="Only messages in this state (repeatable). Default: everything not yet sent.")
@click.option("--all", "everything", is_flag=True, help="Every message, sent ones too.")
@click.option("--limit", default=50, show_default=True, help="At most this many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_(state: State, statuses: tuple[str, ...], everything: bool, limit: int, as_json: bool) -> None:
    """Messages in the outbox: to whom, what, and how delivery went. What it leaves out (sent messages, by
    default) is counted at the foot, never hidden without a word."""
    from bot.outbox.listing import counts, left_out, listing

    wanted = STATUSES if everything else statuses or UNSENT
    rows = listing(state.app.engine, wanted, limit)
    if as_json:
        echo_json([r.as_dict() for r in rows])
        return
    note = left_out(counts(state.app.engine), wanted, len(rows))
    if not rows:
        what = "" if everything else f" {'/'.join(statuses)}" if statuses else " waiting, failed or interrupted"
        click.echo(f"No messages{what}" + (f"; {note}." if note else "."))
        return
    click.echo(table([(r.id, r.kind, r.channel, r.address, r.state, r.attempts, r.note) for r in rows],
                     ["id", "kind", "channel", "to", "state", "attempts", "note"]))
    if note:
        click.echo(f"\n{note[0].upper()}{note[1:]}.")


@group.command("retry")
@click.argument("message_id", type=int)
@click.pass_obj
def retry(state: State, message_id: int) -> None:
    """Send a failed or interrupted message again (a split chat message resumes after its delivered parts)."""
    try:
        message = state.app.dispatcher().retry(message_id, utc_now())
    except LookupError:
        raise click.ClickException(f"there is no outbox message {message_id} (see `kpibot outbox list`)") from None
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Message {message_id} to {message.address} ({message.channel}) will be sent again by `kpibot run` "
               "or `kpibot outbox send`.")


def _ids_by_status(state: State) -> dict[int, str]:
    from bot.outbox.listing import statuses

    return statuses(state.app.engine)
