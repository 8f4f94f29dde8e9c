"""`kpibot submit FILE --as EMAIL`: the local channel into the one intake."""

from __future__ import annotations

from pathlib import Path

import click

from bot.clock import utc_now
from bot.commands.common import State, echo_json
from bot.intake import Received


@click.command("submit")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "sender", required=True, help="The submitting contact's email address.")
@click.option("--contract", "contract_id", help="Contract id (else from the cover sheet or the only candidate).")
@click.option("--period", "period_id", help="Period, e.g. 2025-26-Q1 (else from the cover or the open return).")
@click.option("--message-id", help="A stable id for this submission: replaying the same id changes nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def command(state: State, path: str, sender: str, contract_id: str | None, period_id: str | None,
            message_id: str | None, as_json: bool) -> None:
    """Submit a return as a registered contact; exit 0 when accepted, 2 otherwise."""
    now = utc_now()
    data = Path(path).read_bytes()
    received = Received(channel="cli", message_id=message_id or f"{now.isoformat()}:{Path(path).name}",
                        sender=sender, filename=Path(path).name, data=data, received_at=now,
                        contract_id=contract_id, period_id=period_id)
    result = state.app.intake.submit(received)
    if as_json:
        echo_json({"outcome": result.outcome, "submission": result.submission_id, "contract": result.contract_id,
                   "period": result.period_id, "version": result.version, "on_time": result.on_time,
                   "findings": [f.as_dict() for f in result.findings], "reply": result.reply})
    else:
        click.echo(result.reply)
    accepted = result.outcome == "accepted" or (result.outcome == "duplicate" and not any(
        f.is_error for f in result.findings) and result.version is not None)
    raise SystemExit(0 if accepted else 2)
