"""A quarter end with action plans, for each shipped framework, on the example deployment (config.toml) and a real
database of each kind: a return with reds is accepted, plans are asked for (one message to each of the provider's
people, each plan's workbook attached), two are completed (one through its workbook emailed back, one in the chat),
one is returned once and then agreed, an agreed action goes past its date and is
chased on both sides, and the next return closes the plans of the indicators back on target and updates the rest.
The outbox holds every message each side would receive, with the right recipients and dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select
from test_plan_workbook import filled

from bot import config
from bot.intake.received import Received
from bot.intake.service import Intake
from bot.plans import acts, conversation
from bot.plans import table as t
from bot.plans.drafts import ActionDraft
from bot.review.scene import Act
from bot.storage.files import FileStore
from bot.storage.models import Contact, Contract, IndicatorResultRow, Obligation, OutboxMessage, Submission
from bot.storage.plan_models import ActionPlan
from bot.storage.sync import ensure_obligations, sync_settings
from jobs.sweep import sweep
from kpi_core import loader, samples

ROOT = Path(__file__).resolve().parent.parent
LONDON = ZoneInfo("Europe/London")
COUNCIL = "commissioning@example-council.invalid"
CONTRACTS = {  # contract: (its provider's submitter, its provider's people)
    "ch-stop-smoking": ("returns@breathe-easy.example", {"returns@breathe-easy.example",
                                                         "manager@breathe-easy.example"}),
    "solihull-stop-smoking": ("returns@breathe-easy.example", {"returns@breathe-easy.example",
                                                               "manager@breathe-easy.example"}),
    "lifestyle": ("data@one-you.example", {"data@one-you.example", "director@one-you.example"}),
    "ch-substance-misuse": ("performance@turning-point.example", {"performance@turning-point.example",
                                                                  "service.manager@turning-point.example"}),
}


def morning(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), LONDON).astimezone(UTC)


def example(tmp_path: Path, database_url: str) -> config.Settings:
    """The example deployment (config.toml) on this test's database and folders, replies without PDFs."""
    settings = config.load(ROOT / "config.toml", environ={})
    storage = settings.storage.model_copy(update=dict(database_url=database_url, files_dir=str(tmp_path / "files"),
                                                      outbox_dir=str(tmp_path / "outbox")))
    return settings.model_copy(update=dict(storage=storage,
                                           reports=settings.reports.model_copy(update=dict(attach_pdf=False))))


@pytest.mark.parametrize("contract_id", list(CONTRACTS))
def test_a_quarter_end_with_action_plans(tmp_path: Path, database_url: str, engine: sa.Engine,
                                         contract_id: str) -> None:
    settings = example(tmp_path, database_url)
    sender, provider = CONTRACTS[contract_id]
    with Session(engine) as session:
        sync_settings(session, settings, morning(date(2025, 4, 1)))
        contract = session.get(Contract, contract_id)
        assert contract is not None
        ensure_obligations(session, contract, date(2026, 12, 1))
        session.commit()
        session.refresh(contract)
        first, second = session.exec(select(Obligation).where(Obligation.contract_id == contract_id,
                                                              Obligation.return_type == "quarterly")
                                     .order_by(col(Obligation.due_date))).all()[:2]
        people = {c.email: c.id for c in session.exec(select(Contact))}
        framework = loader.get(contract.framework_id)
    files = FileStore(settings.storage.files_dir)
    intake = Intake(engine, settings, files)

    def submit(obligation: Obligation, level: float, at: datetime, seed: int) -> None:
        data = samples.to_csv(samples.sample_values(framework, "quarterly", seed=seed, level=level)).encode()
        result = intake.submit(Received(channel="email", message_id=f"{contract_id}-{seed}", sender=sender,
                                        filename="return.csv", data=data, received_at=at,
                                        contract_id=contract_id, period_id=obligation.period_id))
        assert result.outcome == "accepted", result.reply

    # 1. A return with reds, accepted: plans asked for, told by the next sweep in one message to each provider person.
    arrived = morning(first.due_date - timedelta(days=3))
    while arrived.astimezone(LONDON).weekday() >= 5:
        arrived -= timedelta(days=1)
    submit(first, 0.3, arrived, 1)
    with Session(engine) as session:
        plans = session.exec(select(ActionPlan).where(ActionPlan.contract_id == contract_id)
                             .order_by(col(ActionPlan.id))).all()
    assert len(plans) >= 2 and all(p.state == t.REQUESTED for p in plans)
    sweep(engine, settings, files, arrived + timedelta(hours=1))
    asked = outbox(engine, "plans_after_return")
    assert {m.address for m in asked} == provider  # the council hears of each plan once it is completed
    assert all(m.created_at == arrived + timedelta(hours=1) for m in asked)
    assert all(f"Action plan {p.id}: {p.ref} " in asked[0].body_text for p in plans)

    # 2. Two plans completed by the provider, one through the workbook kpibot attached to it (filled in and
    # emailed back), the other in the chat, step by step; the council returns one once, then agrees both.
    a, b = plans[0].id or 0, plans[1].id or 0
    when = first.due_date + timedelta(days=30)
    line = ActionDraft("Recover the missed activity", "Weekly review of the pipeline", "Service manager",
                       f"{when.day} {when:%B %Y}")
    reason = "Staff vacancies in the quarter reduced capacity."
    [attached] = [m for m in outbox(engine, "plan_workbook") if (m.attachment_name or "").startswith(
        f"action-plan-{a}-")]
    assert attached.address == sender and attached.attachment_sha256 is not None
    by_workbook = intake.submit(Received(
        channel="email", message_id=f"{contract_id}-plan", sender=sender, filename=attached.attachment_name or "",
        data=filled(files.get(attached.attachment_sha256), reason, ((line.what, line.how, line.who, line.when),)),
        received_at=arrived + timedelta(days=1)))
    assert by_workbook.outcome == "action_plan", by_workbook.reply
    chat, at = 9001, arrived + timedelta(days=1)
    conversation.start(engine, settings, people[sender], chat, b, at)
    for n, text in enumerate((reason, line.what, line.how, line.who, line.when, "no", conversation.SEND)):
        said = conversation.answer(engine, settings, people[sender], chat, text, at, f"chat:{n}")
    assert said is not None and said.text.startswith("Thank you"), said
    council = Act(people[COUNCIL], "cli", arrived + timedelta(days=2))
    acts.send_back(engine, settings, council, a, "Name the person responsible, not a role.")
    acts.complete(engine, settings, Act(people[sender], "cli", arrived + timedelta(days=3)), a,
                  "Staff vacancies in the quarter reduced capacity.",
                  [ActionDraft(line.what, line.how, "Jo Bloggs, service manager", line.when)])
    for plan_id in (a, b):
        acts.agree(engine, settings, Act(people[COUNCIL], "cli", arrived + timedelta(days=4)), plan_id)
    plan_messages = outbox(engine, "plan")
    assert {m.address for m in plan_messages if m.subject.startswith("Action plan to agree")} == {COUNCIL}
    assert {m.address for m in plan_messages if m.subject.startswith("Action plan returned")} == provider
    assert {m.address for m in plan_messages if m.subject.startswith("Action plan agreed")} == provider

    # 3. An agreed action goes past its date: chased once, on both sides.
    chase = when + timedelta(days=1)
    while chase.weekday() >= 5:
        chase += timedelta(days=1)
    sweep(engine, settings, files, morning(chase))
    sweep(engine, settings, files, morning(chase + timedelta(days=7)))
    chased = outbox(engine, "plan_action_overdue")
    assert sorted(m.address for m in chased) == sorted(list(provider) * 2 + [COUNCIL] * 2)  # two plans, once each
    assert all(m.created_at == morning(chase) for m in chased)

    # 4. The next return: plans of indicators back on target close, the others follow it; never a second plan.
    submit(second, 1.0, morning(chase + timedelta(days=8)), 2)
    with Session(engine) as session:
        accepted = session.exec(select(Submission.id).where(Submission.obligation_id == second.id,
                                                            Submission.status == "accepted")).one()
        status = dict(session.exec(select(IndicatorResultRow.ref, IndicatorResultRow.status)
                                   .where(IndicatorResultRow.submission_id == accepted)).all())
        after = {p.ref: p for p in session.exec(select(ActionPlan).where(ActionPlan.contract_id == contract_id))}
        counts = session.exec(select(ActionPlan.ref, sa.func.count()).where(
            ActionPlan.contract_id == contract_id, ActionPlan.state != t.CLOSED).group_by(ActionPlan.ref)).all()
    assert all(n == 1 for _, n in counts)
    for plan in plans:
        kept = after[plan.ref]
        if status.get(plan.ref) == "green":
            assert kept.state == t.CLOSED and kept.closed_how == "recovered"
        elif status.get(plan.ref) == "red":
            assert kept.state != t.CLOSED and kept.period_id == second.period_id
    assert any(after[p.ref].state == t.CLOSED for p in plans)


def outbox(engine: sa.Engine, kind: str) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                 .order_by(col(OutboxMessage.id))))
