"""The intake's side of action plans: each RED in an accepted version opens its indicator's plan, or updates the
one open; an indicator back on target closes it.

Called by the intake inside the transaction that saves the version (holding the return's lock), so the version and
its plans commit together. A version of an older period than the plan's latest neither updates nor closes it (a
late Q1 says nothing about Q2's red). A correction of the same period updates the figures quietly; a later period
still red tells both sides. Each plan is pre-filled from the scoring as seed 002 lays it out: the indicator, its
target, this period's performance and how far off target it is.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.assessment.submission_kpis import local_date
from bot.plans import table as t
from bot.plans.notify import People, tell
from bot.plans.scene import scene_of, story
from bot.review.messages import when
from bot.storage.audit import record
from bot.storage.models import Contract, IndicatorResultRow, Obligation, Submission
from bot.storage.plan_models import ActionPlan, PlanEvent
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
                _red_again(session, settings, plan, obligation, submission, result, channel, now)
        elif result.status == "green" and plan is not None:
            _recover(session, settings, plan, obligation, submission, result, channel, now)


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
    _event(session, settings, plan, t.OPEN, t.NEW, submission, channel, now,
           f"{result.ref} red in version {submission.version} of {obligation.period_id}", tell_people=True)


def _red_again(session: Session, settings: config.Settings, plan: ActionPlan, obligation: Obligation,
               submission: Submission, result: IndicatorResultRow, channel: str,
               now: datetime) -> None:
    later = obligation.period_id != plan.period_id
    session.execute(sa.update(ActionPlan).where(col(ActionPlan.id) == plan.id).values(
        submission_id=submission.id, period_id=obligation.period_id, period_end=obligation.period_end,
        **prefilled(result.detail)))
    session.refresh(plan)
    _event(session, settings, plan, t.RED_AGAIN, plan.state, submission, channel, now,
           f"still red in version {submission.version} of {obligation.period_id}", tell_people=later)


def _recover(session: Session, settings: config.Settings, plan: ActionPlan, obligation: Obligation,
             submission: Submission, result: IndicatorResultRow, channel: str, now: datetime) -> None:
    prior = plan.state
    session.execute(sa.update(ActionPlan).where(col(ActionPlan.id) == plan.id).values(
        state=t.CLOSED, since=now, closed_at=now, closed_how="recovered", submission_id=submission.id,
        period_id=obligation.period_id, period_end=obligation.period_end, **prefilled(result.detail)))
    session.refresh(plan)
    _event(session, settings, plan, t.RECOVER, prior, submission, channel, now,
           f"on target in version {submission.version} of {obligation.period_id}", tell_people=True)


def _event(session: Session, settings: config.Settings, plan: ActionPlan, action: str, prior: str,
           submission: Submission, channel: str, now: datetime, note: str, tell_people: bool) -> None:
    row = t.transition(prior, action)
    assert row is not None
    event = PlanEvent(plan_id=plan.id or 0, action=action, from_state=prior, to_state=row.next, actor="kpibot",
                      channel="intake", at=now, submission_id=submission.id, note=note)
    session.add(event)
    session.flush()
    told = 0
    if tell_people:
        scene = scene_of(session, plan)
        told = len(tell(session, settings, tuple((x.template, x.to) for x in row.tell), event,
                        story(session, settings, scene, when=when(now, settings), recovered=action == t.RECOVER),
                        People.of(session, scene.contract, exclude=None)))
    record(session, now, "kpibot", f"plan_{action}", f"action_plan:{plan.id}",
           {"contract": plan.contract_id, "indicator": plan.ref, "submission": submission.id, "from": prior,
            "to": row.next, "channel": channel, "told": told})
