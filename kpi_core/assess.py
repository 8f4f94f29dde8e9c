"""One call from a parsed return to a verdict: interpret, validate, score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction

from kpi_core.calendar import Period, PeriodError, parse_period
from kpi_core.cohorts import cohort_findings
from kpi_core.comparators import Benchmark, benchmark_notes
from kpi_core.findings import Finding, cap_findings, has_errors
from kpi_core.framework.model import Framework
from kpi_core.results import Scorecard
from kpi_core.returns.model import ParsedReturn
from kpi_core.scoring import score
from kpi_core.validation import Interpretation, interpret, swing_findings
from kpi_core.values import Key


class ReturnTypeError(ValueError):
    """The framework has no return for the period's frequency."""


def return_type_for(framework: Framework, period: Period) -> str:
    """The framework's return type whose frequency matches the period (quarterly for `2025-26-Q1`)."""
    for return_id, spec in framework.returns.items():
        if spec.frequency == period.frequency:
            return return_id
    kinds = ", ".join(sorted({r.frequency for r in framework.returns.values()}))
    raise ReturnTypeError(f"{framework.name} has no {period.frequency} return; its returns are {kinds}")


@dataclass(frozen=True)
class Assessment:
    framework: Framework
    return_id: str
    period: Period
    interpretation: Interpretation
    scorecard: Scorecard
    findings: tuple[Finding, ...]
    benchmarks: tuple[Benchmark, ...] = ()  # the commissioner's benchmarks it was judged against

    @property
    def accepted(self) -> bool:
        return not has_errors(self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.is_error]


def period_findings(period: Period, today: date | None, where: str = "") -> list[Finding]:
    if today is None:
        return []
    if period.start > today:
        return [Finding("error", "future_period", f"{period.label} has not started yet (today is {today:%d %B %Y})",
                        where=where, fix="Check the period on the cover sheet or in your message.")]
    if period.end >= today:
        return [Finding("warning", "period_not_ended", f"{period.label} ends on {period.end:%d %B %Y}; figures sent "
                        "before the end of the period may be incomplete", where=where)]
    return []


def cover_findings(framework: Framework, period: Period, parsed: ParsedReturn,
                   expected_contract: str | None = None) -> list[Finding]:
    """Compare what a workbook's cover says it is with what it was sent for: framework, contract, period."""
    cover, cells = parsed.cover, parsed.cover_cells
    findings = []
    said = cover.get("framework")
    if said and said != framework.id:
        findings.append(Finding("error", "wrong_template", f"this workbook is the template for {said!r}, not for "
                                f"{framework.name} ({framework.id})", where=cells.get("framework", ""),
                                fix="Copy the figures into the return workbook for this contract and period (kpibot "
                                    "attaches it to its reminders; in Telegram, send /template) and send that."))
    said = cover.get("contract")
    if said and expected_contract and said != expected_contract:
        findings.append(Finding("error", "contract_mismatch", f"the cover says contract {said!r}, but the return "
                                f"was sent for {expected_contract!r}", where=cells.get("contract", ""),
                                fix="Send the workbook made for this contract, or say the contract on its cover."))
    said = cover.get("period")
    if said:
        try:
            other = parse_period(said, period.year.start.month)
        except PeriodError as exc:
            findings.append(Finding("error", "bad_period", f"the cover's period cannot be read: {exc}",
                                    where=cells.get("period", ""),
                                    fix="Send the workbook as downloaded; do not edit its cover."))
        else:
            if other != period:
                findings.append(Finding("error", "period_mismatch", f"the cover says {other.label}, but the return "
                                        f"was sent for {period.label}", where=cells.get("period", ""),
                                        fix=f"Send the workbook made for {period.id}, or correct the period you "
                                            "gave."))
    return findings


def assess(
    framework: Framework,
    period: Period,
    parsed: ParsedReturn,
    *,
    history: Mapping[str, Mapping[Key, Fraction]] | None = None,
    contract_value: object = None,
    today: date | None = None,
    extra_values: Mapping[Key, Fraction] | None = None,
    expected_contract: str | None = None,
    previous: Mapping[Key, Fraction] | None = None,
    benchmarks: Sequence[Benchmark] = (),
) -> Assessment:
    """Interpret and score a return. `history` (accepted earlier returns, by period id) wins over earlier
    periods carried in the file; `extra_values` adds system-derived figures (timeliness, accuracy);
    `benchmarks` are the commissioner's figures in force for the period (`benchmarks.in_force`): a return's own
    copy of a benchmark is never used.

    `expected_contract` is checked against a workbook's cover; `previous` (default: the previous period in the
    history) is compared with this period's totals to warn about implausible swings.
    """
    return_id = return_type_for(framework, period)
    checks = cover_findings(framework, period, parsed, expected_contract)
    if any(f.code == "wrong_template" for f in checks):
        # Another framework's figures: reading them against this one would only list every row as unknown.
        interpretation = Interpretation(findings=list(parsed.findings))
    else:
        interpretation = interpret(framework, return_id, period, parsed)
    merged = {**interpretation.history, **(history or {})}
    values = {**interpretation.values, **(extra_values or {}), **{b.key: b.value for b in benchmarks}}
    card = score(framework, return_id, period, values, history=merged, contract_value=contract_value)
    if benchmarks:
        card = replace(card, indicators=tuple(
            replace(r, notes=r.notes + tuple(benchmark_notes(r.indicator, benchmarks))) for r in card.indicators))
    before = previous if previous is not None else merged.get(period.previous().id)
    swings = swing_findings(framework, return_id, interpretation.values, before, period.previous().id,
                            interpretation.where) if before else []
    findings = (tuple(checks)
                + tuple(period_findings(period, today, parsed.cover_cells.get("period", "")))
                + tuple(interpretation.findings)
                + tuple(cohort_findings(framework, return_id, period, interpretation.values, merged,
                                        interpretation.where))
                + tuple(swings))
    # Errors first, and a bounded list: a file of thousands of problems gets the first ones in full and a count
    # of the rest by kind, so no reply, report or table grows with what a sender throws at kpibot.
    findings = tuple(cap_findings(sorted(findings, key=lambda f: not f.is_error)))
    return Assessment(framework, return_id, period, interpretation, card, findings, tuple(benchmarks))
