"""One call from a parsed return to a verdict: interpret, validate, score."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from kpi_core.calendar import Period
from kpi_core.findings import Finding, has_errors
from kpi_core.framework import Framework
from kpi_core.returns.model import ParsedReturn
from kpi_core.scoring import Scorecard, score
from kpi_core.validation import Interpretation, interpret
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

    @property
    def accepted(self) -> bool:
        return not has_errors(self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.is_error]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.is_error]


def period_findings(period: Period, today: date | None) -> list[Finding]:
    if today is None:
        return []
    if period.start > today:
        return [Finding("error", "future_period", f"{period.label} has not started yet (today is {today:%d %B %Y})",
                        fix="Check the period on the cover sheet or in your message.")]
    if period.end >= today:
        return [Finding("warning", "period_not_ended", f"{period.label} ends on {period.end:%d %B %Y}; figures sent "
                        "before the end of the period may be incomplete")]
    return []


def assess(
    framework: Framework,
    period: Period,
    parsed: ParsedReturn,
    *,
    history: Mapping[str, Mapping[Key, Fraction]] | None = None,
    contract_value: object = None,
    today: date | None = None,
    extra_values: Mapping[Key, Fraction] | None = None,
) -> Assessment:
    """Interpret and score a return. `history` (accepted earlier returns, by period id) wins over earlier
    periods carried in the file; `extra_values` adds system-derived figures (timeliness, accuracy)."""
    return_id = return_type_for(framework, period)
    interpretation = interpret(framework, return_id, period, parsed)
    merged = {**interpretation.history, **(history or {})}
    values = {**interpretation.values, **(extra_values or {})}
    card = score(framework, return_id, period, values, history=merged, contract_value=contract_value)
    findings = tuple(period_findings(period, today)) + tuple(interpretation.findings)
    return Assessment(framework, return_id, period, interpretation, card, findings)
