"""`kpibot report` and `kpibot exceptions`: PDF reports from the database."""

from __future__ import annotations

import click

from bot.commands.common import State, fail, output_path, plural, write_atomically


@click.command("report")
@click.option("--contract", "contract_id", required=True, help="Contract id.")
@click.option("--period", "period_id", required=True, help="Period, e.g. 2025-26-Q2.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="PDF to write.")
@click.pass_obj
def report(state: State, contract_id: str, period_id: str, output: str) -> None:
    """Write the return report of a contract's period (the version in force), with action plans for reds."""
    from sqlmodel import Session

    from bot.clock import utc_now
    from bot.reports.stored import ReportError, render_stored_return_report

    target = output_path(output, ".pdf", "a PDF report")
    app = state.app
    with Session(app.engine) as session:
        try:
            pdf = render_stored_return_report(session, app.files, app.settings, contract_id, period_id, utc_now())
        except ReportError as exc:
            fail(str(exc))
        write_atomically(target, pdf)
        session.commit()
    click.echo(f"Wrote {output}")


@click.command("exceptions")
@click.option("--period", "period_id", help="Period, e.g. 2025-26-Q2, read in each contract's calendar "
                                            "(default: each contract's latest quarterly return that is due).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="PDF to write.")
@click.pass_obj
def exceptions(state: State, period_id: str | None, output: str) -> None:
    """Write the commissioners' exception report across all contracts."""
    from sqlmodel import Session

    from bot.clock import utc_now
    from bot.reports.stored import ReportError, render_stored_exception_report

    target = output_path(output, ".pdf", "a PDF report")
    app = state.app
    with Session(app.engine) as session:
        try:
            pdf, notes, count = render_stored_exception_report(session, app.files, app.settings, period_id,
                                                               utc_now())
        except ReportError as exc:
            fail(str(exc))
        write_atomically(target, pdf)
        session.commit()
    click.echo(f"Wrote {output} covering {plural(count, 'contract')}")
    for note in notes:
        click.echo(f"  left out: {note}")
