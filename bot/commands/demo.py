"""`kpibot demo`: replay a year of returns on the embedded database and show where every contract stands."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot import demo
from bot.commands.common import State
from kpi_core import formatting

if TYPE_CHECKING:
    from jobs.simulate import Fired


@click.command("demo")
@click.option("--dir", "folder", type=click.Path(file_okay=False), default="var/demo", show_default=True,
              help="Folder for the demo database, files, replies and reports (emptied first).")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=str(demo.AS_OF), show_default=True,
              help="The simulated date the demo runs up to.")
@click.pass_obj
def command(state: State, folder: str, as_of: object) -> None:
    """Run kpibot end to end on example contracts: no accounts, tokens or servers needed."""
    day: date = as_of.date()  # type: ignore[attr-defined]
    click.echo(f"Replaying a year of returns and the scheduler's notices up to {day:%d %B %Y} (each reply renders a "
               "PDF report)...")
    steps, statuses = demo.run(state.settings, Path(folder), day, progress=_show, notices=_show_notice)
    click.echo(f"\nReplayed {len(steps)} submissions into {folder}/kpibot.db")
    for status in statuses:
        k = status.kpis
        click.echo(f"\n{status.contract.name}: timeliness {_pct(k.timeliness)}, accuracy {_pct(k.accuracy)} "
                   "(target 95%)")
        for o in status.obligations:
            if o.state == "not due":
                continue
            counts = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in sorted(o.counts.items()))
            click.echo(f"  {o.return_type:<9} {o.period_id:<11} due {o.due_date:%d %b %Y}  {o.state:<9} {counts}")
    click.echo(f"\nReports (PDF): {folder}/reports/. Replies sent to providers: {folder}/outbox/. "
               f"Raw returns as received: {folder}/files/.")


def _show(step: demo.Step) -> None:
    r = step.result
    timing = "" if r.on_time is None else ("on time" if r.on_time else "LATE")
    version = "" if r.version is None else f"version {r.version}"
    click.echo(f"  {step.received_at:%d %b %Y}  {step.contract_id:<22} {step.period_id:<11} {r.outcome:<9} "
               f"{version:<10} {timing}")


def _show_notice(fired: Fired) -> None:
    """One line per reminder, overdue notice, escalation and exception report (the weekly digests are in the
    outbox folder)."""
    if fired.kind != "digest":
        click.echo(f"  {fired.at:%d %b %Y}  {fired.kind:<10} {fired.subject} -> {', '.join(fired.to)}")


def _pct(value) -> str:  # type: ignore[no-untyped-def]
    return "n/a" if value is None else f"{formatting.number(value)}%"
