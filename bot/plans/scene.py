"""What every plan move needs to know, read once: the plan, its contract and provider, its period's label, its
current actions, and the story its messages are written from."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlmodel import Session, col, select

from bot import config
from bot.plans.notify import ActionLine, PlanStory
from bot.storage.models import Contract, Organisation
from bot.storage.plan_models import ActionPlan, PlanAction
from kpi_core.calendar import parse_period

NOT_YOURS = "That action plan is not one you may see: it is not one of your contracts."


def long_day(day: date) -> str:
    """`Wednesday 15 October 2025`."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def short_day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


@dataclass
class PlanScene:
    plan: ActionPlan
    contract: Contract
    provider_name: str
    period_label: str

    @property
    def what(self) -> str:
        """`action plan 3 (1.5 Smoking quitters), City and Hackney Stop Smoking Service`."""
        return f"action plan {self.plan.id} ({self.plan.ref} {self.plan.title}), {self.contract.name}"


def scene_of(session: Session, plan: ActionPlan) -> PlanScene:
    contract = session.get(Contract, plan.contract_id)
    assert contract is not None
    provider = session.get(Organisation, contract.provider_id)
    return PlanScene(plan, contract, provider.name if provider else contract.provider_id,
                     parse_period(plan.period_id, contract.year_start_month).label)


def actions_of(session: Session, plan: ActionPlan) -> list[PlanAction]:
    """The actions of the plan's current revision, in the order written."""
    return list(session.exec(select(PlanAction).where(PlanAction.plan_id == plan.id,
                                                      PlanAction.revision == plan.revision)
                             .order_by(col(PlanAction.number))))


def story(session: Session, settings: config.Settings, scene: PlanScene, **values: object) -> PlanStory:
    plan = scene.plan
    lines = tuple(ActionLine(a.number, a.what, a.how, a.who, short_day(a.due)) for a in actions_of(session, plan))
    base = PlanStory(plan.id or 0, scene.contract.name, scene.provider_name, plan.ref, plan.title, plan.target,
                     plan.performance, plan.off_target, scene.period_label, long_day(plan.respond_by),
                     reason=plan.reason, actions=lines, comment=plan.comment)
    return replace(base, **values)  # type: ignore[arg-type]
