"""`kpibot template`: write the return workbook a provider fills in for one contract and period."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

import click

from bot.commands.common import (
    State,
    fail,
    output_path,
    period_arg,
    schema_problem,
    write_atomically,
)

if TYPE_CHECKING:
    from kpi_core.calendar import Period
    from kpi_core.values import Key


@click.command("template")
@click.option("--contract", "contract_id", required=True, help="Contract id from config.toml.")
@click.option("--period", "period_id", required=True, help="Period, e.g. 2025-26-Q1 (quarter) or 2025-26 (year).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Workbook to write, e.g. return.xlsx.")
@click.pass_obj
def command(state: State, contract_id: str, period_id: str, output: str) -> None:
    """Write the return workbook (.xlsx) for a contract and period."""
    from bot.workbooks.template import build_template
    from kpi_core import loader
    from kpi_core.assess import ReturnTypeError, return_type_for

    target = output_path(output, ".xlsx", "an Excel workbook")
    contract = state.contract(contract_id)
    period = period_arg(period_id, contract.start_month)
    # The version of the framework in force in that contract year (its targets and items), as submit judges it.
    framework = loader.for_period(contract.framework, period, contract.start)
    try:
        return_id = return_type_for(framework, period)
    except ReturnTypeError as exc:
        fail(str(exc))
    provider = state.settings.organisation(contract.provider).name
    earlier = earlier_figures(state, contract.id, return_id, period)
    data = build_template(framework, contract_id=contract.id, contract_name=contract.name, provider_name=provider,
                          period=period, earlier=earlier)
    write_atomically(target, data)
    shown = f" with {', '.join(earlier)} for reference" if earlier else ""
    click.echo(f"Wrote {output}: {framework.returns[return_id].label} of {contract.name} for {period.label}{shown}.")


def earlier_figures(state: State, contract_id: str, return_id: str, period: Period) -> dict[str, dict[Key, Fraction]]:
    """Accepted figures of the year's earlier periods, when the database is set up (else none: a template can be
    made before `kpibot init`, and making one never creates a database)."""
    if not state.database_exists():
        return {}
    from sqlmodel import Session

    from bot.storage.queries import accepted_values

    app = state.unchecked_app()
    if schema_problem(app):
        return {}
    with Session(app.engine) as session:
        found = accepted_values(session, contract_id, return_id, period.earlier_in_year())
    return {p.id: found[p.id] for p in period.earlier_in_year() if p.id in found}
