"""The review's table of transitions, walked through its functions on a real database of each kind: every act
(sign off, query, answer, spot check) in every state, by every person (review_fixtures.py says who plays which
part). An act the table has a row for, by a part the row names, moves the review to the row's next state and
records who, when, through which channel and on which version; every other one is refused in words and changes
nothing, and a stranger is told nothing of the return."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from intake_fixtures import ALICE, DAVE
from review_fixtures import CAROL, ERIN, FRANK, PART, PEOPLE, Desk
from sqlmodel import Session

from bot.review import table as t
from bot.review.actions import NOT_YOURS
from bot.review.scene import Outcome, Refused
from bot.storage.review_models import Review

DOERS = {"commissioner": CAROL, "provider": ALICE}


def reach(desk: Desk, state: str) -> None:
    """Put City and Hackney's Q2 return in `state`, with a query in its history (asked and answered, or corrected)."""
    desk.submit()
    desk.query()
    if state == t.WAITING:
        desk.submit(quits=104)  # corrected: waiting again, on version 2
    if state in (t.ANSWERED, t.SIGNED_OFF):
        desk.answer()
    if state == t.SIGNED_OFF:
        desk.sign_off()
    assert desk.review().state == state


def doing(desk: Desk, action: str, who: str) -> Callable[[], Outcome]:
    return {t.SIGN_OFF: lambda: desk.sign_off(who),
            t.QUERY: lambda: desk.query(who),
            t.ANSWER: lambda: desk.answer(who),
            t.SPOT_CHECK: lambda: desk.spot_check(who)}[action]


@pytest.mark.parametrize("state", t.STATES)
@pytest.mark.parametrize("action", t.ACTIONS)
def test_every_act_by_every_part_in_every_state_follows_the_table(desk: Desk, state: str, action: str) -> None:
    reach(desk, state)
    row = t.transition(state, action)
    before = desk.review()
    events = len(desk.events())
    for who in PEOPLE:
        if row is not None and PART[who] in row.who:
            continue
        with pytest.raises(Refused) as refused:
            doing(desk, action, who)()
        if PART[who] is None:  # a stranger: the same words whether or not the return exists
            assert refused.value.text == NOT_YOURS
        else:
            assert refused.value.code in ("not_allowed", "closed"), refused.value.text
            assert "kpibot" not in refused.value.text and "ch-stop-smoking" not in refused.value.text
        assert desk.review() == before and len(desk.events()) == events  # nothing changed
    if row is None:
        return
    doer = DOERS[row.who[0]]
    outcome = doing(desk, action, doer)()
    after = desk.review()
    assert (outcome.action, outcome.state, after.state) == (action, row.next, row.next)
    event = desk.events()[-1]
    assert (event.action, event.from_state, event.to_state, event.actor, event.channel) == (
        action, state, row.next, doer, "cli")
    assert (event.submission_id, event.version) == (before.submission_id, before.version)


def test_the_table_has_a_row_for_every_state_a_return_can_be_in_and_each_row_tells_someone() -> None:
    assert {r.state for r in t.TABLE} == {t.NEW, *t.STATES}
    assert all(r.tell for r in t.TABLE + t.PAYMENT_TABLE)
    assert {r.next for r in t.TABLE} <= set(t.STATES)
    for state in t.STATES:  # a new version moves every review, whatever its state
        assert t.transition(state, t.RESUBMIT) is not None
    assert t.actions_in(t.QUERIED, "provider") == (t.ANSWER,)
    assert t.actions_in(t.SIGNED_OFF, "commissioner") == (t.SPOT_CHECK,)


def test_a_provider_signing_off_is_refused_naming_who_may(desk: Desk) -> None:
    desk.submit()
    with pytest.raises(Refused) as refused:
        desk.sign_off(DAVE)
    assert refused.value.text.endswith("Only the council's commissioners may sign it off.")
    assert desk.review().state == t.WAITING


def test_a_commissioner_of_another_council_is_told_nothing_of_the_return(desk: Desk) -> None:
    desk.submit()
    for act in (lambda: desk.sign_off(ERIN), lambda: desk.query(ERIN), lambda: desk.spot_check(ERIN)):
        with pytest.raises(Refused) as refused:
            act()
        assert (refused.value.code, refused.value.text) == ("not_yours", NOT_YOURS)
        assert "City and Hackney" not in refused.value.text and "Q2" not in refused.value.text


def test_a_query_on_a_superseded_version_is_refused_and_points_to_the_version_in_force(desk: Desk) -> None:
    desk.submit()
    old = desk.target()
    desk.submit(quits=100, at=desk.review().opened_at.replace(hour=15))
    from bot.review import actions

    with pytest.raises(Refused) as refused:
        actions.query(desk.engine, desk.settings, desk.act(CAROL), *old, "1.5: too high against last quarter")
    assert refused.value.code == "superseded"
    assert "replaced by version 2" in refused.value.text and "look at version 2 instead" in refused.value.text
    assert desk.review().version == 2 and desk.review().state == t.WAITING


def test_signing_off_twice_says_it_is_already_signed_off(desk: Desk) -> None:
    desk.submit()
    desk.sign_off(CAROL)
    with pytest.raises(Refused) as refused:
        desk.sign_off(FRANK)
    assert "It is already signed off." in refused.value.text


def test_the_same_chat_message_twice_is_one_act(desk: Desk) -> None:
    desk.submit()
    first = desk.sign_off(CAROL, key="telegram:1:3003:77")
    again = desk.sign_off(CAROL, key="telegram:1:3003:77")
    assert not first.replayed and again.replayed and again.text.startswith("Already recorded on")
    assert [e.action for e in desk.events()] == ["open", "sign_off"]


def test_the_review_follows_each_new_version_and_says_why_in_the_history(desk: Desk) -> None:
    desk.submit()
    desk.sign_off()
    desk.submit(quits=104)  # a correction after sign-off reopens the review
    with Session(desk.engine) as session:
        review = session.get(Review, desk.review().id)
        assert review is not None and (review.state, review.version, review.signed_off_by) == (t.WAITING, 2, None)
    assert [(e.action, e.from_state, e.to_state, e.version) for e in desk.events()] == [
        ("open", "new", "waiting", 1), ("sign_off", "waiting", "signed_off", 1),
        ("resubmit", "signed_off", "waiting", 2)]
