"""`kpibot submit FILE --as EMAIL`: the local channel into the one intake."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.clock import utc_now
from bot.commands.common import State, echo_json, fail

if TYPE_CHECKING:
    from bot.app import App
    from bot.intake.received import Received

IN_PROGRESS = 3  # the exit code while another process is checking the same message (0 accepted, 2 not)


@click.command("submit")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--as", "sender", required=True, help="The submitting contact's email address.")
@click.option("--contract", "contract_id", help="Contract id (else from the cover sheet or the only candidate).")
@click.option("--period", "period_id", help="Period, e.g. 2025-26-Q1 (else from the cover or the open return).")
@click.option("--message-id", help="A stable id for this submission: replaying the same id changes nothing "
                                   "(default: the file's content, so the same file twice is one submission).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def command(state: State, path: str, sender: str, contract_id: str | None, period_id: str | None,
            message_id: str | None, as_json: bool) -> None:
    """Submit a return as a registered contact; exit 0 when accepted, 2 when not, 3 while it is being checked."""
    from bot.intake.received import Received
    from bot.intake.service import Unavailable
    from bot.storage.files import sha256_of

    now = utc_now()
    app = state.app
    _check_what_was_typed(app, sender, contract_id, period_id, now)  # before anything is stored or sent
    data = Path(path).read_bytes()
    say = (lambda text: None) if as_json else (lambda text: click.echo(text, err=True))
    say(f"Checking {Path(path).name} ({len(data):,} bytes)...")
    received = Received(channel="cli", message_id=message_id or f"{now.isoformat()}:{sha256_of(data)[:16]}",
                        sender=sender, filename=Path(path).name, data=data, received_at=now,
                        contract_id=contract_id, period_id=period_id)
    try:
        result = app.intake.submit(received)
    except Unavailable as exc:
        raise click.ClickException(f"{exc}; nothing was recorded, try again shortly") from None
    pdf = False
    if result.outcome in ("accepted", "rejected") and result.version is not None and app.settings.reports.attach_pdf:
        say("Drawing the PDF report for the reply...")
        pdf = app.render_queue.run_once() > 0
    if as_json:
        echo_json({"outcome": result.outcome, "submission": result.submission_id, "contract": result.contract_id,
                   "period": result.period_id, "version": result.version, "on_time": result.on_time,
                   "duplicate_of": result.duplicate_of, "reply_to": result.reply_to,
                   "findings": [f.as_dict() for f in result.findings], "reply": result.reply})
    else:
        click.echo(result.reply)
        if result.outcome == "held" and result.contract_id is None:
            click.echo(f"\nTo submit it for one of them: --contract {_references(app, received)}", err=True)
        if result.reply_to:
            click.echo(f"\nReply queued for {result.reply_to}{' with the PDF report' if pdf else ''}; "
                       "`kpibot outbox send` delivers it (`kpibot run` does so on its own).", err=True)
    if result.outcome == "pending":  # not refused: another process has it, and its answer will be queued
        if not as_json:
            click.echo("It is still being checked (by the service, or another `kpibot submit` of the same "
                       "message): it was received and not refused. `kpibot status` shows its outcome once "
                       "checked, and the reply is queued then.", err=True)
        raise SystemExit(IN_PROGRESS)
    accepted = result.outcome in ("accepted", "action_plan") or (result.outcome == "duplicate" and not any(
        f.is_error for f in result.findings) and result.version is not None)
    raise SystemExit(0 if accepted else 2)


def _references(app: App, received: Received) -> str:
    """`ch-stop-smoking (City and Hackney Stop Smoking Service), ...`: the contracts the sender may submit for, by
    the references `--contract` takes (for the operator: the reply to the provider names them only)."""
    from sqlmodel import Session

    from bot.authz.policy import visible_contracts
    from bot.intake.records import contact_of

    with Session(app.engine) as session:
        contact = contact_of(session, received)
        contracts = visible_contracts(session, contact) if contact else []
        return ", ".join(f"{c.id} ({c.name})" for c in contracts)


def _check_what_was_typed(app: App, sender: str, contract_id: str | None, period_id: str | None,
                          now: datetime) -> None:
    """An unknown sender, contract or period is the operator's mistake: one `Error:` line, nothing recorded or
    sent (bot/intake/explicit.py)."""
    from sqlmodel import Session

    from bot.assessment.submission_kpis import local_date
    from bot.intake.explicit import operator_mistake

    with Session(app.engine) as session:
        problem = operator_mistake(session, app.settings, sender, contract_id, period_id,
                                   local_date(now, app.settings.timezone))
        session.rollback()
    if problem:
        fail(problem)
