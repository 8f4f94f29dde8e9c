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

import functools
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from bot import config
from bot.assessment.submission_kpis import local_date
from bot.plans import table as t
from bot.plans.notify import AfterReturn, PlanStory
from bot.plans.scene import scene_of, story
from bot.storage.audit import event_row
from bot.storage.db import table_of
from bot.storage.models import Contract, Obligation, Organisation, Submission
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


Scored = tuple[str, str, dict[str, Any]]  # an indicator's ref, RAG status and stored result (IndicatorResult.as_dict)


class OpenPlan(NamedTuple):
    """A plan still open, as the intake reads it (under the return's lock, with the return's versions)."""

    id: int
    ref: str
    state: str
    period_id: str
    period_end: date


def open_plans(contract_id: sa.BindParameter[Any]) -> sa.Subquery:
    """The contract's open plans: id, ref, state, period_id and period_end (an OpenPlan each), `contract_id` bound
    when the statement runs (the intake reads them under the return's lock, `saving.under_lock`)."""
    plans = table_of(ActionPlan)
    return sa.select(plans.c.id, plans.c.ref, plans.c.state, plans.c.period_id, plans.c.period_end).where(
        plans.c.contract_id == contract_id, plans.c.state.in_(t.OPEN_STATES)).subquery()


def version_accepted(session: Session, settings: config.Settings, submission: Submission, obligation: Obligation,
                     results: Sequence[Scored], channel: str, now: datetime,
                     read: Sequence[OpenPlan]) -> list[dict[str, Any]]:
    """Open, update or close the plans of the indicators `submission` scored (`results`, in the framework's order),
    in a few bulk statements; return the audit events to record with the version's own. `read` is the contract's
    open plans, read under the return's lock in this transaction."""
    assert submission.id is not None and submission.contract_id is not None
    open_plans_by_ref = {row.ref: row for row in read}
    opened: list[dict[str, Any]] = []
    moved: list[tuple[int, str, str, str, str]] = []  # plan id, ref, action, prior state, note
    updates: list[dict[str, Any]] = []
    where = f"version {submission.version} of {obligation.period_id}"
    for ref, status, detail in results:
        plan = open_plans_by_ref.get(ref)
        if plan is not None and obligation.period_end < plan.period_end:
            continue  # an older period: it neither updates nor closes a plan opened on a later one
        if status == "red" and plan is None:
            opened.append(dict(contract_id=submission.contract_id, ref=ref, state=t.REQUESTED, since=now,
                               opened_at=now, opened_by_id=submission.id, submission_id=submission.id,
                               period_id=obligation.period_id, period_end=obligation.period_end,
                               respond_by=None, **prefilled(detail)))
        elif status == "red" or (status == "green" and plan is not None):
            assert plan is not None
            recovered = status == "green"
            later = obligation.period_id != plan.period_id
            action = t.RECOVER if recovered else t.RED_AGAIN if later else t.REFRESH
            moved.append((plan.id, ref, action, plan.state,
                          f"on target in {where}" if recovered else f"still red in {where}"))
            # The row for an open plan: what changes, and what the insert would need (never written: it exists).
            updates.append(dict(b_id=plan.id, contract_id=submission.contract_id, ref=ref, since=now, opened_at=now,
                                opened_by_id=submission.id, respond_by=obligation.period_end,
                                submission_id=submission.id, period_id=obligation.period_id,
                                period_end=obligation.period_end, **prefilled(detail),
                                state=t.CLOSED if recovered else plan.state, closed_at=now if recovered else None,
                                closed_how="recovered" if recovered else ""))
    if opened or updates:
        # One statement (batched) opens the new plans and updates the open ones; rows back in any order: one plan
        # is open per indicator, so its ref names it.
        respond_by = add_working_days(local_date(now, settings.timezone), settings.plans.response_working_days)
        for new in opened:
            new.update(b_id=None, respond_by=respond_by, closed_at=None, closed_how="")
        ids = dict((ref, plan_id) for plan_id, ref in session.execute(
            _open_or_update(session.get_bind().dialect.name), opened + updates))
        moved = [(ids[new["ref"]], new["ref"], t.OPEN, t.NEW, f"{new['ref']} red in {where}")
                 for new in opened] + moved
    if not moved:
        return []
    events, audits = [], []
    for plan_id, ref, action, prior, note in moved:
        row = t.transition(prior, action)
        assert row is not None
        events.append(dict(plan_id=plan_id, action=action, from_state=prior, to_state=row.next, actor="kpibot",
                           channel="intake", at=now, submission_id=submission.id, note=note))
        audits.append(event_row(now, "kpibot", f"plan_{action}", f"action_plan:{plan_id}",
                                {"contract": submission.contract_id, "indicator": ref, "submission": submission.id,
                                 "from": prior, "to": row.next, "channel": channel}))
    session.execute(table_of(PlanEvent).insert(), events)
    return audits


@functools.cache
def _open_or_update(dialect: str) -> sa.Insert:
    """Insert each plan row without an id (`b_id` None: a new plan), and update the open plan each other row names:
    its figures, its state, and `since` only when it closes (its `closed_at`, else kept as it was). Built once per
    database, its values bound at each call; returns each row's id and ref."""
    plans = table_of(ActionPlan)
    if dialect == "postgresql":
        insert: Any = postgresql.insert
        new_id: Any = sa.func.nextval(sa.func.pg_get_serial_sequence("action_plan", "id"))
    else:
        insert, new_id = sqlite.insert, sa.null()  # SQLite numbers a row given no id
    statement = insert(plans).values(id=sa.func.coalesce(sa.bindparam("b_id", type_=sa.Integer), new_id))
    changed = ("submission_id", "period_id", "period_end", "title", "target", "performance", "off_target", "state",
               "closed_at", "closed_how")
    return statement.on_conflict_do_update(
        index_elements=[plans.c.id],
        set_={**{c: statement.excluded[c] for c in changed},
              "since": sa.func.coalesce(statement.excluded.closed_at, plans.c.since)},
    ).returning(plans.c.id, plans.c.ref)


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
