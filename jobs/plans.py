"""Action plans and requests for information chased like returns: a plan still to complete is reminded before its
deadline and chased once after it; each agreed action is reminded once before its date and, once past it, climbs the
escalation ladder (jobs/ladder.py) at each overdue notice (four at most) until its plan closes or is completed again.

A plan asked of the provider (or returned to them) is due `[plans] response_working_days` after the return whose red
opened it: a reminder goes `[plans] reminder_days` before (on the working day before when that is a holiday), an
overdue notice the working day after, to the provider, with the council told. An agreed plan's actions are
dated commitments: `[plans] action_reminder_days` before an action's date the provider is reminded; the working
day after it, the provider and the council are told it has passed; at each later overdue notice (`[scheduler]
overdue_every_days`, up to `overdue_max`, four at most) it is a warning, the provider's manager and the
commissioner told.
Each notice is keyed by plan (or action) and stage (or rung), so it goes once; a plan closed, completed or
returned stops what no longer applies. A request for information is reminded `[plans] reminder_days` before its
deadline and chased after it like a return (`[scheduler] overdue_every_days`, up to `overdue_max`), the council
told too, until it is answered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from functools import partial

from sqlmodel import Session, col, select

from bot import config
from bot.plans import table as t
from bot.plans.hooks import after_return
from bot.plans.notify import ActionLine, AfterReturn
from bot.plans.requests import story_of
from bot.plans.scene import scene_of, short_day, story
from bot.storage.models import Contract
from bot.storage.plan_models import ActionPlan, InfoRequest, PlanAction, PlanEvent
from jobs.ladder import Ladder
from jobs.messages import days_text, ordinal, render, when_text
from jobs.owed import Describer
from jobs.queueing import Decision, Outgoing
from jobs.recipients import Directory
from jobs.timing import Clock, due_overdue, first_overdue_day, reminder_day

PROVIDER = ("provider_submitter", "provider_manager")
AFTER_RETURN = "plans_after_return"  # templates/messages/plans_after_return.*: for people, no Teams card
RECENT_DAYS = 14  # a return's plans are told by the next sweep in sending hours: well within this
COUNCIL = ("commissioner",)
Build = Callable[[Session, Directory, Describer], None]
Planned = tuple[Decision, Build]
# An agreed action still past its date climbs the escalation ladder of late returns (jobs/ladder.py), one rung at
# each overdue notice ([scheduler] overdue_every_days, up to overdue_max): told to the provider and the council the
# working day after its date, then warned with the provider's manager and the commissioner told. The contract's
# service-failure count is about late returns, not actions: an action's ladder has no such rung.
ACTION_LADDER = Ladder(None)
# An action is chased at most this many times (a month of weekly notices, the last three warnings to the manager and
# the commissioners); after that it stays in the reports, the digest and the meeting pack as overdue until its plan
# closes. A return is chased until it is accepted, but an action has no "done" for kpibot to see.
ACTION_NOTICES = 4


def plan_decisions(session: Session, settings: config.Settings,
                   clock: Clock) -> list[tuple[str, Callable[[], Planned]]]:
    """The reminder or overdue notice each open plan and agreed action needs now, by key."""
    p, s = settings.plans, settings.scheduler
    found: list[tuple[str, Callable[[], Planned]]] = []
    waiting = session.exec(select(ActionPlan).where(col(ActionPlan.state).in_((t.REQUESTED, t.RETURNED)))
                           .order_by(col(ActionPlan.id))).all()
    groups: dict[tuple[str, date], list[ActionPlan]] = {}
    for plan in waiting:  # the plans one return asked for share a deadline: one notice for them all
        groups.setdefault((plan.contract_id, plan.respond_by), []).append(plan)
    for (contract_id, due), plans in groups.items():
        since = max(clock.local_date(plan.since) for plan in plans)
        if reminder_day(due, p.reminder_days) <= clock.today <= due and reminder_day(due, p.reminder_days) > since:
            key = f"plan-reminder:{contract_id}:{due.isoformat()}"
            found.append((key, partial(_plan_notice, session, settings, key, plans, "plan_reminder", PROVIDER,
                                       when=when_text((due - clock.today).days))))
        if clock.today >= first_overdue_day(due):
            key = f"plan-overdue:{contract_id}:{due.isoformat()}"
            found.append((key, partial(_plan_notice, session, settings, key, plans, "plan_overdue",
                                       PROVIDER + COUNCIL, overdue=days_text((clock.today - due).days))))
    agreed = session.exec(select(ActionPlan, PlanAction).join(
        PlanAction, (col(PlanAction.plan_id) == ActionPlan.id) & (col(PlanAction.revision) == ActionPlan.revision))
        .where(ActionPlan.state == t.AGREED)).all()
    for plan, action in agreed:
        if reminder_day(action.due, p.action_reminder_days) <= clock.today <= action.due \
                and plan.agreed_at is not None and clock.local_date(plan.agreed_at) < action.due:
            key = f"plan-action-reminder:a{action.id}"
            found.append((key, partial(_action_notice, session, settings, key, plan, action, "plan_action_reminder",
                                       PROVIDER, when=when_text((action.due - clock.today).days))))
        most = min(s.overdue_max or ACTION_NOTICES, ACTION_NOTICES)
        n = due_overdue(action.due, clock.today, s.overdue_every_days, most)
        if n is None:
            continue
        step, overdue = ACTION_LADDER.step(n), days_text((clock.today - action.due).days)
        if step.kind == "late":  # the first rung: the provider and the council told the date has passed
            key = f"plan-action-overdue:a{action.id}"
            found.append((key, partial(_action_notice, session, settings, key, plan, action, "plan_action_overdue",
                                       PROVIDER + COUNCIL, level=step.level, overdue=overdue)))
        else:  # still not done at the next overdue notice: a warning, the provider's manager and the council told
            key = f"plan-action-ladder:a{action.id}:n{n}"
            found.append((key, partial(_action_notice, session, settings, key, plan, action, "plan_action_warning",
                                       step.audience, level=step.level, overdue=overdue, notice=ordinal(n),
                                       last=n == most,
                                       every="week" if s.overdue_every_days == 7 else days_text(s.overdue_every_days))))
    found += _after_returns(session, settings, clock)
    found += _request_decisions(session, settings, clock)
    return found


def _after_returns(session: Session, settings: config.Settings,
                   clock: Clock) -> list[tuple[str, Callable[[], Planned]]]:
    """One message per person for each recent return that opened, updated or closed plans (after its reply)."""
    events = session.exec(select(PlanEvent).where(
        col(PlanEvent.action).in_((t.OPEN, t.RED_AGAIN, t.RECOVER)), col(PlanEvent.submission_id).is_not(None),
        col(PlanEvent.at) >= clock.now - timedelta(days=RECENT_DAYS), col(PlanEvent.at) <= clock.now)
        .order_by(col(PlanEvent.id))).all()
    by_return: dict[int, list[PlanEvent]] = {}
    for event in events:
        by_return.setdefault(event.submission_id or 0, []).append(event)
    return [(f"plans-after-return:s{sid}", partial(_after_return, session, settings, sid, found))
            for sid, found in by_return.items()]


def _after_return(session: Session, settings: config.Settings, submission_id: int,
                  events: list[PlanEvent]) -> Planned:
    key = f"plans-after-return:s{submission_id}"
    after = after_return(session, settings, submission_id, events)
    plan = session.get(ActionPlan, events[0].plan_id)
    contract = session.get(Contract, plan.contract_id) if plan else None
    if after is None or contract is None:
        return Decision(key, "plans_after_return", "plans_after_return"), _nothing
    decision = Decision(key, "plans_after_return", "plans_after_return", None, 0,
                        organisations=(contract.provider_id, contract.commissioner_id),
                        why=f"action plans after a return of {contract.name}")

    def build(session: Session, directory: Directory, describer: Describer) -> None:
        tells: list[tuple[str, tuple[str, ...], AfterReturn]] = [(contract.provider_id, PROVIDER, after)]
        if after.again or after.recovered:  # the council hears of a plan when it is completed, not when asked
            tells.append((contract.commissioner_id, COUNCIL, replace(after, opened=())))
        for org, roles, what in tells:
            for person in directory.people(org, contract.id, roles):
                if person.channel != "teams":
                    decision.outgoing.append(Outgoing(person, render(
                        AFTER_RETURN, person, r=what, council=org == contract.commissioner_id)))
    return decision, build


def names(found: list[str]) -> str:
    """`Ann`, `Ann and Bob`, `Ann, Bob and Cy`."""
    if not found:
        return "nobody"
    return found[0] if len(found) == 1 else ", ".join(found[:-1]) + " and " + found[-1]


def _nothing(session: Session, directory: Directory, describer: Describer) -> None:
    """A decision with nothing to say (its return is gone): recorded, so it is not made again."""


def _request_decisions(session: Session, settings: config.Settings,
                       clock: Clock) -> list[tuple[str, Callable[[], Planned]]]:
    """Open requests for information: a reminder before the deadline, overdue notices after it (as for returns)."""
    p, s = settings.plans, settings.scheduler
    found: list[tuple[str, Callable[[], Planned]]] = []
    for request in session.exec(select(InfoRequest).where(InfoRequest.state == "open")).all():
        due = request.due
        if reminder_day(due, p.reminder_days) <= clock.today <= due \
                and reminder_day(due, p.reminder_days) > clock.local_date(request.asked_at):
            key = f"request-reminder:q{request.id}"
            found.append((key, partial(_request_notice, session, settings, key, request, "request_reminder",
                                       PROVIDER, when=when_text((due - clock.today).days))))
        n = due_overdue(due, clock.today, s.overdue_every_days, s.overdue_max)
        if n is not None:
            key = f"request-overdue:q{request.id}:n{n}"
            found.append((key, partial(_request_notice, session, settings, key, request, "request_overdue",
                                       PROVIDER + COUNCIL, overdue=days_text((clock.today - due).days))))
    return found


def _request_notice(session: Session, settings: config.Settings, key: str, request: InfoRequest, kind: str,
                    roles: tuple[str, ...], **words: object) -> Planned:
    contract = session.get(Contract, request.contract_id)
    assert contract is not None
    orgs = (contract.provider_id,) + ((contract.commissioner_id,) if "commissioner" in roles else ())
    decision = Decision(key, kind, kind, None, 0, organisations=orgs,
                        why=f"request {request.id} ({request.what}) of {contract.name}")

    def build(session: Session, directory: Directory, describer: Describer) -> None:
        told = story_of(session, settings, request)
        for org, wanted in ((contract.provider_id, PROVIDER), (contract.commissioner_id, COUNCIL)):
            if set(wanted) & set(roles):
                for person in directory.people(org, contract.id, wanted):
                    if person.channel != "teams":  # notices for people: no Teams card is written for them
                        decision.outgoing.append(Outgoing(person, render(
                            kind, person, r=told, council=org == contract.commissioner_id, **words)))
    return decision, build


def _plan_notice(session: Session, settings: config.Settings, key: str, plans: list[ActionPlan], kind: str,
                 roles: tuple[str, ...], **words: object) -> Planned:
    """One notice about the plans of a contract that share a deadline."""
    contract = session.get(Contract, plans[0].contract_id)
    assert contract is not None
    orgs = (contract.provider_id,) + ((contract.commissioner_id,) if "commissioner" in roles else ())
    decision = Decision(key, kind, kind, None, 0, organisations=orgs,
                        why=f"{len(plans)} action plan{'s' if len(plans) != 1 else ''} of {contract.name}")

    def build(session: Session, directory: Directory, describer: Describer) -> None:
        stories = tuple(story(session, settings, scene_of(session, plan)) for plan in plans)
        for org, wanted in ((contract.provider_id, PROVIDER), (contract.commissioner_id, COUNCIL)):
            if set(wanted) & set(roles):
                for person in directory.people(org, contract.id, wanted):
                    if person.channel != "teams":  # notices for people: no Teams card is written for them
                        decision.outgoing.append(Outgoing(person, render(
                            kind, person, plans=stories, first=stories[0],
                            council=org == contract.commissioner_id, **words)))
    return decision, build


def _action_notice(session: Session, settings: config.Settings, key: str, plan: ActionPlan, action: PlanAction,
                   kind: str, roles: tuple[str, ...], level: int = 0, **words: object) -> Planned:
    decision, build = _notice(session, settings, key, plan, action, kind, roles, **words)
    decision.level = level  # the ladder's rung, recorded with the notice
    return decision, build


def _notice(session: Session, settings: config.Settings, key: str, plan: ActionPlan, action: PlanAction | None,
            kind: str, roles: tuple[str, ...], **words: object) -> Planned:
    contract = session.get(Contract, plan.contract_id)
    assert contract is not None
    orgs = (contract.provider_id,) + ((contract.commissioner_id,) if "commissioner" in roles else ())
    what = f"action plan {plan.id} ({plan.ref})" + (f", action {action.number}" if action else "")
    decision = Decision(key, kind, kind, None, 0, organisations=orgs, why=f"{what} of {contract.name}")

    def build(session: Session, directory: Directory, describer: Describer) -> None:
        told = story(session, settings, scene_of(session, plan))
        line = ActionLine(action.number, action.what, action.how, action.who, short_day(action.due)) \
            if action else None
        people = [(org, person) for org, wanted in ((contract.provider_id, PROVIDER),
                                                    (contract.commissioner_id, COUNCIL))
                  if set(wanted) & set(roles)
                  for person in directory.people(org, contract.id, [r for r in wanted if r in roles])
                  if person.channel != "teams"]  # plan notices are for people: no Teams card is written for them
        copied = names([person.name for _, person in people])
        for org, person in people:
            message = render(kind, person, p=told, action=line, council=org == contract.commissioner_id,
                             copied=copied, **words)
            decision.outgoing.append(Outgoing(person, message))
    return decision, build

