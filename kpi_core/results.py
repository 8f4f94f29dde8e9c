"""What scoring and payment arithmetic produce: each indicator's measure and judgement, the payments, the
scorecard of a return. Plain frozen values, shared by scoring, payments, reports and storage."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from kpi_core import formatting
from kpi_core.calendar import Period
from kpi_core.framework.indicators import Indicator
from kpi_core.framework.model import Framework
from kpi_core.framework.payment_rules import PaymentRule
from kpi_core.part_year import WHOLE, ContractSpan
from kpi_core.per_object import once_per_object
from kpi_core.thresholds import Threshold

# "part": a payment-by-results tier short of its stretch target but past the minimum: it earns part payment, and
# is neither a failure (no action plan) nor on target.
Status = Literal["green", "part", "amber", "red", "info", "no_data"]
STATUS_ORDER: dict[str, int] = {"red": 0, "amber": 1, "no_data": 2, "part": 3, "green": 4, "info": 5}


@dataclass(frozen=True, slots=True)
class Measure:
    value: Fraction | None
    numerator: Fraction | None = None
    denominator: Fraction | None = None


@dataclass(frozen=True, slots=True)
class Judgement:
    status: Status
    critical_failure: bool = False
    stretch_met: bool = False
    target: Fraction | None = None
    critical: Fraction | None = None
    stretch: Fraction | None = None
    gap: Fraction | None = None
    note: str = ""
    at_risk: bool = False  # in-year: the year-end forecast is at or past an annual critical-failure level


@dataclass(frozen=True)
class IndicatorResult:
    indicator: Indicator
    period_value: Measure
    judged_value: Measure  # the year to date for cumulative indicators, else the period value
    judgement: Judgement
    ytd: Measure | None = None
    ytd_periods: tuple[str, ...] = ()
    missing_periods: tuple[str, ...] = ()
    expected_share: Fraction = Fraction(1)  # share of the annual target expected by the end of this period
    forecast: Fraction | None = None
    forecast_judgement: Judgement | None = None
    interval: tuple[float, float] | None = None
    low_confidence: bool = False
    confidence_note: str = ""
    notes: tuple[str, ...] = ()
    year_share: Fraction = Fraction(1)  # of the annual target: the periods the contract owes (1 for a whole year)

    @property
    def ref(self) -> str:
        return self.indicator.ref

    @property
    def status(self) -> Status:
        return self.judgement.status

    @property
    def value(self) -> Fraction | None:
        return self.period_value.value

    @property
    def gap_text(self) -> str:
        ind, j = self.indicator, self.judgement
        if j.status in ("info", "no_data") or j.target is None:
            return ""
        if j.status == "green":
            return "on target"
        if j.status == "part":
            return f"earns part payment: {formatting.gap(j.gap or 0, ind.kind, ind.per)} short of the stretch target"
        if not j.gap:
            return f"on the limit: target is {describe_threshold(ind, ind.target)}"
        return f"{formatting.gap(j.gap, ind.kind, ind.per, ind.unit)} off target"

    def as_dict(self) -> dict[str, object]:
        ind, j = self.indicator, self.judgement
        ref, name, section, kind, direction, target, critical, stretch = _described(ind)
        out: dict[str, object] = {
            "ref": ref,
            "name": name,
            "section": section,
            "kind": kind,
            "direction": direction,
            "value": _num(self.period_value.value),
            "numerator": _num(self.period_value.numerator),
            "denominator": _num(self.period_value.denominator),
            "target": target,
            "target_value": _num(j.target),
            "critical": critical,
            "stretch": stretch,
            "status": j.status,
            "critical_failure": j.critical_failure,
            "at_risk_of_critical_failure": j.at_risk,
            "stretch_met": j.stretch_met,
            "gap": _num(j.gap),
            "gap_text": self.gap_text,
            "display_value": formatting.value(self.judged_value.value, ind.kind, ind.per, unit=ind.unit),
            "information_only": ind.information_only,
            "cumulative": ind.cumulative,
            "notes": list(self.notes) + ([j.note] if j.note else []),
        }
        if ind.cumulative:
            out["year_to_date"] = _num(self.ytd.value) if self.ytd else None
            out["year_to_date_periods"] = list(self.ytd_periods)
            out["missing_periods"] = list(self.missing_periods)
            out["expected_share_of_annual_target"] = _num(self.expected_share)
            out["forecast"] = _num(self.forecast)
            out["forecast_status"] = self.forecast_judgement.status if self.forecast_judgement else None
        if self.interval is not None:
            out["interval_95"] = [round(self.interval[0], 2), round(self.interval[1], 2)]
            out["low_confidence"] = self.low_confidence
            out["confidence_note"] = self.confidence_note
        return out


@dataclass(frozen=True)
class Scorecard:
    framework: Framework
    return_id: str
    period: Period
    indicators: tuple[IndicatorResult, ...]
    payments: tuple[PaymentResult, ...] = ()
    notes: tuple[str, ...] = ()
    span: ContractSpan = WHOLE  # when the contract runs: a part year owes fewer periods

    @property
    def year_complete(self) -> bool:
        return self.period.frequency == "annual" or self.span.completes_year(self.period)

    def result(self, ref: str) -> IndicatorResult:
        return next(r for r in self.indicators if r.ref == ref)

    def counts(self) -> dict[str, int]:
        counts = {s: 0 for s in STATUS_ORDER}
        for r in self.indicators:
            counts[r.status] += 1
        return counts


@once_per_object
def _described(ind: Indicator) -> tuple[str, str, str, str, str, str | None, str | None, str | None]:
    """What an indicator's stored result says of the indicator itself (the same for every return): worked out
    once per indicator, as its thresholds are formatted."""
    return (ind.ref, ind.name, ind.section, ind.kind, "higher" if ind.higher_is_better else "lower",
            describe_threshold(ind, ind.target) if ind.target else (ind.target_text or None),
            describe_threshold(ind, ind.critical) if ind.critical else None,
            describe_threshold(ind, ind.stretch) if ind.stretch else None)


def _num(value: Fraction | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value.denominator == 1 else round(float(value), 6)


def describe_threshold(ind: Indicator, threshold: Threshold | None, bound: Fraction | None = None) -> str:
    """`>= 50%`, `< 15%`, `>= 8.5`, `> previous period`."""
    if threshold is None:
        return ""
    if threshold.previous and bound is None:
        return f"{threshold.op} previous period"
    if bound is None and threshold.bound is None:
        return f"{threshold.op} benchmark"  # a benchmark's name needs the framework: bot.reports.display names it
    value = bound if bound is not None else threshold.bound
    if ind.kind == "percentage":
        return f"{threshold.op} {formatting.number(value, 2)}%"
    unit = ind.unit if ind.kind != "rate" else ""
    return formatting.with_unit(f"{threshold.op} {formatting.number(value, 2)}", unit)


@dataclass(frozen=True)
class PaymentResult:
    rule: PaymentRule
    indicator: str
    basis: Fraction | None  # the value the payment is worked out on
    basis_label: str  # "year to date", "forecast for the year", "year"
    earned_share: Fraction  # of contract value
    max_share: Fraction
    amount: Decimal | None
    maximum: Decimal | None
    forecast: bool
    arithmetic: tuple[str, ...]
    critical_failure: bool = False  # only on a full year: an annual level is failed on the full year
    at_risk: bool = False  # not final, and the figure worked on is past the critical level
    missing_periods: tuple[str, ...] = ()  # periods of the year with no figures: the payment is provisional

    @property
    def state(self) -> str:
        """`calculated` on a full year, `provisional` when periods of the year are missing, else `forecast`. Only a
        person confirms a payment (bot/review/payments.py): kpibot calculates it."""
        if self.missing_periods:
            return "provisional"
        return "forecast" if self.forecast else "calculated"

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule.id,
            "name": self.rule.name,
            "kind": self.rule.kind,
            "indicator": self.indicator,
            "basis": None if self.basis is None else float(self.basis),
            "basis_label": self.basis_label,
            "share_of_contract_value": float(self.earned_share),
            "max_share_of_contract_value": float(self.max_share),
            "amount": None if self.amount is None else float(self.amount),
            "maximum": None if self.maximum is None else float(self.maximum),
            "forecast": self.forecast,
            "state": self.state,
            "missing_periods": list(self.missing_periods),
            "critical_failure": self.critical_failure,
            "at_risk_of_critical_failure": self.at_risk,
            "arithmetic": list(self.arithmetic),
        }
