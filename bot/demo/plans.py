"""The action plans and a request for information in the demo, on the replay's clock.

After City and Hackney's first accepted return, the provider completes the action plan of its first red
indicator by filling in the action-plan workbook and emailing it back (the intake recognises it and completes the
plan); the commissioner returns it once with a comment, the provider completes it again in the chat, step by step
(bot/plans/conversation.py, as `/plan N` in Telegram), and the commissioner agrees it, so the scheduler's sweeps
remind and chase its action's date. The commissioner also asks for the
service's latest inspection report within 2 working days, which the provider sends the next working day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.app import App
from bot.demo.plan_routes import by_chat, by_workbook
from bot.intake.received import IntakeResult
from bot.plans import acts, requests
from bot.plans.drafts import ActionDraft
from bot.reports.pdf import html_to_pdf
from bot.review.scene import Act, Outcome
from bot.storage.models import Contact, Contract
from bot.storage.plan_models import ActionPlan
from kpi_core.duedates import add_working_days

CONTRACT = "ch-stop-smoking"
REASON = ("Two community pharmacies stopped offering the service in the quarter, and referrals from primary care "
          "fell while the new GP pathway was agreed.")
RETURNED = "Action 1 needs a named owner and a date before the next return, so we can follow it."
INSPECTION = ("<h1>Inspection report</h1><p>Breathe Easy Stop Smoking CIC, inspected last September: rated Good. "
              "The provider's action plan follows the inspector's two recommendations.</p>")


@dataclass(frozen=True)
class Step:
    at: datetime
    what: str  # plan_complete | plan_return | plan_agree | request | request_answer
    target: int = 0  # the plan or request


def _day(at: datetime, zone: str) -> date:
    return at.astimezone(ZoneInfo(zone)).date()


class DemoPlans:
    def __init__(self, app: App, zone: str) -> None:
        self.app, self.zone, self.started = app, zone, False

    def at(self, day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), ZoneInfo(self.zone)).astimezone(UTC)

    def after(self, result: IntakeResult, contract: Contract, received_at: datetime) -> list[Step]:
        """The first accepted return of City and Hackney starts the plan's and the request's story."""
        if self.started or contract.id != CONTRACT or result.outcome != "accepted":
            return []
        with Session(self.app.engine) as session:
            plan = session.exec(select(ActionPlan).where(ActionPlan.contract_id == CONTRACT,
                                                         ActionPlan.state == "requested")
                                .order_by(col(ActionPlan.id))).first()
        self.started = True
        day = _day(received_at, self.zone)
        steps = [Step(self.at(add_working_days(day, 1), 10), "request")]
        if plan is not None:
            steps.append(Step(self.at(add_working_days(day, 3), 11), "plan_complete", plan.id or 0))
        return steps

    def act(self, step: Step) -> tuple[Outcome, list[Step]]:
        """Do `step` as the provider or the commissioner; what follows from it."""
        app, day = self.app, _day(step.at, self.zone)
        with Session(app.engine) as session:
            people: dict[str, int] = {}
            for c in session.exec(select(Contact).where(col(Contact.organisation_id).in_(
                    ("breathe-easy", "example-council"))).order_by(col(Contact.id))):
                people.setdefault(c.role, c.id or 0)
            plan = session.get(ActionPlan, step.target) if step.what.startswith("plan_") else None
            revision = plan.revision if plan is not None else 0
        provider = Act(people["provider_submitter"], "cli", step.at)
        council = Act(people["commissioner"], "cli", step.at)
        later = self.at(add_working_days(day, 1), 11)
        if step.what == "request":
            outcome = requests.ask(app.engine, app.settings, council, CONTRACT, "Latest inspection report",
                                   "2 working days", "Any inspection of the service in the last year, with its "
                                   "action plan (schedule 2.6).")
            return outcome, [Step(self.at(add_working_days(day, 1), 15), "request_answer", outcome.review_id or 0)]
        if step.what == "request_answer":
            return requests.answer(app.engine, app.settings, app.files, provider, step.target,
                                   "inspection-report.pdf", html_to_pdf(INSPECTION), "The CQC report of last September."), []
        if step.what == "plan_complete":
            when = day + timedelta(days=35)
            who = "Clinic lead" if revision == 0 else "Rebecca Mellor, service manager"
            action = ActionDraft("Restore pharmacy coverage in the two areas without a service",
                                 "Recruit and train two replacement pharmacies; monthly referral review with GPs",
                                 who, f"{when.day} {when:%B %Y}")
            done = by_workbook if revision == 0 else by_chat
            outcome = done(app, provider, step.target, REASON, action)
            return outcome, [Step(later, "plan_return" if revision == 0 else "plan_agree", step.target)]
        if step.what == "plan_return":
            return acts.send_back(app.engine, app.settings, council, step.target, RETURNED), \
                [Step(later, "plan_complete", step.target)]
        return acts.agree(app.engine, app.settings, council, step.target), []
