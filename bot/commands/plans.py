"""`kpibot plans list|show|workbook|complete|agree|return|close`: action plans from the command line.

Each acts for a registered person (`--as EMAIL`) through the same functions as chat (bot/plans/acts.py), so the
same rules hold: only the contract's commissioners agree, return or close a plan; a provider's contacts see and
complete only their own. A refusal is one `Error:` line saying why and what to do instead, with exit code 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from bot.commands.common import State, echo_json, fail
from bot.commands.review import acting, done

WHO = click.option("--as", "who", required=True, help="The email address of the registered person acting.")
PLAN = click.argument("plan_id", type=int, metavar="PLAN")

if TYPE_CHECKING:
    from bot.review.scene import Outcome


@click.group("plans")
def group() -> None:
    """Action plans for red indicators: list, show, workbook, complete, agree, return, close."""


@group.command("list")
@click.option("--as", "who", default=None, help="Only the plans this person may see (default: every plan).")
@click.option("--contract", "contract_id", default=None, help="Only this contract's plans.")
@click.option("--all", "include_closed", is_flag=True, help="Closed plans too.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_command(state: State, who: str | None, contract_id: str | None, include_closed: bool,
                 as_json: bool) -> None:
    """List action plans: their state, what is due and which actions are overdue."""
    from sqlmodel import Session

    from bot.clock import utc_now
    from bot.plans.listing import plans_for
    from bot.review.listing import contact_by_email
    from bot.review.scene import Refused

    app = state.app
    with Session(app.engine) as session:
        try:
            contact = contact_by_email(session, who) if who else None
            found = plans_for(session, contact, app.today(utc_now()), contract_id, include_closed)
        except Refused as exc:
            fail(exc.text)
    if as_json:
        echo_json([{"plan": p.id, "contract": p.contract_id, "indicator": p.ref, "title": p.title, "state": p.state,
                    "respond_by": p.respond_by.isoformat(), "overdue": p.overdue,
                    "actions": [{"number": a.number, "what": a.what, "how": a.how, "who": a.who,
                                 "when": a.due.isoformat(), "overdue": a.overdue} for a in p.actions]}
                   for p in found])
        return
    if not found:
        click.echo("No action plan is open." if not include_closed else "No action plan yet.")
    for contract in dict.fromkeys(p.contract_name for p in found):
        click.echo(f"{contract}:")
        for plan in (p for p in found if p.contract_name == contract):
            click.echo(f"  {plan.headline}")
            for action in plan.overdue_actions:
                click.echo(f"    {action.line}")


@group.command("show")
@PLAN
@click.option("--as", "who", default=None, help="Show it as this person may see it.")
@click.pass_obj
def show(state: State, plan_id: int, who: str | None) -> None:
    """Show a plan laid out as the council's template: indicator, performance, reason and actions."""
    from sqlmodel import Session

    from bot.clock import utc_now
    from bot.plans.listing import plan_for, show_text
    from bot.review.listing import contact_by_email
    from bot.review.scene import Refused

    app = state.app
    with Session(app.engine) as session:
        try:
            contact = contact_by_email(session, who) if who else None
            click.echo(show_text(plan_for(session, contact, plan_id, app.today(utc_now()))))
        except Refused as exc:
            fail(exc.text)


@group.command("complete")
@PLAN
@WHO
@click.option("--reason", default="", help="The reason(s) for non-compliance.")
@click.option("--action", "actions", multiple=True, metavar="'WHAT | HOW | WHO | WHEN'",
              help="An action: what is required | how it will be achieved | who is responsible | when (a date). "
                   "Repeat for each action.")
@click.pass_obj
def complete_command(state: State, plan_id: int, who: str, reason: str, actions: tuple[str, ...]) -> None:
    """Complete a plan as the provider: the reason for non-compliance and its actions; it goes to the council."""
    from bot.plans.acts import complete
    from bot.plans.drafts import from_line
    from bot.review.scene import Refused

    try:
        drafts = [from_line(line, n) for n, line in enumerate(actions, start=1)]
        done(complete(state.app.engine, state.app.settings, acting(state, who), plan_id, reason, drafts))
    except Refused as exc:
        fail(exc.text)


def _council_act(state: State, who: str, act: Callable[..., Outcome], plan_id: int, *words: str) -> None:
    """Agree, return or close a plan as `who` (bot/plans/acts.py decides whether they may); a refusal is one line."""
    from bot.review.scene import Refused

    try:
        done(act(state.app.engine, state.app.settings, acting(state, who), plan_id, *words))
    except Refused as exc:
        fail(exc.text)


@group.command("agree")
@PLAN
@WHO
@click.pass_obj
def agree_command(state: State, plan_id: int, who: str) -> None:
    """Agree a completed plan as the council: its actions' dates become commitments, reminded and chased."""
    from bot.plans.acts import agree

    _council_act(state, who, agree, plan_id)


@group.command("return")
@PLAN
@WHO
@click.option("--comment", default="", help="What the provider should change.")
@click.pass_obj
def return_command(state: State, plan_id: int, who: str, comment: str) -> None:
    """Return a plan to the provider with a comment saying what to change."""
    from bot.plans.acts import send_back

    _council_act(state, who, send_back, plan_id, comment)


@group.command("close")
@PLAN
@WHO
@click.option("--note", default="", help="Why the plan closes.")
@click.pass_obj
def close_command(state: State, plan_id: int, who: str, note: str) -> None:
    """Close a plan as the council (a plan also closes itself when the indicator is back on target)."""
    from bot.plans.acts import close

    _council_act(state, who, close, plan_id, note)


@group.command("workbook")
@PLAN
@click.option("--as", "who", default=None, help="Make it as this person may see the plan (default: any plan).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Where to write the .xlsx file.")
@click.pass_obj
def workbook_command(state: State, plan_id: int, who: str | None, out: str) -> None:
    """Write an open plan's action-plan workbook (.xlsx) to fill in; sent back through any channel, it completes
    the plan."""
    from pathlib import Path

    from sqlmodel import Session

    from bot.clock import utc_now
    from bot.plans.workbook import workbook
    from bot.review.listing import contact_by_email
    from bot.review.scene import Refused

    app = state.app
    with Session(app.engine) as session:
        try:
            contact = contact_by_email(session, who) if who else None
            name, data = workbook(session, contact, plan_id, app.today(utc_now()))
        except Refused as exc:
            fail(exc.text)
    try:
        Path(out).write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
    click.echo(f"Wrote {out} ({name}, {len(data):,} bytes): fill in the yellow cells and send it back like a return.")
