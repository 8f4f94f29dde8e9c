"""`/plans` and `/requests` in Telegram: what is open and due, for both sides, within what each may see (on a real
database of each kind)."""

from __future__ import annotations

from datetime import date

from intake_fixtures import ALICE, BOB
from review_fixtures import CAROL, ERIN, Desk
from sqlmodel import Session, select

from bot.channels.telegram.plans import plans_answer, requests_answer
from bot.plans import acts, requests
from bot.plans.drafts import from_line
from bot.storage.models import Contact
from bot.storage.plan_models import ActionPlan


def contact(session: Session, email: str) -> Contact:
    return session.exec(select(Contact).where(Contact.email == email)).one()


def test_plans_lists_what_waits_on_each_side_and_the_actions_past_their_date(desk: Desk) -> None:
    desk.submit(quits=40)
    with Session(desk.engine) as session:
        plan_id = session.exec(select(ActionPlan.id).where(ActionPlan.ref == "1.4")).one()
        provider = plans_answer(session, contact(session, ALICE), date(2025, 10, 2)).text
        council = plans_answer(session, contact(session, CAROL), date(2025, 10, 2)).text
        assert plans_answer(session, contact(session, BOB), date(2025, 10, 2)).text.startswith("✅ No action plan")
        assert plans_answer(session, contact(session, ERIN), date(2025, 10, 2)).text.startswith("✅ No action plan")
    assert f"Plan {plan_id}: 1.4 " in provider and "due by 15 October 2025" in provider
    assert "To do: the reason for non-compliance" in provider
    assert "Waiting for the provider to complete it." in council
    acts.complete(desk.engine, desk.settings, desk.act(ALICE), plan_id, "Two pharmacies stopped in August.",
                  [from_line("Re-train advisers | Monthly sessions | Rebecca Mellor | 20 October 2025", 1)])
    acts.agree(desk.engine, desk.settings, desk.act(CAROL), plan_id)
    with Session(desk.engine) as session:
        later = plans_answer(session, contact(session, CAROL), date(2025, 10, 22)).text
    assert "agreed, 1 action overdue" in later
    assert "❗ 1. Re-train advisers (Rebecca Mellor), by 20 October 2025: OVERDUE" in later
    assert "quits_4wk" not in later and "ch-stop-smoking" not in later


def test_requests_lists_open_requests_with_their_deadlines_for_both_sides(desk: Desk) -> None:
    requests.ask(desk.engine, desk.settings, desk.act(CAROL), "ch-stop-smoking", "Inspection report",
                 "2 working days")
    with Session(desk.engine) as session:
        provider = requests_answer(session, contact(session, ALICE), date(2025, 10, 6)).text
        council = requests_answer(session, contact(session, CAROL), date(2025, 10, 2)).text
        stranger = requests_answer(session, contact(session, BOB), date(2025, 10, 2)).text
    assert "Request 1: Inspection report, City and Hackney Stop Smoking Service: due by 3 October 2025 (OVERDUE)" \
        in provider
    assert "Send each document" in provider and "\"request 1\"" in provider and "Send each document" not in council
    assert "due by 3 October 2025" in council and "OVERDUE" not in council
    assert stranger.startswith("✅ No request")
