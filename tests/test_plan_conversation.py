"""The guided action-plan conversation in Telegram, end to end: the real python-telegram-bot client polling the fake
Bot API on 127.0.0.1, bot/plans/conversation.py and bot/plans/acts.py on a real database of each kind.

Alice (Breathe Easy, chat 1001) completes the plan of the red indicator 1.4 in her chat: she cancels once, starts
again, the bot is restarted half way through and she carries on where she was; every bad answer gets a specific
answer. Bob (another provider's, chat 4004) and Carol (the council's commissioner, chat 3003) may not complete it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from desk_telegram import telegram_app
from fake_telegram import FakeBotApi, running_fake_bot_api
from intake_fixtures import BOB
from review_fixtures import CAROL, Desk
from sqlmodel import Session, col, select
from telegram_fixtures import ALICE_CHAT, CAROL_CHAT, running_channel, send

from bot.app import App
from bot.plans import conversation
from bot.storage.models import Submission
from bot.storage.plan_models import ActionPlan, PlanAction, PlanChat, PlanEvent

pytestmark = pytest.mark.timeout(180)
BOB_CHAT = 4004


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with running_fake_bot_api() as api:
        yield api


@pytest.fixture
def app(desk: Desk, api: FakeBotApi) -> App:
    """kpibot with a bot token on the desk's database; Carol's and Bob's chats are linked (Alice's is already)."""
    return telegram_app(desk, api, {CAROL: CAROL_CHAT, BOB: BOB_CHAT})


class Chat:
    """One person's chat: what they send, and the bot's next answer to them."""

    def __init__(self, api: FakeBotApi, chat: int) -> None:
        self.api, self.chat, self.sent, self.seen = api, chat, 0, 0

    def says(self, text: str) -> dict[str, Any]:
        """Send `text`; return the bot's answer (its text and reply markup)."""
        self.sent += 1
        send(self.api, self.chat, 100 + self.sent, text=text)
        return self.answer()

    def skip(self, notice: str) -> None:
        """Wait for a message the bot sends this chat by itself (`notice` in its text), and pass over it."""
        def mine(calls: list[Any]) -> list[Any]:
            return [c for c in calls if c.method == "sendMessage" and c.ok and c.chat_id == self.chat]
        calls = mine(self.api.wait_for(lambda calls: any(notice in c.params.get("text", "") for c in mine(calls))))
        self.seen = len(calls)

    def answer(self) -> dict[str, Any]:
        def mine(calls: list[Any]) -> list[Any]:
            return [c for c in calls if c.method == "sendMessage" and c.ok and c.chat_id == self.chat]
        calls = mine(self.api.wait_for(lambda calls: len(mine(calls)) > self.seen))
        self.seen += 1
        return {**calls[self.seen - 1].params, "markup": calls[self.seen - 1].markup}


def keys(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in (message["markup"] or {}).get("keyboard", []) for b in row]


def red_plan(desk: Desk) -> int:
    desk.submit(quits=40)
    with Session(desk.engine) as session:
        found = session.exec(select(ActionPlan.id).where(ActionPlan.ref == "1.4")).one()
        assert found is not None
        return found


def test_a_provider_completes_a_plan_in_the_chat_cancelling_once_and_resuming_after_a_restart(
        app: App, api: FakeBotApi, desk: Desk) -> None:
    plan_id = red_plan(desk)
    alice = Chat(api, ALICE_CHAT)
    with running_channel(app):
        listed = alice.says("/plans")
        assert f"/plan {plan_id} to complete it here" in listed["text"]
        intro = alice.says(f"/plan {plan_id}")
        assert f"Completing action plan {plan_id}: 1.4 " in intro["text"] and "City and Hackney" in intro["text"]
        assert "Please complete it by 15 October 2025" in intro["text"] and "the reason for non-compliance" in \
            intro["text"]
        assert "reason for non-compliance is missing" in alice.says("n/a")["text"]
        assert alice.says("Two pharmacies stopped the service in August.")["text"] == "Action 1. What is required?"
        cancelled = alice.says("/cancel")["text"]
        assert cancelled.startswith("Cancelled: nothing was sent to the council.") and f"/plan {plan_id}" in cancelled
        assert "Nothing to cancel" in alice.says("/cancel")["text"]
        alice.says(f"/plan {plan_id}")  # from the beginning
        alice.says("Two pharmacies stopped the service in August.")
        assert alice.says("Re-train pharmacy advisers")["text"] == "Action 1: How will it be achieved?"
        assert alice.says("Monthly sessions led by the lead adviser")["text"] == "Action 1: Who will be responsible?"
        assert alice.says("Rebecca Mellor")["text"].startswith("Action 1: When will results be realised?")
        assert "'soon' is not a date" in alice.says("soon")["text"]
        assert "1 September 2025 has passed" in alice.says("1 September 2025")["text"]
        more = alice.says("31/10/2025")
        assert more["text"] == "Action 1 noted. Add another action?"
        assert keys(more) == [conversation.ADD, conversation.DONE]
        assert alice.says(conversation.ADD)["text"] == "Action 2. What is required?"
        alice.says("Open two new clinics")
        alice.says("In the two wards with the most smokers")
    with Session(desk.engine) as session:  # the bot stops: the draft is in the database, not the bot's memory
        draft = session.exec(select(PlanChat)).one()
        assert draft.step == "who"
        assert [a.get("what") for a in draft.actions] == ["Re-train pharmacy advisers", "Open two new clinics"]
    with running_channel(app):
        resumed = alice.says("/plan")
        assert resumed["text"].startswith(f"You were completing action plan {plan_id} (1.4 ")
        assert "you were at action 2: Who will be responsible?" in resumed["text"]
        alice.says("Service manager")
        summary = alice.says("2025-12-31")  # each written as people write dates
        assert summary["text"] == "Action 2 noted. Add another action?"
        summary = alice.says("no")
        assert "Reason for non-compliance: Two pharmacies stopped the service in August." in summary["text"]
        assert "1. Re-train pharmacy advisers" in summary["text"] and "When: 31 October 2025" in summary["text"]
        assert "2. Open two new clinics" in summary["text"] and "When: 31 December 2025" in summary["text"]
        assert keys(summary) == [conversation.SEND, conversation.AGAIN]
        done = alice.says(conversation.SEND)
        assert done["text"].startswith("Thank you: action plan") and "with 2 actions" in done["text"]
        assert done["markup"] == {"remove_keyboard": True}
        api.wait_for(lambda calls: any(c.method == "sendMessage" and c.chat_id == CAROL_CHAT  # the council hears
                                       and "Action plan to agree" in c.params["text"] for c in calls))
        again = alice.says(f"/plan {plan_id}")
        assert "already completed and waits for the council" in again["text"]
    with Session(desk.engine) as session:
        plan = session.get(ActionPlan, plan_id)
        assert plan is not None and (plan.state, plan.revision) == ("submitted", 1)
        assert plan.reason == "Two pharmacies stopped the service in August."
        actions = session.exec(select(PlanAction).where(PlanAction.plan_id == plan_id)).all()
        assert [(a.what, a.who, a.due.isoformat()) for a in actions] == [
            ("Re-train pharmacy advisers", "Rebecca Mellor", "2025-10-31"),
            ("Open two new clinics", "Service manager", "2025-12-31")]
        assert [e.channel for e in session.exec(select(PlanEvent).where(PlanEvent.action == "complete"))] == \
            ["telegram"]
        assert session.exec(select(PlanChat)).first() is None


def test_a_plan_that_is_not_theirs_to_complete_is_refused_in_words(app: App, api: FakeBotApi, desk: Desk) -> None:
    plan_id = red_plan(desk)
    bob, carol = Chat(api, BOB_CHAT), Chat(api, CAROL_CHAT)
    with running_channel(app):
        assert "not one of your contracts" in bob.says(f"/plan {plan_id}")["text"]
        assert "No action plan waits for you to complete" in bob.says("/plan")["text"]
        carol.skip("New return for your review")  # the council's own notice of the return comes when it comes
        assert "Only the provider may complete the plan" in carol.says(f"/plan {plan_id}")["text"]
        assert "completed by the provider" in carol.says("/plan")["text"]
        assert "not an action plan's number" in bob.says("/plan three")["text"]
        assert "not one of your contracts" in bob.says("/plan 999")["text"]  # the same words: it may not exist
    with Session(desk.engine) as session:
        assert session.exec(select(PlanChat)).first() is None


def test_a_plan_closed_while_it_is_being_completed_ends_the_conversation(app: App, api: FakeBotApi,
                                                                        desk: Desk) -> None:
    from bot.plans import acts

    plan_id = red_plan(desk)
    alice = Chat(api, ALICE_CHAT)
    with running_channel(app):
        alice.says(f"/plan {plan_id}")
        alice.says("Two pharmacies stopped the service in August.")
        acts.close(desk.engine, desk.settings, desk.act(CAROL), plan_id, "The target was re-negotiated.")
        ended = alice.says("Re-train pharmacy advisers")["text"]
        assert ended.startswith(f"Action plan {plan_id} can no longer be completed here:")
        assert "The plan is closed" in ended and "Your answers were discarded." in ended
        assert "The plan is closed" in alice.says(f"/plan {plan_id}")["text"]
    with Session(desk.engine) as session:
        assert session.exec(select(PlanChat)).first() is None


def test_the_workbook_sent_back_in_the_chat_completes_another_plan_and_is_never_scored(
        app: App, api: FakeBotApi, desk: Desk, tmp_path: Path) -> None:
    """One plan by the workbook (a document in the chat), another by the conversation: both reach the council."""
    from test_plan_workbook import filled, made

    red_plan(desk)
    with Session(desk.engine) as session:
        by_chat, by_workbook = session.exec(select(ActionPlan.id).order_by(col(ActionPlan.id))).all()[:2]
    assert by_chat is not None and by_workbook is not None
    alice = Chat(api, ALICE_CHAT)
    with running_channel(app):
        send(api, ALICE_CHAT, 50, document=api.add_file(filled(made(desk, by_workbook, tmp_path)), "plan.xlsx"))
        api.wait_for(lambda calls: any(c.method == "sendMessage" and c.chat_id == ALICE_CHAT
                                       and c.params["text"].startswith("Thank you: action plan") for c in calls))
        alice.seen = len([c for c in api.calls if c.method == "sendMessage" and c.ok and c.chat_id == ALICE_CHAT])
        alice.says(f"/plan {by_chat}")
        alice.says("Two pharmacies stopped the service in August.")
        for answer in ("Re-train pharmacy advisers", "Monthly sessions", "Rebecca Mellor", "31 October 2025", "no"):
            alice.says(answer)
        assert alice.says(conversation.SEND)["text"].startswith("Thank you: action plan")
    with Session(desk.engine) as session:
        states = {p.id: (p.state, p.revision) for p in session.exec(select(ActionPlan))}
        assert states[by_chat] == states[by_workbook] == ("submitted", 1)
        channels = sorted((e.plan_id, e.channel) for e in session.exec(
            select(PlanEvent).where(PlanEvent.action == "complete")))
        assert channels == sorted([(by_chat, "telegram"), (by_workbook, "telegram")])
        taken = session.exec(select(Submission).where(Submission.filename == "plan.xlsx")).one()
        assert (taken.status, taken.version, taken.obligation_id) == ("action_plan", None, None)
