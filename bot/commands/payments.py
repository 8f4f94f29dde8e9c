"""`kpibot payments show|confirm`: a year's payment by results and incentives, confirmed by a person.

`show` prints the arithmetic, the returns it rests on and what still stops confirmation; `confirm` prints the
same, asks (unless `--yes`), and records who, when and the figure through bot/review/payments.py, refusing while
any return it rests on is not signed off.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from bot.commands.common import State, fail
from bot.commands.review import acting

if TYPE_CHECKING:
    from bot.review.payments import YearPayments

CONTRACT = click.option("--contract", "contract_id", required=True, help="Contract id.")
YEAR = click.option("--year", "year", required=True, help="Reporting year, e.g. 2025-26.")


@click.group("payments")
def group() -> None:
    """Show a year's payments and what they rest on; confirm them."""


def _preview(state: State, contract_id: str, year: str) -> YearPayments:
    from sqlmodel import Session

    from bot.review.payments import year_payments
    from bot.review.scene import Refused

    app = state.app
    with Session(app.engine) as session:
        try:
            return year_payments(session, app.files, app.settings, contract_id, year)
        except Refused as exc:
            fail(exc.text)


def _show(preview: YearPayments) -> None:
    from kpi_core import formatting

    click.echo(f"{preview.contract_name} ({preview.provider_name}), {preview.year_id}")
    for p in preview.payments:
        amount = formatting.money(p.amount) if p.amount is not None else "no contract value given"
        state = f"confirmed {p.confirmed}" if p.confirmed else p.state
        missing = f" (no figures for {', '.join(p.missing)})" if p.missing else ""
        click.echo(f"\n{p.name}: {amount}, {state}{missing}")
        click.echo("\n".join(f"  {line}" for line in p.arithmetic))
    if preview.rests_on:
        click.echo(f"\nIt rests on the {preview.return_label.lower()}s of the year:")
        click.echo("\n".join(f"  {b.period}: {b.words}" for b in preview.rests_on))
    if preview.blocking:
        click.echo("\nNot ready to confirm:")
        click.echo("\n".join(f"  {line}" for line in preview.blocking))


@group.command("show")
@CONTRACT
@YEAR
@click.pass_obj
def show(state: State, contract_id: str, year: str) -> None:
    """Show the year's payments with their arithmetic and the returns they rest on."""
    _show(_preview(state, contract_id, year))


@group.command("confirm")
@CONTRACT
@YEAR
@click.option("--as", "who", required=True, help="The email address of the commissioner confirming.")
@click.option("--yes", is_flag=True, help="Confirm without asking (the figures are still printed first).")
@click.pass_obj
def confirm(state: State, contract_id: str, year: str, who: str, yes: bool) -> None:
    """Confirm the year's payments: refused while any return they rest on is not signed off."""
    from bot.review.payments import confirm_payments
    from bot.review.scene import Refused

    preview = _preview(state, contract_id, year)
    _show(preview)
    act = acting(state, who)
    shown = {p.rule_id: p.amount for p in preview.payments}
    if not preview.blocking and preview.payments and not yes:
        click.confirm("\nConfirm these figures for the year?", abort=True)
    try:
        outcome = confirm_payments(state.app.engine, state.app.settings, state.app.files, act, contract_id, year,
                                   shown)
    except Refused as exc:
        fail(exc.text)
    click.echo(f"\n{outcome.text}")
