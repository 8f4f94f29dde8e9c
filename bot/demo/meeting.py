"""The lifestyle contract's quarterly performance meetings in the demo, on the replay's clock.

Its schedule holds the meeting at the end of the month of the monitoring return (27 February 2026 for the first
quarter): the scheduler sends the council the meeting pack five working days before (jobs/meetings.py). Around the
first quarter's return the council asks for the service user survey results by 30 April (schedule 2.3; the
provider has not sent them by the next meeting), the provider completes the action plan of the first red indicator
and the council agrees it (its action, due at the end of March, is not done in time and climbs the escalation
ladder), and after the meeting the commissioner records its notes and the actions agreed. The next meeting's pack,
written with the demo's reports, carries all of it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.app import App
from bot.demo.plans import Step  # what: meeting_request | meeting_plan_complete | meeting_plan_agree | meeting_notes
from bot.intake.received import IntakeResult
from bot.plans import acts, requests
from bot.plans.drafts import ActionDraft
from bot.plans.meetings import record_notes
from bot.reports.meeting_stored import meeting_day
from bot.review.scene import Act, Outcome
from bot.storage.models import Contact, Contract
from bot.storage.plan_models import ActionPlan
from kpi_core.calendar import parse_period
from kpi_core.duedates import add_working_days

CONTRACT = "lifestyle"
REASON = ("Referrals from two GP practices stopped while their social prescribers were recruited, and the winter "
          "programme started late.")
NOTES = ("Discussed the first quarter's results: participation is behind the profile in physical activity and "
         "weight management; the provider explained the late start of the winter programme and the GP referral gap. "
         "The council asked for the service user survey results by 30 April and will review the action plan's "
         "progress at the next meeting.")
ACTIONS = ("Send the revised GP referral pathway to the council; Alex Morgan, director; 31 March 2026",
           "Agree the spring outreach timetable with the two practices; One You Lifestyles Ltd; 30 April 2026")


class DemoMeeting:
    def __init__(self, app: App, zone: str) -> None:
        self.app, self.zone, self.started = app, zone, False
        self.period_id = ""  # the period of the meeting whose notes are recorded

    def at(self, day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), ZoneInfo(self.zone)).astimezone(UTC)

    def after(self, result: IntakeResult, contract: Contract, received_at: datetime) -> list[Step]:
        """The lifestyle contract's first accepted return starts the story of its first meeting."""
        if self.started or contract.id != CONTRACT or result.outcome != "accepted" or result.period_id is None:
            return []
        self.started = True
        with Session(self.app.engine) as session:
            plan = session.exec(select(ActionPlan).where(ActionPlan.contract_id == CONTRACT,
                                                         ActionPlan.state == "requested")
                                .order_by(col(ActionPlan.id))).first()
        day = received_at.astimezone(ZoneInfo(self.zone)).date()
        period = parse_period(result.period_id, contract.year_start_month)
        meeting = meeting_day(self.app.settings, contract, period, "quarterly") or add_working_days(day, 10)
        self.period_id = period.id
        steps = [Step(self.at(add_working_days(day, 1), 12), "meeting_request"),
                 Step(self.at(meeting, 16), "meeting_notes")]
        if plan is not None:
            steps.append(Step(self.at(add_working_days(day, 2), 11), "meeting_plan_complete", plan.id or 0))
        return steps

    def act(self, step: Step) -> tuple[Outcome, list[Step]]:
        """Do `step` as the provider or the commissioner; what follows from it."""
        app, day = self.app, step.at.astimezone(ZoneInfo(self.zone)).date()
        with Session(app.engine) as session:
            people: dict[str, int] = {}
            for c in session.exec(select(Contact).where(col(Contact.organisation_id).in_(
                    ("one-you-lifestyles", "example-council"))).order_by(col(Contact.id))):
                people.setdefault(c.role, c.id or 0)
        provider = Act(people["provider_submitter"], "cli", step.at)
        council = Act(people["commissioner"], "cli", step.at)
        if step.what == "meeting_request":
            return requests.ask(app.engine, app.settings, council, CONTRACT, "Service user survey results",
                                "30 April 2026", "This year's satisfaction survey, its results and the action taken "
                                "(schedule 2.3)."), []
        if step.what == "meeting_notes":
            return record_notes(app.engine, app.settings, council, CONTRACT, self.period_id, NOTES, ACTIONS), []
        if step.what == "meeting_plan_complete":
            action = ActionDraft("Restore GP referrals from the two practices",
                                 "Meet each practice's social prescriber; a referral check every fortnight",
                                 "Alex Morgan, director", "31 March 2026")
            return acts.complete(app.engine, app.settings, provider, step.target, REASON, [action]), \
                [Step(self.at(add_working_days(day, 1), 15), "meeting_plan_agree", step.target)]
        return acts.agree(app.engine, app.settings, council, step.target), []
