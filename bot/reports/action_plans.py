"""Draft performance action plans: one per RED indicator, laid out like the council's template.

The template (seeds/002) asks, for every measure at RED: the indicator overview (title, leads, target), the
performance this period and how far off target it is, the reasons for non-compliance, and the actions: what, how,
who and when. kpibot fills in what it knows and leaves the rest as boxes for the provider to complete (the report
context, context.py, makes one for each red row).
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from bot.reports.status import StatusView

# The boxes of the template the provider completes, with the template's own prompts.
OVERVIEW_BLANKS = ("Strategic Director Lead", "Departmental Lead")
REASON_PROMPT = "Detail the reason(s) for non-compliance"
ACTION_BOXES = (
    ("What", "is required"),
    ("How", "will it be achieved"),
    ("Who", "will be responsible"),
    ("When", "will results be realised"),
)
FORM = {"overview_blanks": OVERVIEW_BLANKS, "reason_prompt": REASON_PROMPT, "action_boxes": ACTION_BOXES}


@dataclass(frozen=True)
class ActionPlan:
    contract_name: str
    provider_name: str
    return_label: str
    period_label: str
    ref: str
    title: str
    section: str
    target: str
    performance: str  # `1,693 (year to date)`
    off_target: str  # `1,807 off target`
    status: StatusView
    critical_failure: bool
    notes: tuple[str, ...]
    chart: Markup | None
