"""Acts on one return at the same moment end in one consistent state, on SQLite and on PostgreSQL: every move of a
review is a conditional update, and the act that finds the review moved under it is refused saying what
happened (bot/review/actions.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from unittest import mock

import pytest
from intake_fixtures import ALICE
from review_fixtures import CAROL, FRANK, Desk
from sqlmodel import Session, col, select

from bot.review import table as t
from bot.review.scene import Outcome, Refused, part_of
from bot.storage.models import Submission
from bot.storage.review_models import ReviewQuery

pytestmark = pytest.mark.timeout(120)


def at_once(*acts: Callable[[], object]) -> list[object]:
    """Run the acts in threads released together; each one's outcome, or the exception it raised."""
    start = threading.Barrier(len(acts))
    results: list[object] = [None] * len(acts)

    def run(index: int, act: Callable[[], object]) -> None:
        start.wait()
        try:
            results[index] = act()
        except Exception as exc:  # noqa: BLE001 - the refusal is the result under test
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, act)) for i, act in enumerate(acts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def a_path_through_the_table(desk: Desk, period: str) -> list[str]:
    """The review's history as the table allows it: each move starts where the one before ended, the review is
    where the last one left it, and no query stays open on a signed-off return. Returns the actions."""
    events = desk.events()
    state = t.NEW
    for event in events:
        row = t.transition(event.from_state, event.action)
        assert event.from_state == state and row is not None and row.next == event.to_state, event
        state = event.to_state
    assert desk.review(period).state == state
    with Session(desk.engine) as session:
        open_queries = session.exec(select(ReviewQuery).where(col(ReviewQuery.state).in_(("open", "answered")))).all()
    assert bool(open_queries) == (state in (t.QUERIED, t.ANSWERED))
    return [e.action for e in events]


@pytest.mark.parametrize("period", ["2025-26-Q1", "2025-26-Q2"])
def test_two_commissioners_acting_at_once_end_in_one_consistent_state(desk: Desk, period: str) -> None:
    desk.submit(period)
    signed, queried = at_once(lambda: desk.sign_off(CAROL, period), lambda: desk.query(FRANK, period=period))
    done = [r for r in (signed, queried) if isinstance(r, Outcome)]
    actions = a_path_through_the_table(desk, period)
    assert actions[1:] == [o.action for o in done] or sorted(actions[1:]) == sorted(o.action for o in done)
    if isinstance(queried, Refused):  # signed off first: a query on a signed-off return is refused, in words
        assert actions == ["open", "sign_off"] and "signed off" in queried.text
    if isinstance(signed, Refused):  # the query moved it under the sign-off's feet
        assert signed.code == "acted_first" and "a moment before you" in signed.text
    if len(done) == 2:  # queried, then signed off (the table allows signing off a queried return): it closed
        assert actions == ["open", "query", "sign_off"]
    provider = [m.subject for m in desk.messages() if m.address == ALICE]
    assert len(provider) == len(done)  # the provider heard of each act that happened, once


def test_a_resubmission_arriving_while_a_sign_off_is_in_flight_leaves_the_new_version_waiting(
        desk: Desk, database_url: str) -> None:
    desk.submit()
    read = threading.Event()
    release = threading.Event()

    def slow_part(session, contact, contract):  # type: ignore[no-untyped-def]
        """The sign-off has read the review (version 1, waiting); it pauses before moving it."""
        read.set()
        release.wait(30)
        return part_of(session, contact, contract)

    results: dict[str, object] = {}

    def sign() -> None:
        try:
            results["sign"] = desk.sign_off(CAROL)
        except Refused as exc:
            results["sign"] = exc

    with mock.patch("bot.review.actions.part_of", autospec=True, side_effect=slow_part):
        signing = threading.Thread(target=sign)
        signing.start()
        assert read.wait(30)
        resubmitting = threading.Thread(target=lambda: results.setdefault("v2", desk.submit(quits=104)))
        resubmitting.start()
        # PostgreSQL lets the new version through while the sign-off is in flight; SQLite holds it until the
        # sign-off's transaction ends (a writer excludes every other), so there it goes after the sign-off.
        resubmitting.join(5 if database_url.startswith("sqlite") else 60)
        release.set()
        signing.join(60)
        resubmitting.join(60)
    review = desk.review()
    with Session(desk.engine) as session:
        accepted = session.exec(select(Submission).where(Submission.status == "accepted")).one()
    assert (review.state, review.submission_id, review.version, review.signed_off_by) == (
        t.WAITING, accepted.id, 2, None)  # one consistent state: the new version waits for review
    actions = [(e.action, e.from_state, e.version) for e in desk.events()]
    if isinstance(results["sign"], Refused):  # the new version came first: the sign-off is refused, in words
        assert results["sign"].code == "acted_first" and "Version 2 arrived" in results["sign"].text
        assert actions == [("open", "new", 1), ("resubmit", "waiting", 2)]
    else:  # the sign-off came first: the new version reopens it, and both sides are told
        assert actions == [("open", "new", 1), ("sign_off", "waiting", 1), ("resubmit", "signed_off", 2)]
        assert any(m.subject.startswith("Review reopened") for m in desk.messages())
    if database_url.startswith("postgresql"):
        assert isinstance(results["sign"], Refused)
