"""`kpibot demo`: replay a year of returns on the embedded database and show where every contract stands."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.commands.common import State, counts_text, fail, plural

if TYPE_CHECKING:
    from bot.demo.replay import Step

DEFAULT_AS_OF = "2026-05-20"  # bot.demo.AS_OF, repeated so that `kpibot --help` need not import the demo

if TYPE_CHECKING:
    from bot.demo.simulate import Fired


@click.command("demo")
@click.option("--dir", "folder", type=click.Path(file_okay=False), default="var/demo", show_default=True,
              help="Folder for the demo database, files, replies and reports: a new or empty folder, or one an "
                   "earlier demo made (emptied first).")
@click.option("--as-of", type=click.DateTime(["%Y-%m-%d"]), default=DEFAULT_AS_OF, show_default=True,
              help="The simulated date the demo runs up to.")
@click.pass_obj
def command(state: State, folder: str, as_of: datetime) -> None:
    """Run kpibot end to end on example contracts: no accounts, tokens or servers needed."""
    from bot.commands.status import REVIEW_WORDS, data_kpis_text, timing_text
    from bot.demo import replay as demo

    day: date = as_of.date()
    settings = state.settings
    try:
        demo.prepare(Path(folder))
    except demo.DemoFolderError as exc:
        fail(str(exc))
    click.echo(f"Replaying a year of returns and the scheduler's notices up to {day:%d %B %Y} into {folder}/ ...")
    steps, statuses = demo.run(settings, Path(folder), day, progress=_show, notices=_show_notice,
                               reviewed=_show_review)
    click.echo(f"\nReplayed {plural(len(steps), 'submission')} into {folder}/kpibot.db")
    for status in statuses:
        click.echo(f"\n{status.contract.name}: {data_kpis_text(status.kpis, status.targets)}")
        for o in status.obligations:
            if o.state == "not due":
                continue
            click.echo(f"  {o.return_type:<9} {o.period_id:<11} due {o.due_date:%d %b %Y}  {o.state:<9} "
                       f"{timing_text(o):<18} {REVIEW_WORDS.get(o.review or '', ''):<11} "
                       f"{counts_text(o.counts)}".rstrip())
    click.echo(f"\nReports (PDF): {folder}/reports/. Replies, queries and sign-offs: {folder}/outbox/. "
               f"Raw returns as received: {folder}/files/.")
    commissioner = next((c.email for c in settings.contacts if c.role == "commissioner"), None)
    provider = next((c.email for c in settings.contacts if c.role != "commissioner"), None)
    if commissioner and provider:
        click.echo(f"\nOpen the web workspace on this machine, signed in as the demo's commissioner:\n"
                   f"  kpibot web --dir {folder} --as {commissioner}\n"
                   f"or as a provider:\n  kpibot web --dir {folder} --as {provider}\n"
                   "(each prints a sign-in link for http://127.0.0.1:8080/ that works once)")


def _show(step: Step) -> None:
    r = step.result
    timing = "" if r.on_time is None else ("on time" if r.on_time else "late")
    version = "" if r.version is None else f"version {r.version}"
    click.echo(f"  {step.received_at:%d %b %Y}  {step.contract_id:<22} {step.period_id:<11} {r.outcome:<9} "
               f"{version:<10} {timing}".rstrip())


def _show_review(at: datetime, text: str) -> None:
    """One line per act of the council's review: queries, sign-offs, the year's payment confirmed."""
    click.echo(f"  {at:%d %b %Y}  council    {text}")


def _show_notice(fired: Fired) -> None:
    """One line per reminder, overdue notice, escalation and exception report (the weekly digests are in the
    outbox folder)."""
    if fired.kind != "digest":
        click.echo(f"  {fired.at:%d %b %Y}  {fired.kind:<10} {fired.subject} -> {', '.join(fired.to)}")
