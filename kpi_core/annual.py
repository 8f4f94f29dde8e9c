"""An annual return and the periods it adds up: one year, one payment figure.

The annual return gives the full year's figures; the accepted quarterly (or monthly) returns give the same year
period by period. Where they disagree, the annual return gets a finding naming each figure that differs, and the
payment stays the one worked out on the accepted returns of the periods (the figure the last quarter's return
shows), with the annual return's own figure named beside it: never two final figures for one year.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from fractions import Fraction

from kpi_core import formatting
from kpi_core.calendar import Period
from kpi_core.findings import Finding
from kpi_core.framework.model import Framework
from kpi_core.labels import figure_label
from kpi_core.part_year import WHOLE, ContractSpan
from kpi_core.payments import pay
from kpi_core.results import Measure, Scorecard
from kpi_core.scoring import measure, part_frequency, year_to_date
from kpi_core.values import Key, Values

NAMES = {"quarterly": "quarterly returns", "monthly": "monthly returns"}


def part_return(framework: Framework) -> str | None:
    """The framework's return whose periods make up the year (quarterly, or monthly), if it has one."""
    parts = part_frequency(framework)
    return next((rid for rid, spec in framework.returns.items() if spec.frequency == parts), None)


def annual_findings(framework: Framework, annual_id: str, period: Period, values: Values, where: Mapping[Key, str],
                    parts: Mapping[str, Values], span: ContractSpan = WHOLE) -> list[Finding]:
    """Warnings where the annual return's full-year totals differ from the sum of the accepted returns of the
    year's periods (`parts`, by period id), or cannot be checked because some are missing."""
    sub = part_return(framework)
    if sub is None:
        return []
    frequency = framework.returns[sub].frequency
    owed = span.owed(period.year, frequency)
    missing = [p for p in owed if p.id not in parts]
    if missing:
        names = ", ".join(p.label for p in missing)
        return [Finding("warning", "annual_unchecked", f"the full-year figures cannot be checked against the "
                        f"{NAMES[frequency]}: none has been accepted for {names}",
                        fix=f"Send the missing {NAMES[frequency]}; the year's payment is worked out on them.")]
    in_both = {i.id for i in framework.items_for(sub)}
    findings = []
    for item in framework.items_for(annual_id):
        if item.id not in in_both or item.type not in ("count", "sum") or item.source != "provider":
            continue
        key = (item.id, "")
        year = values.get(key)
        given = [parts[p.id].get(key) for p in owed]
        each = [v for v in given if v is not None]
        if year is None or len(each) < len(given):
            continue
        added = sum(each, Fraction(0))
        if added == year:
            continue
        shown = " + ".join(formatting.number(v, 2) for v in each)
        findings.append(Finding(
            "warning", "annual_differs", f"{figure_label(framework, item.id)}: {formatting.number(year, 2)} for the "
            f"year here, but the accepted {NAMES[frequency]} add up to {formatting.number(added, 2)} ({shown})",
            where=where.get(key, ""), item=item.id,
            fix=f"Correct whichever is wrong: this annual return, or the {NAMES[frequency]}. The year's payment is "
                f"worked out on the accepted {NAMES[frequency]}."))
    return findings


def pay_on_parts(card: Scorecard, parts: Mapping[str, Values], contract_value: object) -> Scorecard:
    """The annual return's payments worked out on the accepted returns of the year's periods, where those carry
    the payment's indicator: the same figure the last period's return gives, the annual figure named beside it."""
    framework = card.framework
    sub = part_return(framework)
    if sub is None:
        return card
    frequency = framework.returns[sub].frequency
    refs = {i.ref for i in framework.indicators_for(sub)}
    owed = card.span.owed(card.period.year, frequency)
    payments = []
    for payment in card.payments:
        result = card.result(payment.indicator)
        ind = result.indicator
        if ind.ref not in refs or ind.cohort is not None:
            payments.append(payment)
            continue
        pairs = [(p.id, measure(ind, parts[p.id]), parts[p.id]) for p in owed if p.id in parts]
        counted = [(pid, m, v) for pid, m, v in pairs if m.value is not None or m.numerator is not None]
        pooled = year_to_date(ind, framework, [(m, v) for _, m, v in counted]) if counted else Measure(None)
        missing = tuple(p.id for p in owed if p.id not in {pid for pid, _, _ in counted})
        on_parts = replace(result, ytd=pooled, ytd_periods=tuple(pid for pid, _, _ in counted),
                           missing_periods=missing)
        again = pay(payment.rule, card, contract_value, on_parts)
        lines = [f"Worked out on the accepted {NAMES[frequency]} of {card.period.year.id}, as the last period's "
                 "return is: one payment figure for the year."]
        own = result.period_value.value
        if own is not None and pooled.value is not None and own != pooled.value:
            lines.append(f"This annual return gives {formatting.value(own, ind.kind, ind.per, unit=ind.unit)} for "
                         f"the year, not {formatting.value(pooled.value, ind.kind, ind.per, unit=ind.unit)}: the "
                         "figures that differ are listed in its findings.")
        payments.append(replace(again, arithmetic=tuple(lines) + again.arithmetic))
    return replace(card, payments=tuple(payments))
