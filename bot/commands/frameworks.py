"""`kpibot frameworks list|show|check`: the KPI frameworks as data (shipped, and the council's own from the folder
config.toml names), what kpibot assumed in each, and every mistake in a framework file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bot.commands.common import State, echo_json, fail, table
from kpi_core import loader, terms
from kpi_core.comparators import Benchmark
from kpi_core.framework.indicators import Indicator
from kpi_core.framework.model import Framework
from kpi_core.framework.notes import Version
from kpi_core.results import describe_threshold


@click.group("frameworks")
def group() -> None:
    """List, show and check KPI frameworks."""


@group.command("list")
@click.pass_obj
def list_frameworks(state: State) -> None:
    """List the shipped frameworks and the council's own (from the frameworks folder config.toml names)."""
    _use_council_frameworks(state)
    rows = [(f.id, f.name, f.version, len(f.items), len(f.indicators), ", ".join(f.returns),
             "shipped" if fid in loader.shipped() else loader.source_of(fid))
            for fid, f in loader.known().items()]
    click.echo(table(rows, ["id", "name", "version", "items", "indicators", "returns", "from"]))


def _use_council_frameworks(state: State) -> None:
    """Load the council's frameworks when a config file names a folder; without a config file, the shipped ones
    are shown alone (a mistake in the config file or a framework is said, as for every command)."""
    from bot import config

    if state.config_path is not None or config.config_path().is_file():
        state.settings  # noqa: B018 - reading the settings loads the council's frameworks


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
        "cohort": ind.cohort.model_dump() if ind.cohort else None,
        "expression": ind.expression,
        "per": ind.per,
        "cumulative": ind.cumulative,
        "information_only": ind.information_only,
        "returns": list(ind.returns),
        "assumed": ind.assumed or None,
    }


def framework_summary(fw: Framework, overrides: terms.TermOverrides | None = None) -> dict[str, object]:
    contract = terms.contract_terms(fw, overrides)
    return {
        "id": fw.id,
        "name": fw.name,
        "version": fw.version,
        # The commissioning document the file was written from: a name to cite, not a file kpibot ships.
        "source_document": fw.source or None,
        "year_start_month": fw.calendar.year_start_month,
        "amber": fw.scoring.amber.model_dump() if fw.scoring.amber else None,
        "returns": {k: {"label": r.label, "frequency": r.frequency, "due": r.due.model_dump(),
                        "meeting": r.meeting.model_dump() if r.meeting else None, "assumed": r.assumed or None}
                    for k, r in contract.returns.items()},
        "terms": {"data_submission": contract.data_submission.model_dump() if contract.data_submission else None,
                  "service_failure_after_late": contract.service_failure_after_late},
        "disaggregations": {k: {"label": d.label, "exhaustive": d.exhaustive, "categories": d.categories}
                            for k, d in fw.disaggregations.items()},
        "items": [{"id": i.id, "label": i.label, "unit": i.unit, "type": i.type, "breakdowns": list(i.breakdowns),
                   "required": i.required, "returns": list(i.returns), "source": i.source} for i in fw.items],
        "indicators": [indicator_summary(i) for i in fw.indicators],
        "rules": [{"id": r.id, "check": r.check, "severity": r.severity, "message": r.message,
                   "generated": r.generated} for r in fw.rules],
        "payments": [p.model_dump(mode="json") for p in fw.payments],
        "assumptions": [{"about": a.about, "text": a.text, "state": a.state}
                        for a in terms.assumptions(fw, overrides)],
        "versions": [{"version": v.version, "from_contract_year": v.from_contract_year, "notes": v.notes,
                      "changes": version_changes(before, after, v)} for v, before, after in _steps(fw.id)],
    }


def _steps(framework_id: str) -> list[tuple[Version, Framework, Framework]]:
    """Each later version with the version before it."""
    previous = loader.get(framework_id)
    out = []
    for version, framework in loader.versions(framework_id):
        out.append((version, previous, framework))
        previous = framework
    return out


def version_changes(before: Framework, after: Framework, version: Version) -> list[str]:
    """`T2.2 target: ">= 1,600" -> ">= 1,700"` for each field a version changes."""
    lines = []
    for change in version.indicators:
        old, new = indicator_summary(before.indicator(change.ref)), indicator_summary(after.indicator(change.ref))
        old_ind, new_ind = before.indicator(change.ref).model_dump(), after.indicator(change.ref).model_dump()
        for key in sorted(change.model_extra or {}):
            was, now = old.get(key, old_ind.get(key)), new.get(key, new_ind.get(key))
            if was != now:
                lines.append(f"{change.ref} {key}: {_shown(was)} -> {_shown(now)}")
    return lines


def _shown(value: object) -> str:
    return "(none)" if value in (None, "") else repr(value) if isinstance(value, str) else str(value)


@group.command("show")
@click.argument("framework_id")
@click.option("--contract", "contract_id", help="Show the terms and assumptions as configured for this contract, "
                                                "with the benchmarks loaded (needs the configuration).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def show(state: State, framework_id: str, contract_id: str | None, as_json: bool) -> None:
    """Show a framework's data items, indicators, rules, payments and every assumption kpibot made."""
    _use_council_frameworks(state)
    try:
        fw = loader.get(framework_id)
    except KeyError as exc:
        fail(str(exc.args[0]))
        return
    overrides = None
    benchmarks: list[Benchmark] | str = []
    if contract_id:
        contract = state.contract(contract_id)
        if contract.framework != fw.id:
            fail(f"contract {contract_id!r} uses framework {contract.framework!r}, not {fw.id!r}")
        overrides = contract.terms
        benchmarks = _loaded_benchmarks(state, fw.id)
    summary = framework_summary(fw, overrides)
    if as_json:
        if contract_id:
            summary["benchmarks"] = [_benchmark_json(b) for b in benchmarks] if isinstance(benchmarks, list) \
                else benchmarks
        echo_json(summary)
        return
    _print(fw, summary, contract_id, benchmarks)


def _print(fw: Framework, summary: dict[str, Any], contract_id: str | None,
           benchmarks: list[Benchmark] | str) -> None:
    click.echo(f"{fw.name} ({fw.id}, version {fw.version})" + (f", as configured for {contract_id}"
                                                               if contract_id else ""))
    for rid, ret in summary["returns"].items():
        marker = " (assumed)" if ret["assumed"] else ""
        click.echo(f"  return {rid}: {ret['label']}, {ret['frequency']}, due {_rule(ret['due'])}{marker}")
    t = summary["terms"]
    ds = t["data_submission"]
    click.echo("  data-submission KPIs: " + (f"timeliness {ds['timeliness_target']:g}%, accuracy "
                                             f"{ds['accuracy_target']:g}%" if ds else "none"))
    failure = t["service_failure_after_late"]
    click.echo("  service failure: " + (f"{failure} consecutive late periods" if failure else "none"))
    click.echo("  amber band: " + ("none (a miss is red)" if not summary["amber"] else str(summary["amber"])))
    click.echo("\nData items")
    click.echo(table([(i.id, i.label, i.unit, i.type, ", ".join(i.breakdowns)) for i in fw.items],
                     ["id", "label", "unit", "type", "breakdowns"]))
    click.echo("\nIndicators")
    rows = []
    for ind in fw.indicators:
        s = indicator_summary(ind)
        formula = f"{ind.numerator} / {ind.denominator}" if ind.numerator else ind.expression
        if ind.cohort:
            formula = f"{ind.numerator} / {ind.cohort.item} {ind.cohort.months_earlier} months earlier"
        rows.append((ind.ref, ind.name[:60], ind.kind, s["direction"], s["target"] or "information only",
                     s["critical"] or "", formula))
    click.echo(table(rows, ["ref", "name", "kind", "better", "target", "critical failure", "computed as"]))
    generated = sum(1 for r in fw.rules if r.generated)
    click.echo(f"\nValidation rules: {len(fw.rules) - generated} written in the framework, {generated} generated "
               "(a part within its whole, a rule in each breakdown category, the same people counted twice)")
    if fw.payments:
        click.echo("\nPayments")
        for p in fw.payments:
            click.echo(f"  {p.id}: {p.name} (indicator {p.indicator})")
    if summary["versions"]:
        click.echo("\nVersions by contract year")
        for v in summary["versions"]:
            click.echo(f"  {v['version']} from contract year {v['from_contract_year']}: {v['notes']}")
            for line in v["changes"]:
                click.echo(f"    {line}")
    discrepancies = [a for a in summary["assumptions"] if a["state"] == "discrepancy"]
    if discrepancies:  # first: the schedule contradicts itself and only the commissioner can settle it
        click.echo("\nDiscrepancies in the schedule, for the commissioner to decide")
        for n, a in enumerate(discrepancies, start=1):
            click.echo(f"  {n}. [{a['state']}] {a['about']}: {a['text']}")
    click.echo("\nAssumptions kpibot made and what is not scored (confirm or change each one)")
    for n, a in enumerate((a for a in summary["assumptions"] if a["state"] != "discrepancy"), start=1):
        click.echo(f"  {n}. [{a['state']}] {a['about']}: {a['text']}")
    if contract_id:
        click.echo("\nBenchmarks loaded by the commissioner")
        if isinstance(benchmarks, str):
            click.echo(f"  {benchmarks}")
        elif not benchmarks:
            click.echo("  none (load them with `kpibot benchmarks load FILE`)")
        for b in benchmarks if isinstance(benchmarks, list) else []:
            click.echo(f"  {b.describe()}")


def _rule(rule: dict[str, Any]) -> str:
    kind = rule["rule"]
    if kind == "day_of_next_month":
        return f"day {rule['day']} of the month after the period"
    if kind == "date_after":
        return f"{rule['day']}/{rule['month']} after the period"
    if kind == "end_of_next_month":
        return "the end of the month after the period"
    return f"{rule.get('days')} {'working ' if kind == 'working_days_after' else ''}days after the period"


def _loaded_benchmarks(state: State, framework_id: str) -> list[Benchmark] | str:
    """The benchmarks in the configured database, or why they cannot be read."""
    import sqlalchemy as sa
    from sqlmodel import Session

    from bot.assessment.comparators import stored_benchmarks

    if not state.database_exists():
        return "no database yet (run `kpibot init` first)"
    try:
        with Session(state.app.engine) as session:
            return stored_benchmarks(session, framework_id)
    except (sa.exc.SQLAlchemyError, click.ClickException):  # not set up, or not reachable: say so, show the rest
        return "cannot read the database (run `kpibot init` first)"


def _benchmark_json(b: Benchmark) -> dict[str, object]:
    return {"period": b.period_id, "item": b.item, "breakdown": b.breakdown, "value": float(b.value),
            "source": b.source, "published": b.published.isoformat() if b.published else None}


@group.command("check")
@click.argument("path", required=False, type=click.Path())
@click.pass_obj
def check(state: State, path: str | None) -> None:
    """Validate framework files and their later versions: PATH (a file or a folder of them), or else the council's
    frameworks folder named in config.toml. Lists every mistake in every file; exit 1 if there is one."""
    files = _files_to_check(state, path)
    checked: dict[str, loader.Entry] = {}
    invalid = 0
    for file in files:
        try:
            fw, later = loader.check_file(file, checked)
        except loader.FrameworkError as exc:
            invalid += 1
            mistakes = len(exc.problems)
            click.echo(f"{exc.source}: invalid framework, {mistakes} mistake{'s' if mistakes != 1 else ''}", err=True)
            for problem in exc.problems:
                click.echo(f"  - {problem}", err=True)
            continue
        checked[fw.id] = ({}, fw, str(file))
        _valid(str(file), fw, later)
    if invalid:
        if len(files) > 1:
            click.echo(f"{invalid} of {len(files)} framework files have mistakes", err=True)
        raise SystemExit(1)


def _files_to_check(state: State, path: str | None) -> list[Path]:
    """The file named, the framework files in the folder named, or those of the configured frameworks folder."""
    from bot import config

    if path is None:
        source = config.config_path(state.config_path)
        if not source.is_file():
            fail(f"no {source} to find the frameworks folder in; name a framework file or folder: "
                 "kpibot frameworks check FILE")
        try:
            folder = config.frameworks_folder_of(source)
        except config.ConfigError as exc:
            fail(f"{exc}")
        if folder is None:
            fail(f"{source} names no frameworks folder; add [frameworks] folder = \"frameworks\" (read from "
                 "the config file's folder), or name a framework file: kpibot frameworks check FILE")
        target = folder
    else:
        target = Path(path)
    if target.is_dir():
        files = sorted(target.glob("*.toml"))
        if not files:
            fail(f"{target} holds no framework files (*.toml)")
        return files
    if path is None:
        fail(f"the frameworks folder {target} does not exist; create it and put the council's framework "
             "files (*.toml) in it")
    return [target]


def _valid(source: str, fw: Framework, later: list[tuple[Version, Framework]]) -> None:
    generated = sum(1 for r in fw.rules if r.generated)
    click.echo(f"{source}: valid framework {fw.id!r} with {len(fw.items)} data items, {len(fw.indicators)} "
               f"indicators, {len(fw.rules) - generated} rules (and {generated} generated) and "
               f"{len(fw.payments)} payment rules")
    previous = fw
    for version, framework in later:
        click.echo(f"version {version.version} from contract year {version.from_contract_year} (after "
                   f"{previous.version}): {version.notes}")
        for line in version_changes(previous, framework, version) or ["no change to any indicator"]:
            click.echo(f"  {line}")
        previous = framework
