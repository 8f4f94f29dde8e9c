"""The council's acts on an action plan in Telegram (`/agree`, `/sendback`, `/closeplan`), end to end: the real
python-telegram-bot client against the fake Bot API, bot/plans/acts.py on a real database of each kind. Carol
(the contract's commissioner) returns a completed plan with a comment, agrees it once completed again, and closes
it; Bob (another provider's) and Alice (the provider) may not; every mistake gets its own answer."""

from __future__ import annotations

import pytest
from fake_telegram import FakeBotApi
from review_fixtures import ALICE, Desk
from sqlmodel import Session
from telegram_fixtures import ALICE_CHAT, CAROL_CHAT, running_channel
from test_plan_conversation import BOB_CHAT, Chat, api, app, red_plan  # noqa: F401  (api, app: fixtures)

from bot.app import App
from bot.plans import acts
from bot.plans.drafts import ActionDraft
from bot.storage.plan_models import ActionPlan

pytestmark = pytest.mark.timeout(180)
ACTION = ActionDraft("Re-train pharmacy advisers", "Monthly sessions", "Rebecca Mellor", "31 December 2025")


def completed(desk: Desk, plan_id: int, key: str) -> None:
    acts.complete(desk.engine, desk.settings, desk.act(ALICE, key=key), plan_id,
                  "Two pharmacies stopped the service in August.", [ACTION])


def state(desk: Desk, plan_id: int) -> tuple[str, str]:
    with Session(desk.engine) as session:
        plan = session.get(ActionPlan, plan_id)
        assert plan is not None
        return plan.state, plan.comment


def test_the_council_returns_agrees_and_closes_a_plan_in_the_chat(app: App, api: FakeBotApi,  # noqa: F811
                                                                  desk: Desk) -> None:
    plan_id = red_plan(desk)
    completed(desk, plan_id, "first")
    carol, bob, alice = Chat(api, CAROL_CHAT), Chat(api, BOB_CHAT), Chat(api, ALICE_CHAT)
    with running_channel(app):
        carol.skip("New return for your review")  # the council's own notice of the return comes when it comes
        listed = carol.says("/plans")["text"]
        assert f"/agree {plan_id}" in listed and f"/sendback {plan_id}" in listed
        assert "Say what to change" in carol.says(f"/sendback {plan_id}")["text"]
        assert "'three' is not an action plan's number" in carol.says("/agree three")["text"]
        assert "by the council that commissions the contract" in bob.says(f"/agree {plan_id}")["text"]
        assert "by the council that commissions the contract" in alice.says(f"/agree {plan_id}")["text"]
        returned = carol.says(f"/sendback {plan_id} The action needs a named adviser and a date this quarter.")
        assert returned["text"].startswith("✅ ")
        assert state(desk, plan_id) == ("returned", "The action needs a named adviser and a date this quarter.")
        refused = carol.says(f"/agree {plan_id}")["text"]  # nothing to agree until the provider completes it again
        assert not refused.startswith("✅ ") and state(desk, plan_id)[0] == "returned"
        completed(desk, plan_id, "second")
        assert carol.says(f"/agree {plan_id}")["text"].startswith("✅ ")
        assert state(desk, plan_id)[0] == "agreed"
        assert carol.says(f"/closeplan {plan_id} Back on target in Q3.")["text"].startswith("✅ ")
        assert state(desk, plan_id)[0] == "closed"
