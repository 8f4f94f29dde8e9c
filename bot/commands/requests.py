"""`kpibot request` and `kpibot requests list|answer`: requests for information from the command line.

The same functions as chat (bot/plans/requests.py): only the contract's commissioners ask; the provider answers with
a document, checked and kept, never read as a return. A refusal is one `Error:` line with exit code 1.
"""

from __future__ import annotations

from pathlib import Path

import click

from bot.commands.common import State, echo_json, fail
from bot.commands.review import acting, done

WHO = click.option("--as", "who", required=True, help="The email address of the registered person acting.")


@click.command("request")
@click.option("--contract", "contract_id", required=True, help="Contract id.")
@click.option("--what", required=True, help="What is requested, e.g. 'Inspection report'.")
@click.option("--due", required=True, help="The deadline: '2 working days', '10 days' or a date ('30 April 2026').")
@click.option("--detail", default="", help="More about what is needed.")
@WHO
@click.pass_obj
def request_command(state: State, contract_id: str, what: str, due: str, detail: str, who: str) -> None:
    """Ask a contract's provider for a document or information by a deadline.

    It is reminded and chased like a return until the provider answers it with a document."""
    from bot.plans.requests import ask
    from bot.review.scene import Refused

    try:
        done(ask(state.app.engine, state.app.settings, acting(state, who), contract_id, what, due, detail))
    except Refused as exc:
        fail(exc.text)


@click.group("requests")
def group() -> None:
    """Requests for information: list them, answer one with a document."""


@group.command("list")
@click.option("--as", "who", default=None, help="Only the requests this person may see (default: all).")
@click.option("--all", "include_answered", is_flag=True, help="Answered requests too.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def list_command(state: State, who: str | None, include_answered: bool, as_json: bool) -> None:
    """List requests for information: what is asked, of whom, by when, and which are overdue."""
    from sqlmodel import Session

    from bot.clock import utc_now
    from bot.plans.requests import request_line, requests_for
    from bot.review.listing import contact_by_email
    from bot.review.scene import Refused

    app = state.app
    today = app.today(utc_now())
    with Session(app.engine) as session:
        try:
            found = requests_for(session, contact_by_email(session, who) if who else None, include_answered)
        except Refused as exc:
            fail(exc.text)
        lines = [request_line(session, r, today) for r in found]
    if as_json:
        echo_json([{"request": r.id, "contract": r.contract_id, "what": r.what, "due": r.due.isoformat(),
                    "state": r.state, "on_time": r.on_time, "file": r.filename or None} for r in found])
        return
    click.echo("\n".join(lines) if lines else "No request for information is open.")


@group.command("answer")
@click.argument("request_id", type=int, metavar="REQUEST")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@WHO
@click.option("--note", default="", help="What to tell the council with the document.")
@click.option("--expires", default="", help="The document's expiry date (an insurance certificate), e.g. "
              "'31 March 2027': reminded before it lapses.")
@click.pass_obj
def answer_command(state: State, request_id: int, path: Path, who: str, note: str, expires: str) -> None:
    """Answer a request with a document (PDF, Word, Excel, an image...), as the provider."""
    from bot.plans.drafts import parse_day
    from bot.plans.requests import answer
    from bot.review.scene import Refused
    from bot.storage.files import FileStore

    expiry = parse_day(expires) if expires else None
    if expires and expiry is None:
        fail(f"--expires '{expires}' is not a date: write it as '31 March 2027' or '31/03/2027'.")

    try:
        data = path.read_bytes()
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror or exc}")
    app = state.app
    try:
        done(answer(app.engine, app.settings, FileStore(app.settings.storage.files_dir), acting(state, who),
                    request_id, path.name, data, note, expiry))
    except Refused as exc:
        fail(exc.text)
