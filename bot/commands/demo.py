"""`kpibot demo`: replay a year of returns on the embedded database and show where every contract stands."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from bot import demo
from bot.commands.common import State, table
from kpi_core import formatting


@click.command("demo")
@click.option("--dir", "folder", type=click.Path(file_okay=False), default="var/demo", show_default=True,
              help="Folder for the demo database, files, replies and reports (emptied first).")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=str(demo.AS_OF), show_default=True,
              help="The simulated date the demo runs up to.")
@click.pass_obj
def command(state: State, folder: str, as_of: object) -> None:
    """Run kpibot end to end on example contracts: no accounts, tokens or servers needed."""
    day: date = as_of.date()  # type: ignore[attr-defined]
    steps, statuses = demo.run(state.settings, Path(folder), day)
    click.echo(f"Replayed {len(steps)} submissions up to {day:%d %B %Y} into {folder}/kpibot.db\n")
    rows = [(f"{s.received_at:%d %b %Y}", s.contract_id, s.period_id, s.result.outcome,
             "" if s.result.version is None else s.result.version,
             "" if s.result.on_time is None else ("on time" if s.result.on_time else "LATE")) for s in steps]
    click.echo(table(rows, ["received", "contract", "period", "outcome", "version", "timing"]))
    for status in statuses:
        k = status.kpis
        click.echo(f"\n{status.contract.name}: timeliness {_pct(k.timeliness)}, accuracy {_pct(k.accuracy)} "
                   "(target 95%)")
        for o in status.obligations:
            if o.state == "not due":
                continue
            counts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(o.counts.items()))
            click.echo(f"  {o.return_type:<9} {o.period_id:<11} due {o.due_date:%d %b %Y}  {o.state:<9} {counts}")
    click.echo(f"\nReplies sent to providers are in {folder}/outbox/; raw returns are in {folder}/files/.")


def _pct(value) -> str:  # type: ignore[no-untyped-def]
    return "n/a" if value is None else f"{formatting.number(value)}%"
