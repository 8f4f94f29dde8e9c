"""`kpibot status`: every return owed, received or not, on time or late, and the latest results."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

import click

from bot.commands.common import State, counts_text, echo_json, plural, table

if TYPE_CHECKING:  # the command line imports what a command needs only when it runs
    from datetime import date

    from bot.app import App
    from bot.assessment.contract_status import ObligationStatus
    from bot.assessment.submission_kpis import SubmissionKpis
    from kpi_core.framework.model import DataSubmissionTerms


@click.command("status")
@click.option("--contract", "contract_id", help="Only this contract.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def command(state: State, contract_id: str | None, as_json: bool) -> None:
    """Show obligations with due dates and what was received."""
    from sqlmodel import Session, select

    from bot.assessment.contract_status import contract_status
    from bot.clock import utc_now
    from bot.storage.models import Contract

    app = state.app
    today = app.today(utc_now())
    with Session(app.engine) as session:
        query = select(Contract).order_by(Contract.id)
        if contract_id:
            state.contract(contract_id)
            query = query.where(Contract.id == contract_id)
        from bot.assessment.in_context import terms_of

        statuses = [contract_status(session, c, today, app.settings.timezone, terms_of(app.settings, c))
                    for c in session.exec(query)]
    if as_json:
        echo_json({"as_of": today.isoformat(), "contracts": [{
            "id": s.contract.id, "name": s.contract.name,
            "timeliness": _pct(s.kpis.timeliness), "accuracy": _pct(s.kpis.accuracy),
            "returns_due": s.kpis.due, "returns_on_time": s.kpis.timely,
            "requests_due": len(s.kpis.requests), "requests_on_time": s.kpis.requests_on_time,
            "obligations": [o.as_dict() for o in s.obligations]} for s in statuses]})
        return
    if not statuses:
        click.echo("No contracts in the database: add them to the configuration and run `kpibot init`.")
    for s in statuses:
        click.echo(f"\n{s.contract.name} ({s.contract.id}): {data_kpis_text(s.kpis, s.targets)}")
        rows = [(o.return_type, o.period_id, f"{o.due_date:%d %b %Y}", o.state,
                 "" if o.version is None else o.version, timing_text(o), REVIEW_WORDS.get(o.review or "", ""),
                 counts_text(o.counts)) for o in s.obligations]
        click.echo(table(rows, ["return", "period", "due", "state", "version", "timing", "review", "results"]))
    click.echo("")
    for line in review_lines(app, today, contract_id):  # what waits on the council, and on providers
        click.echo(line)
    from bot.commands.service_status import service_lines

    for line in service_lines(app, utc_now()):  # the running service, undelivered messages, refused files, channels
        click.echo(line)


REVIEW_WORDS = {"waiting": "to review", "queried": "queried", "answered": "answered", "signed_off": "signed off"}


def review_lines(app: App, today: date, contract_id: str | None) -> list[str]:
    """What waits on whom: returns for the council to review (or whose answer it has to read), queries for the
    providers to answer, and how many of those are overdue."""
    from sqlmodel import Session

    from bot.assessment.reviews import waiting

    with Session(app.engine) as session:
        items = waiting(session, [contract_id] if contract_id else None)
    council = [w for w in items if w.on == "council"]
    answered = sum(1 for w in council if w.state == "answered")
    providers = [w for w in items if w.on == "provider"]
    overdue = sum(1 for w in providers if w.overdue(today))
    if not items:
        return ["Review: nothing waits; every accepted return is signed off."]
    head = f"Review: {plural(len(council), 'return')} waiting for the council"
    head += f" ({answered} with the provider's answer to read)" if answered else ""
    head += f"; {plural(len(providers), 'query', 'queries')} waiting for providers"
    head += f" ({overdue} overdue)" if overdue else ""
    oldest = min((w.since for w in council), default=None)
    tail = [f"  the oldest waiting for the council since {oldest:%d %b %Y}; `kpibot review list` shows them all"] \
        if oldest else ["  `kpibot review list` shows them all"]
    return [head, *tail]


def data_kpis_text(kpis: SubmissionKpis, targets: DataSubmissionTerms | None) -> str:
    """`timeliness 75% (3 of 4 on time), accuracy 100% (4 of 4 accepted first time)` over the rolling 12 months,
    against the contract's own targets; a contract without data-submission KPIs gets the counts only."""
    from kpi_core import formatting

    timeliness = _share(kpis.timeliness, kpis.timely_all, kpis.due_all, "on time" if not kpis.requests else
                        f"on time, {plural(len(kpis.requests), 'request')} for information among them",
                        "no returns due yet")
    accuracy = _share(kpis.accuracy, kpis.accurate, kpis.submitted, "accepted first time",
                      f"none received of {plural(kpis.due, 'return')} due" if kpis.due else "no returns due yet")
    if targets is None:
        return (f"timeliness {timeliness}, accuracy {accuracy} (rolling 12 months; not KPIs of this contract, "
                "which has no data-submission targets)")
    return (f"timeliness {timeliness}, accuracy {accuracy} (rolling 12 months, targets "
            f"{formatting.number(targets.timeliness_target)}% and {formatting.number(targets.accuracy_target)}%)")


def timing_text(o: ObligationStatus) -> str:
    """`on time`, `late by 3 days`, `6 days overdue`, or '' while not due."""
    if o.on_time is not None:
        return "on time" if o.on_time else f"late by {plural(o.days_late or 0, 'day')}"
    return f"{plural(o.days_late, 'day')} overdue" if o.days_late else ""


def _share(percent: Fraction | None, achieved: int, out_of: int, what: str, empty: str) -> str:
    from kpi_core import formatting

    if percent is None or not out_of:
        return f"n/a ({empty})"
    return f"{formatting.number(percent)}% ({achieved:,} of {out_of:,} {what})"


def _pct(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), 1)
