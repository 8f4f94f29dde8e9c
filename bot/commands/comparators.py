"""`kpibot benchmarks load|list`: the national, regional and top-quartile figures the commissioner sets.

A provider never sets its own bar: scoring uses these, with their source and publication date, and ignores any
copy in a return.
"""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from sqlmodel import Session

from bot.assessment.comparators import save_benchmarks, stored_benchmarks
from bot.clock import utc_now
from bot.commands.common import State, echo_json, fail, table
from kpi_core import loader
from kpi_core.comparators import COLUMNS, BenchmarkFileError, read_benchmarks

EXAMPLE = ("framework,period,item,breakdown,value,source,published\n"
           "ch-substance-misuse,2025-26-Q1,national_completion_pct,substance=opiate,5.1,NDTMS,2025-07-10")


@click.group("benchmarks")
def group() -> None:
    """Load and list the commissioner's benchmarks (national, regional, top quartile)."""


@group.command("load")
@click.argument("path", type=click.Path(dir_okay=False))
@click.pass_obj
def load(state: State, path: str) -> None:
    """Load benchmarks from a CSV file; every line is checked and the file loads whole or not at all."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}.")
        return
    except UnicodeDecodeError:
        fail(f"{path} is not a text (UTF-8) CSV file. Save it as CSV with the columns {','.join(COLUMNS)}, "
             f"for example:\n{EXAMPLE}")
        return
    state.settings  # noqa: B018 - reading the settings loads the council's own frameworks too
    try:
        benchmarks = read_benchmarks(text, loader.known(), where=f"{path} ")
    except BenchmarkFileError as exc:
        fail("nothing was loaded:\n" + "\n".join(f"  - {p}" for p in exc.problems))
        return
    try:
        with Session(state.app.engine) as session:
            added, replaced = save_benchmarks(session, benchmarks, utc_now(), Path(path).name)
            session.commit()
    except sa.exc.SQLAlchemyError:
        fail("cannot write to the database; run `kpibot init` first.")
        return
    frameworks = sorted({b.framework_id for b in benchmarks})
    click.echo(f"Loaded {len(benchmarks)} benchmark{'s' if len(benchmarks) != 1 else ''} for "
               f"{', '.join(frameworks)} from {path} ({added} new, {replaced} replaced).")


@group.command("list")
@click.option("--framework", "framework_id", help="Only this framework.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_benchmarks(state: State, framework_id: str | None, as_json: bool) -> None:
    """List the benchmarks loaded, with their source and publication date."""
    state.settings  # noqa: B018 - reading the settings loads the council's own frameworks too
    ids = [framework_id] if framework_id else sorted(loader.known())
    if framework_id and framework_id not in loader.known():
        fail(f"Error: unknown framework {framework_id!r}; known: {', '.join(sorted(loader.known()))}")
    try:
        with Session(state.app.engine) as session:
            found = [b for fid in ids for b in stored_benchmarks(session, fid)]
    except sa.exc.SQLAlchemyError:
        fail("cannot read the database; run `kpibot init` first.")
        return
    if as_json:
        echo_json([{"framework": b.framework_id, "period": b.period_id, "item": b.item, "breakdown": b.breakdown,
                    "value": float(b.value), "source": b.source,
                    "published": b.published.isoformat() if b.published else None} for b in found])
        return
    if not found:
        click.echo("No benchmarks loaded (load them with `kpibot benchmarks load FILE`).")
        return
    click.echo(table([(b.framework_id, b.period_id, b.item, b.breakdown, f"{float(b.value):g}", b.source,
                       b.published.isoformat() if b.published else "") for b in found],
                     ["framework", "period", "item", "breakdown", "value", "source", "published"]))
