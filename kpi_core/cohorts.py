"""Follow-up cohorts: a rate whose denominator is an earlier period's figure.

"% of 4-week quitters followed up at 6 months" follows up the people who quit six months earlier, not this
quarter's quitters (City and Hackney 1.10 and 1.11). The cohort's size comes from that period's accepted return;
when it is not stored, from the cohort size the provider gives in this return (the indicator's `fallback` item).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from kpi_core import expressions, formatting
from kpi_core.calendar import MONTHS_PER_PERIOD, Period
from kpi_core.expressions import lookup_from
from kpi_core.findings import Finding
from kpi_core.framework.indicators import Indicator
from kpi_core.framework.model import Framework
from kpi_core.values import Values


@dataclass(frozen=True, slots=True)
class CohortSize:
    period: Period | None  # the earlier period the cohort belongs to (None: not a whole number of periods back)
    size: Fraction | None
    source: str  # "stored" | "return" | "" (not known)

    def describe(self, framework: Framework, ind: Indicator) -> str:
        assert ind.cohort is not None
        label = framework.item(ind.cohort.item).label
        when = self.period.label if self.period else f"the period {ind.cohort.months_earlier} months earlier"
        if self.source == "stored":
            return f"Cohort: {label} of {when}: {formatting.number(self.size)} (its accepted return)."
        if self.source == "return":
            return f"Cohort: {label} of {when}: {formatting.number(self.size)} (as given in this return)."
        return f"Cohort unknown: no accepted return for {when} and no cohort size in this return."


def cohort_period(period: Period, months_earlier: int) -> Period | None:
    """The period `months_earlier` before `period`, when that is a whole number of its periods."""
    step = MONTHS_PER_PERIOD[period.frequency]
    if months_earlier % step:
        return None
    earlier = period
    for _ in range(months_earlier // step):
        earlier = earlier.previous()
    return earlier


def cohort_size(ind: Indicator, period: Period, values: Values, history: Mapping[str, Values]) -> CohortSize:
    """The size of the cohort `ind` follows up: the stored earlier figure first, else the return's own."""
    assert ind.cohort is not None
    earlier = cohort_period(period, ind.cohort.months_earlier)
    stored = history.get(earlier.id) if earlier is not None else None
    if stored is not None and (ind.cohort.item, "") in stored:
        return CohortSize(earlier, stored[(ind.cohort.item, "")], "stored")
    if ind.cohort.fallback is not None and (ind.cohort.fallback, "") in values:
        return CohortSize(earlier, values[(ind.cohort.fallback, "")], "return")
    return CohortSize(earlier, None, "")


def cohort_periods(framework: Framework, return_id: str, period: Period) -> list[Period]:
    """The earlier periods whose stored figures the cohort indicators of this return need."""
    found = []
    for ind in framework.indicators_for(return_id):
        if ind.cohort is not None:
            earlier = cohort_period(period, ind.cohort.months_earlier)
            if earlier is not None and earlier not in found:
                found.append(earlier)
    return found


def numerator(ind: Indicator, values: Values) -> Fraction | None:
    return expressions.compute(expressions.parse(ind.numerator or ""), lookup_from(values))


def cohort_findings(framework: Framework, return_id: str, period: Period, values: Values,
                    history: Mapping[str, Values], where: Mapping[tuple[str, str], str] | None = None) -> list[Finding]:
    """A follow-up count larger than its stored cohort is impossible (error); an unknown cohort is asked for
    (warning). A count larger than the cohort size given in the return breaks a generated rule instead."""
    findings = []
    for ind in framework.indicators_for(return_id):
        if ind.cohort is None:
            continue
        count = numerator(ind, values)
        if count is None:
            continue
        cohort = cohort_size(ind, period, values, history)
        label = framework.item(ind.cohort.item).label
        when = cohort.period.label if cohort.period else f"the period {ind.cohort.months_earlier} months earlier"
        cells = sorted({(where or {}).get((r.item, r.breakdown_key), "")
                        for r in expressions.refs(expressions.parse(ind.numerator or ""))} - {""})
        if cohort.size is None:
            fallback = f" ({ind.cohort.fallback})" if ind.cohort.fallback else ""
            findings.append(Finding("warning", "cohort_unknown", f"{ind.ref}: {label} of {when} is not stored, so "
                                    f"{ind.name.lower()} cannot be worked out", where=", ".join(cells), item=ind.ref,
                                    fix=f"Enter the size of that cohort{fallback} in this return."))
        elif count > cohort.size and cohort.source == "stored":  # the return's own size is a generated rule
            findings.append(Finding("error", "cohort_exceeded", f"{ind.ref}: {formatting.number(count)} followed up "
                                    f"is more than the cohort they come from, {label} of {when} "
                                    f"({formatting.number(cohort.size)})", where=", ".join(cells), item=ind.ref,
                                    fix="Count only people from that cohort; check both figures."))
    return findings
