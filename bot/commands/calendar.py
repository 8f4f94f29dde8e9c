"""`kpibot calendar`: a contract's reporting periods and due dates for one year."""

from __future__ import annotations

import click

from bot.commands.common import State, echo_json, fail, period_arg, table


@click.command("calendar")
@click.option("--contract", "contract_id", required=True, help="Contract id from config.toml.")
@click.option("--year", "year_id", required=True, help="Reporting year, e.g. 2025-26.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def command(state: State, contract_id: str, year_id: str, as_json: bool) -> None:
    """List the periods of a reporting year with the date each return is due."""
    from kpi_core import loader
    from kpi_core.duedates import (
        due_date,  # the bank-holiday calendars load only when dates are worked out
    )

    contract = state.contract(contract_id)
    fw = loader.get(contract.framework)
    year = period_arg(year_id, contract.start_month)
    if year.frequency != "annual":
        fail(f"{year_id!r} is a period, not a year; write the year, e.g. {year.year.id}")
    rows = []
    for return_id, spec in contract.contract_terms().returns.items():  # the contract's returns, as configured
        for period in year.year.periods(spec.frequency):
            due = due_date(period, spec.due)
            rows.append({"return": return_id, "label": spec.label, "period": period.id, "start": period.start,
                         "end": period.end, "due": due, "due_weekday": f"{due:%A}", "description": period.label})
    if as_json:
        echo_json({"contract": contract.id, "framework": fw.id, "year": year.year.id, "periods": rows})
        return
    click.echo(f"{contract.name}: reporting year {year.year.id} ({year.start:%d %B %Y} to {year.end:%d %B %Y})")
    click.echo(table([(r["return"], r["period"], f"{r['start']:%d %b %Y}", f"{r['end']:%d %b %Y}",
                       f"{r['due']:%a %d %b %Y}") for r in rows],
                     ["return", "period", "from", "to", "due"]))
