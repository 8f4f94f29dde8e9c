"""The action-plan workbook sent to the provider with each plan asked of them (and again, with the council's comment
and what they wrote, when the council returns it): one message per plan to the provider's submitters (as a
reminder goes: its managers when it has none), the workbook attached
(bot/plans/workbook.py). Filled in and sent back through any channel, it completes the plan.

Keyed by plan, revision and state, so each asking sends it once; only plans asked within the last two weeks, so
starting kpibot on an old database sends nothing stale. The file is written to the store before the transaction
that records the notice, like a reminder's return workbook (jobs/attachments.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from functools import partial

from sqlmodel import Session, col, select

from bot import config
from bot.plans import table as t
from bot.plans.scene import scene_of, story
from bot.plans.workbook import facts_of
from bot.storage.files import FileStore
from bot.storage.models import Contract, StoredFile
from bot.storage.plan_models import ActionPlan
from bot.workbooks.plan_facts import file_name
from jobs.messages import render
from jobs.owed import Describer
from jobs.queueing import Decision, Outgoing
from jobs.recipients import Directory
from jobs.timing import Clock

KIND = "plan_workbook"  # templates/messages/plan_workbook.*
RECENT_DAYS = 14
Planned = tuple[Decision, Callable[[Session, Directory, Describer], None]]


def workbook_decisions(session: Session, settings: config.Settings, clock: Clock,
                       files: FileStore) -> list[tuple[str, Callable[[], Planned]]]:
    """A workbook message for each plan asked of the provider (or returned to them) recently, by key."""
    plans = session.exec(select(ActionPlan).where(
        col(ActionPlan.state).in_((t.REQUESTED, t.RETURNED)), col(ActionPlan.since) <= clock.now,
        col(ActionPlan.since) >= clock.now - timedelta(days=RECENT_DAYS)).order_by(col(ActionPlan.id))).all()
    keyed = [(f"plan-workbook:p{plan.id}:r{plan.revision}:{plan.state}", plan) for plan in plans]
    return [(key, partial(_workbook, session, settings, clock, files, key, plan)) for key, plan in keyed]


def _workbook(session: Session, settings: config.Settings, clock: Clock, files: FileStore, key: str,
              plan: ActionPlan) -> Planned:
    contract = session.get(Contract, plan.contract_id)
    assert contract is not None
    decision = Decision(key, KIND, KIND, None, 0, organisations=(contract.provider_id,),
                        why=f"the workbook of action plan {plan.id} ({plan.ref}) of {contract.name}")

    def build(session: Session, directory: Directory, describer: Describer) -> None:
        people = [p for p in directory.submitters(contract.provider_id, contract.id)  # whom returns are asked of
                  if p.channel != "teams" and p.contact_id is not None]
        if not people:
            return
        from bot.workbooks.action_plan import build_plan_workbook  # openpyxl loads only when a workbook is made

        facts = facts_of(session, plan)
        data, name = build_plan_workbook(facts), file_name(facts)
        digest = files.put(data)
        decision.rows.append((StoredFile, dict(sha256=digest, size=len(data), first_seen_at=clock.now,
                                               restricted=False)))
        told = story(session, settings, scene_of(session, plan))
        for person in people:
            message = render(KIND, person, p=told, returned=plan.state == t.RETURNED)
            decision.outgoing.append(Outgoing(person, replace(message, attachment_sha256=digest,
                                                              attachment_name=name)))
    return decision, build
