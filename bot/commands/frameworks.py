"""`kpibot frameworks list|show|check`: the KPI frameworks shipped as data."""

from __future__ import annotations

import click

from bot.commands.common import echo_json, fail, table
from kpi_core import loader
from kpi_core.framework import Framework, Indicator
from kpi_core.scoring import describe_threshold


@click.group("frameworks")
def group() -> None:
    """List, show and check KPI frameworks."""


@group.command("list")
def list_frameworks() -> None:
    """List the shipped frameworks."""
    rows = [(f.id, f.name, f.version, len(f.items), len(f.indicators), ", ".join(f.returns))
            for f in loader.shipped().values()]
    click.echo(table(rows, ["id", "name", "version", "items", "indicators", "returns"]))


def indicator_summary(ind: Indicator) -> dict[str, object]:
    return {
        "ref": ind.ref,
        "name": ind.name,
        "section": ind.section,
        "kind": ind.kind,
        "direction": "higher" if ind.higher_is_better else "lower",
        "target": describe_threshold(ind, ind.target) or ind.target_text or None,
        "critical": describe_threshold(ind, ind.critical) or None,
        "stretch": describe_threshold(ind, ind.stretch) or None,
        "numerator": ind.numerator,
        "denominator": ind.denominator,
        "expression": ind.expression,
        "per": ind.per,
        "cumulative": ind.cumulative,
        "information_only": ind.information_only,
        "returns": list(ind.returns),
    }


def framework_summary(fw: Framework) -> dict[str, object]:
    return {
        "id": fw.id,
        "name": fw.name,
        "version": fw.version,
        # The commissioning document the file was written from: a name to cite, not a file kpibot ships.
        "source_document": fw.source or None,
        "year_start_month": fw.calendar.year_start_month,
        "returns": {k: {"label": r.label, "frequency": r.frequency, "due": r.due.model_dump()}
                    for k, r in fw.returns.items()},
        "disaggregations": {k: {"label": d.label, "exhaustive": d.exhaustive, "categories": d.categories}
                            for k, d in fw.disaggregations.items()},
        "items": [{"id": i.id, "label": i.label, "unit": i.unit, "type": i.type, "breakdowns": list(i.breakdowns),
                   "required": i.required, "returns": list(i.returns), "source": i.source} for i in fw.items],
        "indicators": [indicator_summary(i) for i in fw.indicators],
        "rules": [{"id": r.id, "check": r.check, "severity": r.severity, "message": r.message} for r in fw.rules],
        "payments": [p.model_dump(mode="json") for p in fw.payments],
    }


@group.command("show")
@click.argument("framework_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show(framework_id: str, as_json: bool) -> None:
    """Show a framework's data items, indicators, rules and payments."""
    try:
        fw = loader.get(framework_id)
    except KeyError as exc:
        fail(str(exc.args[0]))
        return
    if as_json:
        echo_json(framework_summary(fw))
        return
    click.echo(f"{fw.name} ({fw.id}, version {fw.version})")
    for rid, ret in fw.returns.items():
        click.echo(f"  return {rid}: {ret.label}, {ret.frequency}")
    click.echo("\nData items")
    click.echo(table([(i.id, i.label, i.unit, i.type, ", ".join(i.breakdowns)) for i in fw.items],
                     ["id", "label", "unit", "type", "breakdowns"]))
    click.echo("\nIndicators")
    rows = []
    for ind in fw.indicators:
        s = indicator_summary(ind)
        formula = f"{ind.numerator} / {ind.denominator}" if ind.numerator else ind.expression
        rows.append((ind.ref, ind.name[:60], ind.kind, s["direction"], s["target"] or "information only",
                     s["critical"] or "", formula))
    click.echo(table(rows, ["ref", "name", "kind", "better", "target", "critical failure", "computed as"]))
    if fw.payments:
        click.echo("\nPayments")
        for p in fw.payments:
            click.echo(f"  {p.id}: {p.name} (indicator {p.indicator})")


@group.command("check")
@click.argument("path", type=click.Path(dir_okay=False))
def check(path: str) -> None:
    """Validate a framework file; exit 1 listing every problem."""
    try:
        fw = loader.load_path(path)
    except loader.FrameworkError as exc:
        click.echo(f"{exc.source}: invalid framework", err=True)
        for problem in exc.problems:
            click.echo(f"  - {problem}", err=True)
        raise SystemExit(1) from None
    click.echo(f"{path}: valid framework {fw.id!r} with {len(fw.items)} data items, {len(fw.indicators)} "
               f"indicators, {len(fw.rules)} rules and {len(fw.payments)} payment rules")
