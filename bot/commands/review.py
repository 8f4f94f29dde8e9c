"""`kpibot review list|signoff|query|spotcheck` and `kpibot answer`: the review from the command line.

Each acts for a registered person (`--as EMAIL`) through the same functions as chat and email (bot/review), so
the same rules hold: a refusal is one `Error:` line saying why and what to do instead, with exit code 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from bot.commands.common import State, echo_json, fail

if TYPE_CHECKING:
    from bot.review.scene import Act, Outcome

WHO = click.option("--as", "who", required=True, help="The email address of the registered person acting.")
CONTRACT = click.option("--contract", "contract_id", required=True, help="Contract id.")
PERIOD = click.option("--period", "period_id", required=True, help="Period, e.g. 2025-26-Q2.")
VERSION = click.option("--version", "version", type=int, default=None,
                       help="The version meant (default: the one under review).")


def acting(state: State, who: str) -> Act:
    """The act of the person named by `--as`, now, from the command line."""
    from sqlmodel import Session

    from bot.clock import utc_now
    from bot.review.listing import contact_by_email
    from bot.review.scene import Act, Refused

    with Session(state.app.engine) as session:
        try:
            contact = contact_by_email(session, who)
        except Refused as exc:
            fail(exc.text)
        assert contact.id is not None
        return Act(contact.id, "cli", utc_now())


def done(outcome: Outcome) -> None:
    click.echo(outcome.text)


def targeted(state: State, contract_id: str, period_id: str, version: int | None) -> tuple[int, int]:
    """(review, version) of the return named on the command line."""
    from sqlmodel import Session

    from bot.review.listing import find
    from bot.review.scene import Refused

    with Session(state.app.engine) as session:
        try:
            found = find(session, contract_id, period_id, version)
        except Refused as exc:
            fail(exc.text)
        assert found.review.id is not None
        return found.review.id, found.submission_id


@click.group("review")
def group() -> None:
    """Review returns: list what waits, sign off, query, record spot checks."""


@group.command("list")
@click.option("--as", "who", default=None, help="Only what waits on this person (default: everything).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_command(state: State, who: str | None, as_json: bool) -> None:
    """List the returns waiting for the council's review and the queries waiting for providers."""
    from sqlmodel import Session

    from bot.assessment.reviews import waiting
    from bot.clock import utc_now
    from bot.review.listing import contact_by_email, describe, waiting_for
    from bot.review.scene import Refused

    app = state.app
    today = app.today(utc_now())
    with Session(app.engine) as session:
        if who:
            try:
                items = waiting_for(session, contact_by_email(session, who))
            except Refused as exc:
                fail(exc.text)
        else:
            items = waiting(session)
        lines = [(item, describe(session, app.settings, item, today)) for item in items]
    if as_json:
        echo_json([{"contract": i.contract_id, "period": i.period_id, "version": i.version, "state": i.state,
                    "waiting_on": i.on, "since": i.since.isoformat(),
                    "respond_by": i.respond_by.isoformat() if i.respond_by else None,
                    "overdue": i.overdue(today), "text": text} for i, text in lines])
        return
    council = [text for i, text in lines if i.on == "council"]
    provider = [text for i, text in lines if i.on == "provider"]
    if not lines:
        click.echo("Nothing waits for review: every accepted return is signed off.")
    if council:
        click.echo(f"Waiting for the council ({len(council)}):")
        click.echo("\n".join(f"  {text}" for text in council))
    if provider:
        click.echo(f"Waiting for providers to answer a query ({len(provider)}):")
        click.echo("\n".join(f"  {text}" for text in provider))


@group.command("signoff")
@CONTRACT
@PERIOD
@VERSION
@WHO
@click.pass_obj
def signoff(state: State, contract_id: str, period_id: str, version: int | None, who: str) -> None:
    """Sign off a return: the council agrees the period's figures."""
    from bot.review.actions import sign_off
    from bot.review.scene import Refused

    review_id, submission_id = targeted(state, contract_id, period_id, version)
    try:
        done(sign_off(state.app.engine, state.app.settings, acting(state, who), review_id, submission_id))
    except Refused as exc:
        fail(exc.text)


@group.command("query")
@CONTRACT
@PERIOD
@VERSION
@WHO
@click.option("--reason", default="", help="What looks wrong, naming the indicators or items in question.")
@click.option("--about", multiple=True, help="An indicator reference or item the query is about (repeatable).")
@click.pass_obj
def query_command(state: State, contract_id: str, period_id: str, version: int | None, who: str, reason: str,
                  about: tuple[str, ...]) -> None:
    """Query a return: the provider is asked to explain or correct it."""
    from bot.review.actions import query
    from bot.review.scene import Refused

    review_id, submission_id = targeted(state, contract_id, period_id, version)
    try:
        done(query(state.app.engine, state.app.settings, acting(state, who), review_id, submission_id, reason, about))
    except Refused as exc:
        fail(exc.text)


@group.command("spotcheck")
@CONTRACT
@PERIOD
@VERSION
@WHO
@click.option("--accurate/--inaccurate", required=True, help="What the check found.")
@click.option("--note", default="", help="What was checked, against what, and what was found.")
@click.pass_obj
def spotcheck(state: State, contract_id: str, period_id: str, version: int | None, who: str, accurate: bool,
              note: str) -> None:
    """Record a spot check of a return's figures (an inaccurate finding counts against accuracy)."""
    from bot.review.actions import record_spot_check
    from bot.review.scene import Refused

    review_id, submission_id = targeted(state, contract_id, period_id, version)
    try:
        done(record_spot_check(state.app.engine, state.app.settings, acting(state, who), review_id, submission_id,
                               accurate, note))
    except Refused as exc:
        fail(exc.text)


@click.command("answer")
@CONTRACT
@PERIOD
@WHO
@click.option("--text", default="", help="The explanation of the figures the council queried.")
@click.pass_obj
def answer_command(state: State, contract_id: str, period_id: str, who: str, text: str) -> None:
    """Answer the council's query on a return with an explanation (a corrected file goes by `kpibot submit`)."""
    from sqlmodel import Session

    from bot.review.actions import answer
    from bot.review.listing import find
    from bot.review.scene import Refused, open_query

    app = state.app
    try:
        with Session(app.engine) as session:
            found = find(session, contract_id, period_id)
            asked = open_query(session, found.review.id)
            if asked is None:  # the latest one says why it no longer waits
                from sqlmodel import col, select

                from bot.storage.review_models import ReviewQuery

                asked = session.exec(select(ReviewQuery).where(ReviewQuery.review_id == found.review.id)
                                     .order_by(col(ReviewQuery.id).desc())).first()
            if asked is None:
                fail(f"The council has asked no question about {contract_id} {period_id}: there is nothing to answer.")
            assert asked.id is not None
            query_id = asked.id
        done(answer(app.engine, app.settings, acting(state, who), query_id, text))
    except Refused as exc:
        fail(exc.text)
