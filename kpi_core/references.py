"""Figures a return carries for other periods are references, never that period's data.

A return may repeat earlier periods of the year (a CSV's `period` column, a long sheet's period column): only the
accepted return of a period counts for that period, so a provider cannot raise the year to date, or a payment, by
typing figures for a quarter it never sent. The figures are compared with the accepted ones: a difference is
flagged (the accepted figure counts), and figures for a period with no accepted return are said not to count.
"""

from __future__ import annotations

from collections.abc import Mapping

from kpi_core import formatting
from kpi_core.calendar import Period, PeriodError, parse_period
from kpi_core.findings import Finding
from kpi_core.framework.model import Framework
from kpi_core.labels import figure_label
from kpi_core.part_year import WHOLE, ContractSpan
from kpi_core.values import Key, Values


def reference_findings(framework: Framework, period: Period, carried: Mapping[str, Values],
                       where: Mapping[str, Mapping[Key, str]], accepted: Mapping[str, Values],
                       span: ContractSpan = WHOLE) -> list[Finding]:
    """Warnings on the figures a return gives for periods other than its own (`carried`, by period id, with the
    cell or line of each in `where`), against the `accepted` returns of those periods."""
    findings = []
    for period_id in sorted(carried):
        figures, cells = carried[period_id], where.get(period_id, {})
        try:
            other = parse_period(period_id, period.year.start.month)
        except PeriodError:
            continue
        first = next((cells[k] for k in figures if cells.get(k)), "")  # the first as read
        stored = accepted.get(period_id)
        if not span.owes(other):
            findings.append(Finding("warning", "reference_not_owed", f"the figures given for {other.label} are "
                                    "ignored: the contract owes no return for that period", where=first))
        elif stored is None:
            findings.append(Finding(
                "warning", "reference_not_counted", f"the figures given for {other.label} are not counted: only the "
                f"accepted return for {other.label} counts for that period", where=first,
                fix=f"Send the return for {other.label} itself, if it has not been accepted; until it is, the year "
                    "to date and any payment leave it out."))
        else:
            for key in sorted(figures):
                if key in stored and stored[key] != figures[key]:
                    label = figure_label(framework, *key)
                    findings.append(Finding(
                        "warning", "reference_differs", f"{label}, {other.label}: "
                        f"{formatting.number(figures[key], 2)} here, but {formatting.number(stored[key], 2)} in the "
                        "accepted return for that period; the accepted figure counts", where=cells.get(key, ""),
                        item=key[0], fix=f"If the accepted figure is wrong, send a corrected return for "
                                         f"{other.label}."))
    return findings
