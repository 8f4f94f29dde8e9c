"""`kpibot score FILE`: validate and score one return file without storing anything.

When the configured database is set up, the file is judged exactly as `kpibot submit` would judge it: with the
year's accepted returns, the previous period and the submission log from the database (`bot/assessment/in_context.py`), so the
preview shows the status and payment the submission will get. `--no-history` judges the file alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from bot import config
from bot.commands.common import (
    State,
    echo_json,
    fail,
    output_path,
    period_arg,
    plural,
    revision_problem,
    table,
)
from bot.settings import people
from kpi_core import formatting

if TYPE_CHECKING:
    from fractions import Fraction

    from kpi_core.assess import Assessment
    from kpi_core.calendar import Period
    from kpi_core.returns.model import ParsedReturn
    from kpi_core.values import Key

STATUS_WORD = {"green": "GREEN", "part": "PART PAYMENT", "amber": "AMBER", "red": "RED", "info": "info",
               "no_data": "no data"}


@dataclass(frozen=True)
class Judged:
    """An assessment and what it was judged with."""

    assessment: Assessment
    history: dict[str, dict[Key, Fraction]]  # accepted periods from the database ({} when judged alone)
    basis: str  # `database` or `file`
    note: str  # one line saying which


@click.command("score")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--contract", "contract_id", help="Contract id (read from the workbook cover when omitted).")
@click.option("--period", "period_id", help="Period, e.g. 2025-26-Q1 (read from the cover when omitted).")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Judge the return as if it arrived on this date (default: today with a database, else no "
                   "date checks).")
@click.option("--no-history", is_flag=True,
              help="Judge the file alone, without the accepted returns stored in the database.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the return report as PDF, with a draft action plan for each red indicator.")
@click.pass_obj
def command(state: State, path: str, contract_id: str | None, period_id: str | None, today: datetime | None,
            no_history: bool, as_json: bool, pdf_path: str | None) -> None:
    """Validate and score a return; exit 0 when accepted, 2 when rejected."""
    from kpi_core.returns.reader import read_return

    pdf_target = output_path(pdf_path, ".pdf", "a PDF report") if pdf_path else None
    data = Path(path).read_bytes()
    parsed = read_return(data, Path(path).name, limits=config.read_limits(state.settings))
    if parsed.unreadable:  # nothing to score: list every reason, not just the first
        if as_json:
            echo_json({"file": parsed.source, "accepted": False, "findings": [f.as_dict() for f in parsed.findings]})
        else:
            click.echo("\n".join([f"{parsed.source}: REJECTED, nothing could be scored"]
                                 + [f"  - {f.text()}" for f in parsed.findings]))
        raise SystemExit(2)
    contract_id = contract_id or parsed.cover.get("contract")
    period_id = period_id or parsed.cover.get("period")
    if not contract_id or not period_id:
        fail("say which contract and period the return is for: --contract ID --period 2025-26-Q1 "
             "(a kpibot workbook carries both on its cover sheet)")
    contract = state.contract(contract_id)
    period = period_arg(period_id, contract.start_month)
    judged = judge(state, contract, period, parsed, today, no_history)
    result = judged.assessment
    if as_json:
        echo_json(as_dict(contract_id, result) | {"judged_with": {
            "basis": judged.basis, "periods": sorted(judged.history), "note": judged.note}})
    else:
        click.echo(render_text(contract.name, result, judged.note))
    if pdf_target is not None:
        write_pdf(state, contract_id, judged, Path(path).name, pdf_target)
    raise SystemExit(0 if result.accepted else 2)


def judge(state: State, contract: people.Contract, period: Period, parsed: ParsedReturn, today: datetime | None,
          no_history: bool) -> Judged:
    """Assess with the database's history when there is one (as the intake would), else the file alone."""
    from kpi_core import loader
    from kpi_core.assess import ReturnTypeError, assess

    try:
        if not no_history and state.database_exists():
            found = _judge_with_database(state, contract, period, parsed, today)
            if found is not None:
                return found
        from kpi_core.part_year import ContractSpan
        from kpi_core.terms import apply_terms

        # The version in force for the period, with the contract's terms (as configured), like submit.
        framework = apply_terms(loader.for_period(contract.framework, period, contract.start),
                                contract.contract_terms())
        result = assess(framework, period, parsed, contract_value=contract.value,
                        expected_contract=contract.id, today=today.date() if today else None,
                        span=ContractSpan(contract.start, contract.end))
    except ReturnTypeError as exc:
        fail(str(exc))
    why = "--no-history" if no_history else "no database is set up"
    return Judged(result, {}, "file", f"Judged on this file alone ({why}): no earlier period is counted (figures "
                                      "a file gives for other periods are never that period's data).")


def _judge_with_database(state: State, contract: people.Contract, period: Period, parsed: ParsedReturn,
                         today: datetime | None) -> Judged | None:
    """Judge as the intake would, reading the database as plain SQL: the ORM is not loaded (it costs a command line
    more than half a second), and the same judging code runs on the same rows (`bot/assessment/plain_store.py`)."""
    from bot.assessment.in_context import assess_with
    from bot.assessment.plain_store import PlainStore
    from bot.clock import utc_now
    from bot.storage import plain_reads

    storage = state.settings.storage
    zone = state.settings.timezone
    when = utc_now() if today is None else datetime.combine(today.date(), time(12), ZoneInfo(zone))
    reader = plain_reads.PlainReader(storage.database_url, storage.sqlite_path)
    try:
        if revision_problem(plain_reads.revision(reader)):
            return None
        stored = plain_reads.contract(reader, contract.id)
        if stored is None:  # in config.toml but not loaded yet
            return None
        assessed = assess_with(PlainStore(reader), stored, period, parsed, when, zone,
                               terms=contract.contract_terms())
    finally:
        reader.close()
    periods = sorted(assessed.history)
    shown = ", ".join(periods) if periods else "none accepted yet"
    note = (f"Judged as `kpibot submit` would on {when.astimezone(ZoneInfo(zone)):%d %B %Y}, with the accepted "
            f"returns in the database ({shown}); --no-history judges the file alone.")
    return Judged(assessed.assessment, assessed.history, "database", note)


def write_pdf(state: State, contract_id: str, judged: Judged, source: str, out: Path) -> None:
    """Render the return report to `out`, replacing it only once the whole PDF is written."""
    from bot.clock import utc_now
    from bot.commands.common import write_atomically
    from bot.reports.context import ReturnMeta, build_return_report
    from bot.reports.render import render_return_report
    from bot.reports.trends import trends_from_history

    result = judged.assessment
    contract = state.contract(contract_id)
    provider = state.settings.organisation(contract.provider).name
    meta = ReturnMeta(contract.id, contract.name, provider, source=source)
    report = build_return_report(result, meta, trends_from_history(result, judged.history), generated_at=utc_now(),
                                 timezone=state.settings.timezone)
    write_atomically(out, render_return_report(report))
    click.echo(f"Report written to {out} ({plural(len(report.action_plans), 'draft action plan')})", err=True)


def as_dict(contract_id: str, result: Assessment) -> dict[str, object]:
    card = result.scorecard
    return {
        "contract": contract_id,
        "framework": result.framework.id,
        "period": result.period.id,
        "period_label": result.period.label,
        "return": result.return_id,
        "accepted": result.accepted,
        "counts": card.counts(),
        "indicators": [r.as_dict() for r in card.indicators],
        "payments": [p.as_dict() for p in card.payments],
        "findings": [f.as_dict() for f in result.findings],
    }


def render_text(contract_name: str, result: Assessment, note: str = "") -> str:
    from bot.commands.common import counts_text
    from bot.reports.display import bounds, target_text, value_text

    card = result.scorecard
    verdict = "ACCEPTED" if result.accepted else "REJECTED"
    lines = [f"{contract_name}: {result.framework.returns[result.return_id].label}, {result.period.label}",
             f"{verdict}: {plural(len(result.errors), 'error')}, {plural(len(result.warnings), 'warning')}"]
    if note:
        lines.append(note)
    lines.append("")
    if not result.accepted:
        lines.append("Not scored until the errors below are fixed: nothing is judged or paid on a rejected return.")
    else:
        lines.append(f"Indicators: {counts_text(card.counts())}")
        rows = []
        for r in card.indicators:
            ind = r.indicator
            near = bounds(r.judgement)
            ytd = value_text(r.ytd.value, ind, near) if r.ytd else ""
            forecast = value_text(r.forecast, ind, bounds(r.forecast_judgement)) if r.forecast is not None else ""
            target = target_text(r, result.framework)
            flag = " (?)" if r.low_confidence else ""
            rows.append((ind.ref, ind.name[:48], value_text(r.value, ind, None if r.ytd else near), ytd, target,
                         STATUS_WORD[r.status] + flag, r.gap_text, forecast))
        lines.append(table(rows, ["ref", "indicator", "value", "year to date", "target", "status", "gap",
                                  "forecast"]))
        if any(r.low_confidence for r in card.indicators):
            lines.append("(?) too few, or too close to the threshold, to call with confidence; see --json for the "
                         "95% intervals")
        for p in card.payments:
            lines += ["", f"{p.rule.name}: {formatting.money(p.amount)} ({p.state})"]
            lines += [f"  {line}" for line in p.arithmetic]
    if result.findings:
        lines += ["", "Findings"] + [f"  - {f.text()}" for f in result.findings]
    return "\n".join(lines)
