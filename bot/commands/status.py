"""`kpibot status`: every return owed, received or not, on time or late, and the latest results."""

from __future__ import annotations

import click
from sqlmodel import Session, select

from bot.clock import utc_now
from bot.commands.common import State, echo_json, table
from bot.status import ObligationStatus, contract_status
from bot.storage.models import Contract
from kpi_core import formatting


@click.command("status")
@click.option("--contract", "contract_id", help="Only this contract.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def command(state: State, contract_id: str | None, as_json: bool) -> None:
    """Show obligations with due dates and what was received."""
    app = state.app
    today = app.today(utc_now())
    with Session(app.engine) as session:
        query = select(Contract).order_by(Contract.id)
        if contract_id:
            state.contract(contract_id)
            query = query.where(Contract.id == contract_id)
        statuses = [contract_status(session, c, today, app.settings.timezone) for c in session.exec(query)]
    if as_json:
        echo_json({"as_of": today.isoformat(), "contracts": [{
            "id": s.contract.id, "name": s.contract.name,
            "timeliness": _pct(s.kpis.timeliness), "accuracy": _pct(s.kpis.accuracy),
            "returns_due": s.kpis.due, "returns_on_time": s.kpis.timely,
            "obligations": [o.as_dict() for o in s.obligations]} for s in statuses]})
        return
    from jobs.status import scheduler_lines  # when the scheduler last swept: a stopped one shows

    click.echo("\n".join(scheduler_lines(app.engine, app.settings, utc_now())))
    for s in statuses:
        click.echo(f"\n{s.contract.name} ({s.contract.id}): timeliness {_text(s.kpis.timeliness)}, accuracy "
                   f"{_text(s.kpis.accuracy)} (rolling 12 months, target 95%)")
        rows = [(o.return_type, o.period_id, f"{o.due_date:%d %b %Y}", o.state,
                 "" if o.version is None else o.version, _timing(o),
                 " ".join(f"{n} {k}" for k, n in sorted(o.counts.items()))) for o in s.obligations]
        click.echo(table(rows, ["return", "period", "due", "state", "version", "timing", "results"]))


def _timing(o: ObligationStatus) -> str:
    if o.on_time is not None:
        return "on time" if o.on_time else f"late by {o.days_late} day(s)"
    return f"{o.days_late} day(s) overdue" if o.days_late else ""


def _pct(value):  # type: ignore[no-untyped-def]
    return None if value is None else round(float(value), 1)


def _text(value) -> str:  # type: ignore[no-untyped-def]
    return "n/a" if value is None else f"{formatting.number(value)}%"
