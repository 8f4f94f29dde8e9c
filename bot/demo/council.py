"""The council's half of the demo: the commissioner reviews every return as it arrives, through bot/review.

It queries one return (City and Hackney's second quarter: the 4-week quit rate behind its payment by results),
the provider answers with a corrected version the next working day, and the commissioner signs that off; every
other accepted return is signed off two working days after it arrives. At the end of the replay the commissioner
confirms the year's payment by results, which bot/review allows only because every quarter it rests on is signed
off. Acts are scheduled on the replay's clock, so the scheduler's sweeps, digests and reminders see them in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from bot.app import App
from bot.demo.meeting import DemoMeeting
from bot.demo.plans import DemoPlans
from bot.demo.plans import Step as PlanStep
from bot.intake.received import IntakeResult
from bot.review import actions
from bot.review.listing import find
from bot.review.payments import confirm_payments
from bot.review.scene import Act, Outcome, Refused
from bot.storage.models import Contact, Contract, Obligation
from kpi_core.duedates import add_working_days

QUERIED = ("ch-stop-smoking", "2025-26-Q2")  # the return the commissioner queries
QUERY = ("1.5: the 4-week quit rate jumped from the first quarter. Please check the 4-week quitters counted this "
         "quarter: some look counted twice.")
CONFIRMED = ("ch-stop-smoking", "2025-26")  # the year whose payment by results is confirmed at the end


@dataclass(frozen=True)
class Later:
    """Something the demo does at a moment: `what` is sign_off, query, correct (the provider) or confirm."""

    at: datetime
    what: str
    contract_id: str
    period_id: str


@dataclass
class Council:
    app: App
    zone: str
    said: Callable[[datetime, str], None] = lambda at, text: None
    outcomes: list[tuple[datetime, Outcome]] = field(default_factory=list)
    plans: DemoPlans | None = None  # the action plans and a request for information (bot/demo/plans.py)
    meeting: DemoMeeting | None = None  # the lifestyle contract's quarterly meeting (bot/demo/meeting.py)

    def __post_init__(self) -> None:
        self.plans = DemoPlans(self.app, self.zone)
        self.meeting = DemoMeeting(self.app, self.zone)

    def at(self, day: date, hour: int) -> datetime:
        return datetime.combine(day, time(hour), ZoneInfo(self.zone)).astimezone(UTC)

    def after(self, result: IntakeResult, contract: Contract, received_at: datetime) -> list[Later]:
        """What the council does about a return that has just been received."""
        if result.outcome != "accepted" or result.period_id is None:
            return []
        assert self.plans is not None and self.meeting is not None
        also = [Later(s.at, s.what, contract.id, str(s.target)) for s in self.plans.after(result, contract, received_at)]
        also += [Later(s.at, s.what, contract.id, str(s.target))
                 for s in self.meeting.after(result, contract, received_at)]
        return also + self._review(result, contract, received_at)

    def _review(self, result: IntakeResult, contract: Contract, received_at: datetime) -> list[Later]:
        assert result.period_id is not None
        day = received_at.astimezone(ZoneInfo(self.zone)).date()
        if (contract.id, result.period_id) == QUERIED and result.version == 1:
            return [Later(self.at(add_working_days(day, 1), 11), "query", contract.id, result.period_id)]
        return [Later(self.at(add_working_days(day, 2 if result.version == 1 else 1), 14), "sign_off", contract.id,
                      result.period_id)]

    def act(self, later: Later) -> list[Later]:
        """Do `later` as the commissioner; what follows from it (a query is answered by a correction)."""
        app = self.app
        if later.what.startswith(("plan_", "request", "meeting_")):
            return self._plans(later)
        with Session(app.engine) as session:
            commissioner = session.exec(select(Contact).where(Contact.role == "commissioner")
                                        .order_by(col(Contact.id))).first()
            assert commissioner is not None and commissioner.id is not None
            act = Act(commissioner.id, "cli", later.at)
            if later.what == "confirm":
                target = None
            else:
                found = find(session, later.contract_id, later.period_id)
                target = (found.review.id or 0, found.submission_id)
        try:
            if later.what == "confirm":
                outcome = confirm_payments(app.engine, app.settings, app.files, act, later.contract_id,
                                           later.period_id)
            elif later.what == "query":
                assert target is not None
                outcome = actions.query(app.engine, app.settings, act, *target, QUERY)
            else:
                assert target is not None
                outcome = actions.sign_off(app.engine, app.settings, act, *target)
        except Refused as exc:
            self.said(later.at, f"refused: {exc.text}")
            return []
        self.outcomes.append((later.at, outcome))
        self.said(later.at, outcome.text)
        if later.what == "query":
            day = later.at.astimezone(ZoneInfo(self.zone)).date()
            return [Later(self.at(add_working_days(day, 1), 10), "correct", later.contract_id, later.period_id)]
        return []

    def _plans(self, later: Later) -> list[Later]:
        """An act of the action plan's, the request's or the meeting's story (either side)."""
        assert self.plans is not None and self.meeting is not None
        try:
            if later.what.startswith("meeting_"):
                outcome, follows = self.meeting.act(PlanStep(later.at, later.what, int(later.period_id)))
            else:
                outcome, follows = self.plans.act(PlanStep(later.at, later.what, int(later.period_id)))
        except Refused as exc:
            self.said(later.at, f"refused: {exc.text}")
            return []
        self.outcomes.append((later.at, outcome))
        self.said(later.at, outcome.text)
        return [Later(s.at, s.what, later.contract_id, str(s.target)) for s in follows]

    def year_end(self, as_of: date) -> list[Later]:
        return [Later(self.at(as_of, 16), "confirm", *CONFIRMED)]


def obligation_of(app: App, contract_id: str, period_id: str) -> Obligation:
    with Session(app.engine) as session:
        found = session.exec(select(Obligation).where(Obligation.contract_id == contract_id,
                                                      Obligation.period_id == period_id,
                                                      Obligation.return_type == "quarterly")).one()
        session.expunge(found)
        return found
