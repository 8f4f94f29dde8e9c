"""`kpibot meeting pack|notes|list`: the quarterly performance meeting from the command line.

The pack (PDF) is the one the scheduler sends the council before the meeting; the notes and agreed actions are
recorded through the same function as chat (bot/plans/meetings.py). Only the contract's commissioners draw the pack
or record notes. A refusal is one `Error:` line saying why and what to do instead, with exit code 1.
"""

from __future__ import annotations

import click

from bot.commands.common import State, fail, output_path, write_atomically
from bot.commands.review import acting, done

WHO = click.option("--as", "who", required=True, help="The email address of the commissioner acting.")
CONTRACT = click.option("--contract", "contract_id", required=True, help="Contract id.")
PERIOD = click.option("--period", "period_id", required=True, help="The period of the return the meeting is on, "
                                                                    "e.g. 2026-27-Q1.")


@click.group("meeting")
def group() -> None:
    """The quarterly performance meeting: its pack, and the notes and actions agreed at it."""


@group.command("pack")
@CONTRACT
@PERIOD
@click.option("--out", "output", default=None, type=click.Path(dir_okay=False),
              help="PDF to write (default: meeting-pack-CONTRACT-PERIOD.pdf).")
@WHO
@click.pass_obj
def pack_command(state: State, contract_id: str, period_id: str, output: str | None, who: str) -> None:
    """Write the meeting pack of a contract's period: results, review, plans, data KPIs, payments, requests."""
    from sqlmodel import Session

    from bot.plans.meetings import commissioned
    from bot.reports.meeting_stored import render_stored_meeting_pack
    from bot.reports.stored import ReportError
    from bot.review.listing import contact_by_email
    from bot.review.scene import Refused

    name = output or f"meeting-pack-{contract_id}-{period_id}.pdf"
    target = output_path(name, ".pdf", "a PDF meeting pack")
    app = state.app
    act = acting(state, who)
    with Session(app.engine) as session:
        try:
            contact = contact_by_email(session, who)
            commissioned(session, contact, contract_id, "receives its meeting pack")
            _, pdf = render_stored_meeting_pack(session, app.files, app.settings, contract_id, period_id, act.at)
        except (Refused, ReportError) as exc:
            fail(exc.text if isinstance(exc, Refused) else str(exc))
        write_atomically(target, pdf)
        session.commit()
    click.echo(f"Wrote {name}")


@group.command("notes")
@CONTRACT
@PERIOD
@click.option("--notes", required=True, help="What was discussed and decided.")
@click.option("--action", "actions", multiple=True,
              help="An action agreed: 'what; who; when', e.g. 'Send the revised pathway; Jo Bloggs; 15 January "
                   "2027' (repeat for each).")
@WHO
@click.pass_obj
def notes_command(state: State, contract_id: str, period_id: str, notes: str, actions: tuple[str, ...],
                  who: str) -> None:
    """Record the notes of a meeting and the actions agreed at it (they join the contract's history)."""
    from bot.plans.meetings import record_notes
    from bot.review.scene import Refused

    try:
        done(record_notes(state.app.engine, state.app.settings, acting(state, who), contract_id, period_id, notes,
                          list(actions)))
    except Refused as exc:
        fail(exc.text)


@group.command("list")
@CONTRACT
@WHO
@click.pass_obj
def list_command(state: State, contract_id: str, who: str) -> None:
    """List the notes of the contract's meetings so far, with the actions agreed and which are past their date."""
    from sqlmodel import Session

    from bot.plans.meetings import commissioned, history
    from bot.review.listing import contact_by_email
    from bot.review.scene import Refused

    app = state.app
    act = acting(state, who)
    with Session(app.engine) as session:
        try:
            contract = commissioned(session, contact_by_email(session, who), contract_id, "sees its meetings' notes")
        except Refused as exc:
            fail(exc.text)
        lines = history(session, app.settings, contract, act.at)
    click.echo("\n".join(lines) if lines else f"No meeting notes recorded for {contract.name} yet.")
