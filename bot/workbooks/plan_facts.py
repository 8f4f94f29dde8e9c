"""What an action-plan workbook is made from, and its file name (bot/workbooks/action_plan.py writes it).

Apart from the writer, so that what builds these facts does not load openpyxl (and numpy with it) at start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class PlanFacts:
    """What kpibot knows of the plan, every value ready to print."""

    plan_id: int
    revision: int
    contract_id: str
    contract_name: str
    provider_name: str
    ref: str
    title: str
    target: str
    performance: str
    off_target: str
    period_id: str
    period_label: str
    respond_by: str  # `15 October 2025`
    comment: str = ""  # the council's, when it returned the plan
    reason: str = ""  # what the provider wrote last time
    actions: tuple[tuple[str, str, str, date], ...] = ()  # what, how, who, when, written last time


def file_name(facts: PlanFacts) -> str:
    return f"action-plan-{facts.plan_id}-{facts.ref.replace('.', '_')}-{facts.period_id}.xlsx"
