"""`kpibot feed`: the tokens of the council's CSV feed of scored results (Power BI, Excel)."""

from __future__ import annotations

import click

from bot.commands.common import State, fail, table


@click.group("feed")
def group() -> None:
    """Create, list and revoke the tokens of the CSV feed of scored results (Power BI, Excel)."""


@group.command("create")
@click.option("--council", "council_id", required=True, help="The council's organisation id, from config.toml.")
@click.option("--label", default="", help="What the token is for, e.g. 'Power BI performance dashboard'.")
@click.pass_obj
def create(state: State, council_id: str, label: str) -> None:
    """Make a token for the council's feed and print it (once: only its hash is kept)."""
    from bot.clock import utc_now
    from bot.web.feed import create as make

    try:
        made = make(state.app.engine, council_id, label, utc_now())
    except LookupError as exc:
        fail(str(exc))
    url = f"{state.settings.web.base_url.rstrip('/')}/feed.csv"
    click.echo(f"Feed token {made.id} for {made.council_name} (shown once; keep it like a password):")
    click.echo(f"  {made.token}")
    click.echo(f"Power BI or Excel: Get data > Web > {url}, with the header Authorization: Bearer <token>")
    click.echo(f"  (or {url}?token=<token> where a header cannot be set). Revoke: kpibot feed revoke {made.id}")


@group.command("list")
@click.pass_obj
def listing(state: State) -> None:
    """The feed tokens: council, label, when made, last used, revoked."""
    from bot.web.feed import tokens

    found = tokens(state.app.engine)
    if not found:
        click.echo("No feed tokens yet (`kpibot feed create --council ID`).")
        return
    click.echo(table([(t.id, t.council_id, t.label, f"{t.created_at:%d %b %Y %H:%M}",
                       f"{t.last_used_at:%d %b %Y %H:%M}" if t.last_used_at else "never",
                       f"{t.revoked_at:%d %b %Y %H:%M}" if t.revoked_at else "") for t in found],
                     ["id", "council", "label", "made (UTC)", "last used", "revoked"]))


@group.command("revoke")
@click.argument("token_id", type=int)
@click.pass_obj
def revoke(state: State, token_id: int) -> None:
    """Revoke a feed token: the feed refuses it from now on."""
    from bot.clock import utc_now
    from bot.web.feed import revoke as cancel

    try:
        row = cancel(state.app.engine, token_id, utc_now())
    except LookupError as exc:
        fail(str(exc))
    click.echo(f"Feed token {row.id} ({row.council_id}{', ' + row.label if row.label else ''}) is revoked.")
