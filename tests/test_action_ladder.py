"""An agreed action left past its date climbs the escalation ladder of late returns (jobs/ladder.py), one rung at each
overdue notice, on a real database of each kind: the working day after its date the provider and the council are
told; a week later, and each week after, a warning with the provider's manager and the commissioners told; once
per rung however many sweeps run; nothing more once the council closes the plan."""

from __future__ import annotations

from datetime import date, timedelta

from intake_fixtures import ALICE, DAVE
from review_fixtures import CAROL, FRANK, Desk
from sqlmodel import Session, col, select
from test_plans import RED, complete, messages, morning, plan

from bot.plans import acts
from bot.storage.models import Notice
from jobs.ladder import Ladder
from jobs.plans import ACTION_LADDER
from jobs.sweep import sweep

EVERYONE = sorted([ALICE, DAVE, CAROL, FRANK])


def test_an_overdue_agreed_action_climbs_the_ladder_step_by_step(desk: Desk) -> None:
    desk.submit(quits=RED)
    complete(desk)  # action 1 is due by Monday 20 October 2025
    agreed = plan(desk)
    acts.agree(desk.engine, desk.settings, desk.act(CAROL), agreed.id or 0)
    rungs = [(date(2025, 10, 21), "plan_action_overdue"), (date(2025, 10, 28), "plan_action_warning"),
             (date(2025, 11, 4), "plan_action_warning"), (date(2025, 11, 11), "plan_action_warning"),
             (date(2025, 11, 18), "")]  # four notices at most
    for day, _ in rungs:
        for hour in (0, 5):  # a second sweep the same day queues nothing more
            sweep(desk.engine, desk.settings, desk.files, morning(day) + timedelta(hours=hour))
    first = messages(desk, "plan_action_overdue")
    assert sorted(m.address for m in first) == EVERYONE and {m.created_at for m in first} == {morning(rungs[0][0])}
    warnings = messages(desk, "plan_action_warning")
    assert sorted(m.address for m in warnings) == sorted(EVERYONE * 3)
    by_day = {m.created_at for m in warnings}
    assert by_day == {morning(rungs[1][0]), morning(rungs[2][0]), morning(rungs[3][0])}
    second = [m for m in warnings if m.created_at == morning(rungs[1][0])]
    email = next(m for m in second if m.address == DAVE)
    assert email.subject.startswith("Escalation: City and Hackney Stop Smoking Service, 1.4 action plan, action 1")
    assert "This is the second notice" in email.body_text and "8 days past its date" in email.body_text
    assert "Re-train pharmacy advisers" in email.body_text
    assert "has been escalated: " in email.body_text and "Carol" in email.body_text and "Dave" in email.body_text
    third = next(m for m in warnings if m.created_at == morning(rungs[2][0]) and m.address == CAROL)
    assert "This is the third notice" in third.body_text and "15 days past its date" in third.body_text
    assert "may agree a new date" in third.body_text and "This notice comes again every week" in third.body_text
    last = next(m for m in warnings if m.created_at == morning(rungs[3][0]) and m.address == ALICE)
    assert "This is the last notice about this action" in last.body_text
    with Session(desk.engine) as session:
        levels = dict(session.exec(select(Notice.key, Notice.level).where(
            col(Notice.key).like("plan-action-%"), col(Notice.outbox_id).is_(None))).all())
    action = [k for k in levels if k.startswith("plan-action-overdue:")][0].split(":")[1]
    assert levels[f"plan-action-overdue:{action}"] == 1
    assert levels[f"plan-action-ladder:{action}:n2"] == levels[f"plan-action-ladder:{action}:n4"] == 2


def test_closing_the_plan_stops_the_climb(desk: Desk) -> None:
    desk.submit(quits=RED)
    complete(desk)
    agreed = plan(desk)
    acts.agree(desk.engine, desk.settings, desk.act(CAROL), agreed.id or 0)
    sweep(desk.engine, desk.settings, desk.files, morning(date(2025, 10, 21)))
    acts.close(desk.engine, desk.settings, desk.act(CAROL), agreed.id or 0, "Action done; the council accepts it.")
    sweep(desk.engine, desk.settings, desk.files, morning(date(2025, 10, 28)))
    assert len(messages(desk, "plan_action_overdue")) == 4 and messages(desk, "plan_action_warning") == []


def test_the_actions_ladder_is_the_returns_ladder_without_a_service_failure() -> None:
    """The same rules as late returns (jobs/ladder.py): the first rung is the overdue notice, then warnings; the
    contract's service-failure count is about returns, so an action never reaches it."""
    assert ACTION_LADDER == Ladder(None)
    assert [ACTION_LADDER.step(n).kind for n in (1, 2, 3, 6)] == ["late", "warning", "warning", "warning"]
    assert ACTION_LADDER.step(2).audience == ("provider_submitter", "provider_manager", "commissioner")

