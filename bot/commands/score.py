"""`kpibot score FILE`: validate and score one return file without storing anything."""

from __future__ import annotations

from pathlib import Path

import click

from bot import config
from bot.commands.common import State, echo_json, fail, table, write_atomically
from kpi_core import formatting, loader
from kpi_core.assess import Assessment, ReturnTypeError, assess
from kpi_core.calendar import PeriodError, parse_period
from kpi_core.returns.reader import read_return

STATUS_WORD = {"green": "GREEN", "amber": "AMBER", "red": "RED", "info": "info", "no_data": "no data"}


@click.command("score")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--contract", "contract_id", help="Contract id (read from the workbook cover when omitted).")
@click.option("--period", "period_id", help="Period, e.g. 2025-26-Q1 (read from the cover when omitted).")
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Judge the period against this date (default: do not check).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--pdf", "pdf_path", type=click.Path(dir_okay=False), default=None,
              help="Also write the return report as PDF, with a draft action plan for each red indicator.")
@click.pass_obj
def command(state: State, path: str, contract_id: str | None, period_id: str | None, today: object,
            as_json: bool, pdf_path: str | None) -> None:
    """Validate and score a return; exit 0 when accepted, 2 when rejected."""
    data = Path(path).read_bytes()
    parsed = read_return(data, Path(path).name, limits=config.read_limits(state.settings))
    if parsed.unreadable:  # nothing to score: list every reason, not just the first
        if as_json:
            echo_json({"file": parsed.source, "accepted": False, "findings": [f.as_dict() for f in parsed.findings]})
        else:
            click.echo("\n".join([f"{parsed.source}: REJECTED"] + [f"  - {f.text()}" for f in parsed.findings]))
        raise SystemExit(2)
    contract_id = contract_id or parsed.cover.get("contract")
    period_id = period_id or parsed.cover.get("period")
    if not contract_id or not period_id:
        fail("Say which contract and period the return is for: --contract ID --period 2025-26-Q1 "
             "(a kpibot workbook carries both on its cover sheet).")
        return
    contract = state.contract(contract_id)
    framework = loader.get(contract.framework)
    try:
        period = parse_period(period_id, contract.start_month)
        result = assess(framework, period, parsed, contract_value=contract.value, expected_contract=contract_id,
                        today=today.date() if today else None)  # type: ignore[attr-defined]
    except (PeriodError, ReturnTypeError) as exc:
        fail(str(exc))
        return
    if as_json:
        echo_json(as_dict(contract_id, result))
    else:
        click.echo(render_text(contract.name, result))
    if pdf_path:
        write_pdf(state, contract_id, result, Path(path).name, Path(pdf_path))
    raise SystemExit(0 if result.accepted else 2)


def write_pdf(state: State, contract_id: str, result: Assessment, source: str, out: Path) -> None:
    """Render the return report to `out`, replacing it only once the whole PDF is written."""
    from bot.clock import utc_now
    from bot.reports import (  # WeasyPrint loads slowly: only when a PDF is asked for
        ReturnMeta,
        build_return_report,
        render_return_report,
        trends_from_history,
    )

    contract = state.contract(contract_id)
    provider = state.settings.organisation(contract.provider).name
    meta = ReturnMeta(contract.id, contract.name, provider, source=source)
    report = build_return_report(result, meta, trends_from_history(result), generated_at=utc_now(),
                                 timezone=state.settings.timezone)
    write_atomically(out, render_return_report(report))
    click.echo(f"Report written to {out} ({len(report.action_plans)} draft action plan(s))", err=True)


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


def render_text(contract_name: str, result: Assessment) -> str:
    card = result.scorecard
    verdict = "ACCEPTED" if result.accepted else "REJECTED"
    lines = [f"{contract_name}: {result.framework.returns[result.return_id].label}, {result.period.label}",
             f"{verdict}: {len(result.errors)} error(s), {len(result.warnings)} warning(s)", ""]
    rows = []
    for r in card.indicators:
        ind = r.indicator
        ytd = formatting.value(r.ytd.value, ind.kind, ind.per) if r.ytd else ""
        forecast = formatting.value(r.forecast, ind.kind, ind.per) if r.forecast is not None else ""
        target = r.as_dict()["target"] or ""
        flag = " (?)" if r.low_confidence else ""
        rows.append((ind.ref, ind.name[:48], formatting.value(r.value, ind.kind, ind.per), ytd, target,
                     STATUS_WORD[r.status] + flag, r.gap_text, forecast))
    lines.append(table(rows, ["ref", "indicator", "value", "year to date", "target", "status", "gap", "forecast"]))
    if any(r.low_confidence for r in card.indicators):
        lines.append("(?) too few or too close to call with confidence; see --json for the 95% intervals")
    for p in card.payments:
        lines += ["", f"{p.rule.name}: {formatting.money(p.amount)}" + (" (forecast)" if p.forecast else "")]
        lines += [f"  {line}" for line in p.arithmetic]
    if result.findings:
        lines += ["", "Findings"] + [f"  - {f.text()}" for f in result.findings]
    return "\n".join(lines)
