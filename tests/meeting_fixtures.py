"""A lifestyle contract's quarter, ready for its performance meeting: on the example deployment (config.toml) and a
real database, a return with reds accepted, a plan agreed whose action is past its date, a request for
information open, and the notes of the meeting before. The lifestyle schedule sets the meeting "at the end of the
month of the monitoring return" (its framework's `meeting` rule)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.intake.received import Received
from bot.intake.service import Intake
from bot.plans import acts
from bot.plans.drafts import ActionDraft
from bot.plans.meetings import record_notes
from bot.plans.requests import ask
from bot.review import actions as review
from bot.review.listing import find
from bot.review.scene import Act
from bot.storage.files import FileStore
from bot.storage.models import Contact, Contract, Obligation
from bot.storage.plan_models import ActionPlan
from bot.storage.sync import ensure_obligations, sync_settings
from kpi_core import loader, samples

ROOT = Path(__file__).resolve().parent.parent
LONDON = ZoneInfo("Europe/London")
COUNCIL = "commissioning@example-council.invalid"
SUBMITTER = "data@one-you.example"
CONTRACT = "lifestyle"
QUERY = "PA.2 conversion looks low against referrals: please check the referral count."
ANSWER = "The referral count included 40 duplicate referrals from one GP surgery; the conversion stands."


def morning(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), LONDON).astimezone(UTC)


def example(tmp_path: Path, database_url: str) -> config.Settings:
    """The example deployment on this test's database and folders, replies without PDFs."""
    settings = config.load(ROOT / "config.toml", environ={})
    storage = settings.storage.model_copy(update=dict(database_url=database_url, files_dir=str(tmp_path / "files"),
                                                      outbox_dir=str(tmp_path / "outbox")))
    return settings.model_copy(update=dict(storage=storage,
                                           reports=settings.reports.model_copy(update=dict(attach_pdf=False))))


@dataclass
class Quarter:
    settings: config.Settings
    files: FileStore
    people: dict[str, int]
    earlier: Obligation  # the quarter before: its meeting's notes are recorded
    obligation: Obligation  # the quarter the meeting is on
    plan_id: int = 0


def set_up(engine: sa.Engine, tmp_path: Path, database_url: str, started: date = date(2025, 4, 1)) -> Quarter:
    """The contract loaded on `started` with its obligations."""
    settings = example(tmp_path, database_url)
    with Session(engine) as session:
        sync_settings(session, settings, morning(started))
        contract = session.get(Contract, CONTRACT)
        assert contract is not None
        ensure_obligations(session, contract, date(2026, 12, 1))
        session.commit()
        earlier, obligation = session.exec(select(Obligation).where(
            Obligation.contract_id == CONTRACT, Obligation.return_type == "quarterly",
            Obligation.due_date >= date(2025, 6, 1)).order_by(col(Obligation.due_date))).all()[:2]
        people = {c.email: c.id or 0 for c in session.exec(select(Contact))}
    return Quarter(settings, FileStore(settings.storage.files_dir), people, earlier, obligation)


def submit(engine: sa.Engine, q: Quarter, obligation: Obligation, level: float, at: datetime, seed: int) -> None:
    framework = loader.get("lifestyle")
    data = samples.to_csv(samples.sample_values(framework, "quarterly", seed=seed, level=level)).encode()
    result = Intake(engine, q.settings, q.files).submit(Received(
        channel="email", message_id=f"meeting-{seed}", sender=SUBMITTER, filename="return.csv", data=data,
        received_at=at, contract_id=CONTRACT, period_id=obligation.period_id))
    assert result.outcome == "accepted", result.reply


def quarter(engine: sa.Engine, tmp_path: Path, database_url: str, with_return: bool = True) -> Quarter:
    """The full scene: the earlier quarter's meeting noted, this quarter's return with reds accepted, a plan agreed
    with its action past its date, a request open."""
    q = set_up(engine, tmp_path, database_url)
    council = q.people[COUNCIL]
    submit(engine, q, q.earlier, 0.3, morning(q.earlier.due_date - timedelta(days=3)), 1)
    record_notes(engine, q.settings, Act(council, "cli", morning(q.earlier.due_date + timedelta(days=20))),
                 CONTRACT, q.earlier.period_id, "Referrals dipped; the provider explained the staffing gap.",
                 [f"Send the revised referral pathway; Jo Bloggs; {q.earlier.due_date + timedelta(days=30):%d %B %Y}"])
    with Session(engine) as session:
        plan = session.exec(select(ActionPlan).where(ActionPlan.contract_id == CONTRACT)
                            .order_by(col(ActionPlan.id))).first()
        assert plan is not None and plan.id is not None
    q.plan_id = plan.id
    asked = morning(q.earlier.due_date)
    due = q.earlier.due_date + timedelta(days=21)
    acts.complete(engine, q.settings, Act(q.people[SUBMITTER], "cli", asked), plan.id,
                  "Staff vacancies in the quarter reduced capacity.",
                  [ActionDraft("Recruit two advisers", "Advertise both posts", "Service manager",
                               f"{due.day} {due:%B %Y}")])
    acts.agree(engine, q.settings, Act(council, "cli", asked + timedelta(hours=1)), plan.id)
    ask(engine, q.settings, Act(council, "cli", morning(q.obligation.due_date - timedelta(days=10))), CONTRACT,
        "Inspection report", "2 working days", "The latest CQC inspection report")
    if with_return:
        submit(engine, q, q.obligation, 0.3, morning(q.obligation.due_date - timedelta(days=2)), 2)
        with Session(engine) as session:
            found = find(session, CONTRACT, q.obligation.period_id)
        queried = review.query(engine, q.settings, Act(council, "cli", morning(q.obligation.due_date)),
                               found.review.id or 0, found.submission_id, QUERY)
        review.answer(engine, q.settings, Act(q.people[SUBMITTER], "cli", morning(q.obligation.due_date, 15)),
                      queried.query_id or 0, ANSWER)
    return q
