"""The intake's side of action plans: each RED in an accepted version opens its indicator's plan, or updates the
one open; an indicator back on target closes it.

Called by the intake inside the transaction that saves the version (holding the return's lock), so the version and
its plans commit together. A version of an older period than the plan's latest neither updates nor closes it (a
late Q1 says nothing about Q2's red). A correction of the same period updates the figures quietly; a later period
still red tells both sides. Each plan is pre-filled from the scoring as seed 002 lays it out: the indicator, its
target, this period's performance and how far off target it is. Nothing is told from here: the scheduler's next
sweep tells what one return did to a contract's plans in one message to each person (`after_return`,
jobs/plans.py, templates/messages/plans_after_return.*), after the reply to the return: the provider hears of the
plans asked for, still red and closed; the council of those still red and closed (it hears of each plan once the
provider completes it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.assessment.submission_kpis import local_date
from bot.plans import table as t
from bot.plans.notify import AfterReturn, PlanStory
from bot.plans.scene import scene_of, story
from bot.storage.audit import record
from bot.storage.models import Contract, IndicatorResultRow, Obligation, Organisation, Submission
from bot.storage.plan_models import ActionPlan, PlanEvent
from kpi_core.calendar import parse_period
from kpi_core.duedates import add_working_days


def prefilled(detail: dict[str, Any]) -> dict[str, str]:
    """The plan's overview and current situation from an indicator's stored result, ready to print."""
    shown = str(detail.get("display_value") or "–")
    if detail.get("cumulative"):
        shown += " (year to date)"
    return dict(title=str(detail.get("name") or "")[:300], target=str(detail.get("target") or "")[:200],
                performance=shown[:200], off_target=str(detail.get("gap_text") or "")[:200])


def version_accepted(session: Session, settings: config.Settings, submission: Submission, channel: str,
                     now: datetime) -> None:
    """Open, update or close the plans of the indicators `submission` scored."""
    obligation = session.get(Obligation, submission.obligation_id)
    contract = session.get(Contract, submission.contract_id)
    if obligation is None or contract is None or submission.id is None:
        return
    results = session.exec(select(IndicatorResultRow).where(IndicatorResultRow.submission_id == submission.id)
                           .order_by(col(IndicatorResultRow.id))).all()
    open_plans = {p.ref: p for p in session.exec(select(ActionPlan).where(
        ActionPlan.contract_id == contract.id, col(ActionPlan.state).in_(t.OPEN_STATES)))}
    for result in results:
        plan = open_plans.get(result.ref)
        if plan is not None and obligation.period_end < plan.period_end:
            continue  # an older period: it neither updates nor closes a plan opened on a later one
        if result.status == "red":
            if plan is None:
                _open(session, settings, contract, obligation, submission, result, channel, now)
            else:
                _red_again(session, plan, obligation, submission, result, channel, now)
        elif result.status == "green" and plan is not None:
            _recover(session, plan, obligation, submission, result, channel, now)


def after_return(session: Session, settings: config.Settings, submission_id: int,
                 events: list[PlanEvent]) -> AfterReturn | None:
    """What one accepted version did to its contract's plans (its plan events), as one message tells it."""
    submission = session.get(Submission, submission_id)
    contract = session.get(Contract, submission.contract_id) if submission else None
    if submission is None or contract is None or submission.period_id is None:
        return None

    def stories(action: str) -> tuple[PlanStory, ...]:
        plans = [session.get(ActionPlan, e.plan_id) for e in events if e.action == action]
        return tuple(story(session, settings, scene_of(session, p)) for p in plans if p is not None)

    provider = session.get(Organisation, contract.provider_id)
    return AfterReturn(contract.name, provider.name if provider else contract.provider_id,
                       parse_period(submission.period_id, contract.year_start_month).label,
                       stories(t.OPEN), stories(t.RED_AGAIN), stories(t.RECOVER))


def _open(session: Session, settings: config.Settings, contract: Contract, obligation: Obligation,
          submission: Submission, result: IndicatorResultRow, channel: str, now: datetime) -> None:
    respond_by = add_working_days(local_date(now, settings.timezone), settings.plans.response_working_days)
    shown = prefilled(result.detail)
    plan = ActionPlan(contract_id=contract.id, ref=result.ref, state=t.REQUESTED, since=now, opened_at=now,
                      opened_by_id=submission.id or 0, submission_id=submission.id or 0,
                      period_id=obligation.period_id, period_end=obligation.period_end, respond_by=respond_by,
                      title=shown["title"], target=shown["target"], performance=shown["performance"],
                      off_target=shown["off_target"])
    session.add(plan)
    session.flush()
    _event(session, plan, t.OPEN, t.NEW, submission, channel, now,
           f"{result.ref} red in version {submission.version} of {obligation.period_id}")


def _red_again(session: Session, plan: ActionPlan, obligation: Obligation, submission: Submission,
               result: IndicatorResultRow, channel: str, now: datetime) -> None:
    """Update the open plan's figures: a later period's red is news to both sides, a correction's is not."""
    later = obligation.period_id != plan.period_id
    session.execute(sa.update(ActionPlan).where(col(ActionPlan.id) == plan.id).values(
        submission_id=submission.id, period_id=obligation.period_id, period_end=obligation.period_end,
        **prefilled(result.detail)))
    session.refresh(plan)
    _event(session, plan, t.RED_AGAIN if later else t.REFRESH, plan.state, submission, channel, now,
           f"still red in version {submission.version} of {obligation.period_id}")


def _recover(session: Session, plan: ActionPlan, obligation: Obligation, submission: Submission,
             result: IndicatorResultRow, channel: str, now: datetime) -> None:
    prior = plan.state
    session.execute(sa.update(ActionPlan).where(col(ActionPlan.id) == plan.id).values(
        state=t.CLOSED, since=now, closed_at=now, closed_how="recovered", submission_id=submission.id,
        period_id=obligation.period_id, period_end=obligation.period_end, **prefilled(result.detail)))
    session.refresh(plan)
    _event(session, plan, t.RECOVER, prior, submission, channel, now,
           f"on target in version {submission.version} of {obligation.period_id}")


def _event(session: Session, plan: ActionPlan, action: str, prior: str, submission: Submission, channel: str,
           now: datetime, note: str) -> None:
    row = t.transition(prior, action)
    assert row is not None
    session.add(PlanEvent(plan_id=plan.id or 0, action=action, from_state=prior, to_state=row.next, actor="kpibot",
                          channel="intake", at=now, submission_id=submission.id, note=note))
    record(session, now, "kpibot", f"plan_{action}", f"action_plan:{plan.id}",
           {"contract": plan.contract_id, "indicator": plan.ref, "submission": submission.id, "from": prior,
            "to": row.next, "channel": channel})
