"""The action-plan workbook: made for one open plan (bot/workbooks/action_plan.py), and, when it comes back through
any channel (the intake recognises it by its hidden sheet: kpi_core/returns/plan_sheet.py), checked and sent with
`acts.complete`, the one place a plan moves.

Before the plan moves, the answer to a workbook that cannot complete it says exactly why: it is another contract's
or indicator's plan, or one that is not the sender's; it was made for an older version of the plan (completed,
agreed or closed since); the reason is blank; an action row lacks a part or its date (which row, which cell). The
rules for each part are bot/plans/drafts.py's, the same for every channel.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Session

from bot import config
from bot.assessment.submission_kpis import local_date
from bot.plans import table as t
from bot.plans.acts import complete, part_in
from bot.plans.drafts import MIN_REASON, PART_WORDS, PARTS, ActionDraft, when_checked, who_problem
from bot.plans.listing import plan_for
from bot.plans.scene import actions_of, scene_of, short_day
from bot.review.actions import clean
from bot.review.scene import Act, Outcome, Refused, actor
from bot.storage.models import Contact
from bot.storage.plan_models import ActionPlan
from bot.workbooks.plan_facts import PlanFacts, file_name
from kpi_core.returns.plan_sheet import PlanSheet

AGAIN = "Correct the workbook and send it again; nothing was saved."


def facts_of(session: Session, plan: ActionPlan) -> PlanFacts:
    """What the workbook shows of `plan`: the overview and situation, and what the provider wrote last time."""
    scene = scene_of(session, plan)
    written = tuple((a.what, a.how, a.who, a.due) for a in actions_of(session, plan)) \
        if plan.state == t.RETURNED else ()
    return PlanFacts(plan.id or 0, plan.revision, plan.contract_id, scene.contract.name, scene.provider_name,
                     plan.ref, plan.title, plan.target, plan.performance, plan.off_target, plan.period_id,
                     scene.period_label, short_day(plan.respond_by),
                     comment=plan.comment if plan.state == t.RETURNED else "",
                     reason=plan.reason if plan.state == t.RETURNED else "", actions=written)


def workbook(session: Session, contact: Contact | None, plan_id: int, today: date) -> tuple[str, bytes]:
    """(file name, .xlsx bytes) of the plan's workbook, for someone who may see the plan (everyone: `contact`
    None); a closed plan has none."""
    plan_for(session, contact, plan_id, today)  # refused in the same words whether or not it exists
    plan = session.get(ActionPlan, plan_id)
    assert plan is not None
    if plan.state == t.CLOSED:
        raise Refused(f"Action plan {plan_id} ({plan.ref} {plan.title}) is closed: it has no workbook to fill in.",
                      "closed")
    from bot.workbooks.action_plan import build_plan_workbook  # openpyxl loads only when a workbook is made

    facts = facts_of(session, plan)
    return file_name(facts), build_plan_workbook(facts)


def complete_from(engine: sa.Engine, settings: config.Settings, act: Act, sheet: PlanSheet) -> Outcome:
    """Complete the plan the workbook was made for, with what it holds; Refused saying what to correct."""
    if sheet.problem:
        raise Refused(f"This action-plan workbook cannot be read: {sheet.problem}.", "bad_workbook")
    marker = sheet.marker
    if not marker["plan"].isdigit() or not marker["revision"].isdigit():
        raise Refused("This action-plan workbook's hidden kpibot sheet was changed, so kpibot cannot tell which plan "
                      "it is for: fill in a fresh copy of the plan's workbook and send that.", "bad_workbook")
    plan_id, revision = int(marker["plan"]), int(marker["revision"])
    with Session(engine) as session:
        contact = actor(session, act)
        plan = session.get(ActionPlan, plan_id)
        if plan is None or part_in(session, contact, plan) is None:
            raise Refused(f"This action-plan workbook is for action plan {plan_id}, which is not one of your "
                          "contracts' plans: nothing was saved. Send the workbook kpibot sent you for your own plan.",
                          "not_yours")
        scene = scene_of(session, plan)
        if (marker["contract"], marker["indicator"]) != (plan.contract_id, plan.ref):
            raise Refused(f"This workbook was made for indicator {marker['indicator']} of another plan, not for "
                          f"{scene.what}: nothing was saved. Fill in the workbook kpibot sent for that plan.",
                          "other_plan")
        _current(plan, revision, scene.what)
    today = local_date(act.at, settings.timezone)
    reason, drafts = _written(sheet, today)
    return complete(engine, settings, act, plan_id, reason, drafts)


def _current(plan: ActionPlan, revision: int, what: str) -> None:
    """Refuse a workbook of a version of the plan that is not the one waiting for the provider."""
    if plan.state == t.CLOSED:
        raise Refused(f"This workbook is for {what}, which is closed ({plan.closed_how or 'closed'}): nothing more "
                      "needs sending, and nothing was saved.", "closed")
    if plan.state in (t.SUBMITTED, t.AGREED):
        state = t.STATE_WORDS[plan.state]
        raise Refused(f"This workbook is of an older version of {what}: the plan was completed since and is now "
                      f"{state}. Nothing was saved. If its actions need to change, ask the council to return it.",
                      "older_plan")
    if revision != plan.revision:
        raise Refused(f"This workbook was made before {what} was last completed, and the council has since returned "
                      "it with a comment: fill in the workbook sent with the council's comment (it holds what was "
                      "written last time). Nothing was saved.", "older_plan")


def _written(sheet: PlanSheet, today: date) -> tuple[str, list[ActionDraft]]:
    """The reason and actions as written, or Refused naming each row and cell at fault."""
    problems = []
    reason = clean(sheet.reason)
    if len(reason) < MIN_REASON:
        where = f" ({sheet.reason_cell})" if sheet.reason_cell else ""
        problems.append(f"The reason for non-compliance{where} is {'blank' if not reason else 'too short'}: say why "
                        "the indicator is off target.")
    if not sheet.rows:
        problems.append("No action is written: fill in at least one action row (what, how, who and when).")
    drafts = []
    for row in sheet.rows:
        values = dict(zip(PARTS, row.values, strict=True))
        cells = dict(zip(PARTS, row.cells, strict=True))
        missing = [p for p in PARTS if not clean(values[p])]
        if missing:
            problems.append(f"Row {row.row}: no {' and no '.join(PART_WORDS[p] for p in missing)} "
                            f"({', '.join(cells[p] for p in missing)}).")
            continue
        _, wrong = when_checked(values["when"], today)
        if wrong:
            problems.append(f"Row {row.row} ({cells['when']}): {wrong}")
        elif wrong := who_problem(values["who"]):
            problems.append(f"Row {row.row} ({cells['who']}): {wrong}")
        drafts.append(ActionDraft(values["what"], values["how"], values["who"], values["when"]))
    if problems:
        raise Refused(" ".join(problems) + " " + AGAIN, "bad_plan")
    return reason, drafts
