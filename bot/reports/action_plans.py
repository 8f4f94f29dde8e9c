"""Draft performance action plans: one per RED indicator, laid out like the council's template.

The template (seeds/002) asks, for every measure at RED: the indicator overview (title, leads, target), the
performance this period and how far off target it is, the reasons for non-compliance, and the actions: what, how,
who and when. kpibot fills in what it knows and leaves the rest as boxes for the provider to complete (the report
context, context.py, makes one for each red row). Once the provider has a plan for the indicator in kpibot
(bot/plans), the report shows that plan instead of the blank boxes: its state, the reason and actions as written,
and the actions past their date (`with_stored`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from markupsafe import Markup

from bot.assessment.plans import ActionView, PlanView
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
    number: int | None = None  # the plan kpibot keeps for the indicator, when there is one
    state: str = ""  # `agreed, 1 action overdue`
    reason: str = ""
    comment: str = ""
    actions: tuple[ActionView, ...] = ()


def with_stored(drafts: Sequence[ActionPlan], plans: Sequence[PlanView]) -> tuple[ActionPlan, ...]:
    """Each draft with the newest plan kept for its indicator (its state, reason, actions and those overdue)."""
    newest = {p.ref: p for p in sorted(plans, key=lambda p: p.id)}
    found = []
    for draft in drafts:
        plan = newest.get(draft.ref)
        if plan is None:
            found.append(draft)
            continue
        late = len(plan.overdue_actions)
        state = plan.state_words + (f", {late} action{'s' if late != 1 else ''} past its date" if late else "")
        found.append(replace(draft, number=plan.id, state=state, reason=plan.reason, comment=plan.comment,
                             actions=plan.actions))
    return tuple(found)
