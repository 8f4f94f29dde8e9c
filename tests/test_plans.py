"""Action plans, on a real database of each kind: a RED in an accepted return asks the provider for a plan
(pre-filled as seed 002 lays it out), a red again updates it (never a second), the provider completes it, the
council returns it once and agrees it, its actions are reminded and chased by the sweep, and it closes when the
indicator is back on target. Only the contract's commissioners agree, return or close; a provider sees and
completes only its own plans; a mistake is answered clearly and saves nothing."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from intake_fixtures import ALICE, BOB, DAVE, NOW
from review_fixtures import ARRIVES, CAROL, ERIN, FRANK, Desk
from sqlmodel import Session, col, select

from bot.plans import acts
from bot.plans import table as t
from bot.plans.drafts import ActionDraft, from_line
from bot.plans.listing import plans_for
from bot.review.scene import Outcome, Refused
from bot.storage.models import AuditEvent, Contact, OutboxMessage
from bot.storage.plan_models import ActionPlan, PlanAction, PlanEvent
from jobs.sweep import sweep

LONDON = ZoneInfo("Europe/London")
Q3 = "2025-26-Q3"
RED = 40  # 40 quitters of 200 quit dates: 20%, red on 1.4 (>= 50%) and 1.5 (>= 60%)
GOOD = 105  # 52.5%: 1.4 back on target, 1.5 still red
ACTIONS = ("Re-train pharmacy advisers | Monthly sessions led by the lead adviser | Rebecca Mellor | 20 October 2025",
           "Follow up every quit date at four weeks | Text and call reminders | Clinic leads | 31/03/2026")


def morning(day: date) -> datetime:
    return datetime.combine(day, time(9, 30), LONDON).astimezone(UTC)


def plan(desk: Desk, ref: str = "1.4") -> ActionPlan:
    with Session(desk.engine) as session:
        found = session.exec(select(ActionPlan).where(ActionPlan.ref == ref)
                             .order_by(col(ActionPlan.id).desc())).first()
        assert found is not None
        session.expunge(found)
        return found


def messages(desk: Desk, kind: str = "plan") -> list[OutboxMessage]:
    with Session(desk.engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                 .order_by(col(OutboxMessage.id))))


def told(desk: Desk, at: datetime = NOW + timedelta(hours=1)) -> list[OutboxMessage]:
    """What the next sweep tells of the plans the returns opened, updated or closed (after their replies)."""
    sweep(desk.engine, desk.settings, desk.files, at)
    return messages(desk, "plans_after_return")


def complete(desk: Desk, who: str = ALICE, lines: tuple[str, ...] = ACTIONS, plan_id: int | None = None,
             reason: str = "Two pharmacies stopped offering the service in August.", **act: object) -> Outcome:
    drafts = [from_line(line, n) for n, line in enumerate(lines, start=1)]
    return acts.complete(desk.engine, desk.settings, desk.act(who, **act), plan_id or plan(desk).id or 0,  # type: ignore[arg-type]
                         reason, drafts)


def test_a_red_in_an_accepted_return_asks_the_provider_for_a_plan_filled_in_with_what_kpibot_knows(desk: Desk) -> None:
    desk.submit(quits=RED)
    opened = plan(desk)
    assert opened.state == t.REQUESTED and opened.period_id == "2025-26-Q2"
    assert opened.respond_by == date(2025, 10, 15)  # 10 working days after Wednesday 1 October
    assert (opened.target, opened.performance, opened.off_target) == (">= 50%", "20%", "30 percentage points off target")
    assert messages(desk, "plans_after_return") == []  # the reply to the return goes first
    asked = told(desk)  # then one message to each of the provider's people, whatever the number of reds
    assert sorted(m.address for m in asked) == [ALICE, DAVE]
    assert asked[0].subject.startswith("Action plans needed by Wednesday 15 October 2025: City and Hackney")
    body = asked[0].body_text
    assert f"- Action plan {opened.id}: 1.4 {opened.title}. Target: >= 50%. This period: 20%, 30 percentage " \
           "points off target." in body
    assert not re.search(r"quits_4wk|quit_dates|ch-stop-smoking|kpibot \w", body)
    with Session(desk.engine) as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "plan_open")).first() is not None


def test_a_red_again_updates_the_open_plan_and_never_opens_a_second(desk: Desk) -> None:
    desk.submit(quits=RED)
    first = plan(desk)
    before = len(told(desk))
    desk.submit(quits=RED - 1, message_id="correction", at=NOW + timedelta(hours=2))  # the same period, still red
    assert len(told(desk, NOW + timedelta(hours=3))) == before and plan(desk).performance == "19.5%"  # quietly
    desk.submit(Q3, quits=RED)
    with Session(desk.engine) as session:
        plans = session.exec(select(ActionPlan).where(ActionPlan.ref == "1.4")).all()
    assert [p.id for p in plans] == [first.id]
    assert plans[0].period_id == Q3 and plans[0].state == t.REQUESTED
    still = [m for m in told(desk, ARRIVES[Q3] + timedelta(hours=1))[before:]
             if f"Action plan {first.id}: 1.4 " in m.body_text]
    assert sorted(m.address for m in still) == sorted([ALICE, DAVE, CAROL, FRANK])
    assert all("Still RED" in m.body_text for m in still)


def test_the_plan_is_completed_returned_once_then_agreed_and_each_side_hears(desk: Desk) -> None:
    desk.submit(quits=RED)
    done = complete(desk)
    assert done.state == t.SUBMITTED and "2 actions" in done.text
    to_council = [m for m in messages(desk) if m.subject.startswith("Action plan to agree")]
    assert sorted(m.address for m in to_council) == [CAROL, FRANK]
    assert "Rebecca Mellor" in to_council[0].body_text and "20 October 2025" in to_council[0].body_text
    back = acts.send_back(desk.engine, desk.settings, desk.act(CAROL), plan(desk).id or 0,
                          "Action 1 needs a measure of success.")
    assert back.state == t.RETURNED
    returned = [m for m in messages(desk) if m.subject.startswith("Action plan returned")]
    assert sorted(m.address for m in returned) == [ALICE, DAVE]
    assert "Action 1 needs a measure of success." in returned[0].body_text
    complete(desk, who=DAVE, lines=ACTIONS[:1])
    agreed = acts.agree(desk.engine, desk.settings, desk.act(FRANK), plan(desk).id or 0)
    assert agreed.state == t.AGREED
    final = plan(desk)
    assert final.revision == 2 and final.agreed_at is not None
    with Session(desk.engine) as session:
        current = session.exec(select(PlanAction).where(PlanAction.plan_id == final.id,
                                                        PlanAction.revision == final.revision)).all()
        history = [e.action for e in session.exec(select(PlanEvent).where(PlanEvent.plan_id == final.id)
                                                  .order_by(col(PlanEvent.id)))]
    assert [a.due for a in current] == [date(2025, 10, 20)]
    assert history == [t.OPEN, t.COMPLETE, t.SEND_BACK, t.COMPLETE, t.AGREE]
    assert sorted(m.address for m in messages(desk) if m.subject.startswith("Action plan agreed")) == [ALICE, DAVE]


@pytest.mark.parametrize(("lines", "says"), [
    (("Re-train advisers | Monthly sessions | Rebecca Mellor |",), "Action 1 has no when results will be realised"),
    (("Re-train advisers | Monthly sessions |  | 31 March 2026",), "Action 1 has no who will be responsible"),
    (("Re-train advisers | Monthly sessions | Rebecca Mellor | soon",), "'soon' is not a date"),
    (("Re-train advisers | Monthly sessions | Rebecca Mellor | 1 January 2020",), "1 January 2020 has passed"),
    ((), "at least one action"),
])
def test_an_action_without_a_date_or_an_owner_is_refused_saying_which_and_nothing_is_saved(
        desk: Desk, lines: tuple[str, ...], says: str) -> None:
    desk.submit(quits=RED)
    with pytest.raises(Refused) as refused:
        complete(desk, lines=lines)
    assert says in refused.value.text and "Nothing was saved." in refused.value.text
    assert plan(desk).state == t.REQUESTED and plan(desk).revision == 0


def test_an_action_not_written_in_four_parts_is_answered_with_an_example() -> None:
    with pytest.raises(Refused) as refused:
        from_line("Re-train advisers by March", 2)
    assert "Action 2 has 1 part" in refused.value.text and "31 March 2026" in refused.value.text


def test_a_missing_reason_is_refused(desk: Desk) -> None:
    desk.submit(quits=RED)
    with pytest.raises(Refused, match="reason for non-compliance is missing"):
        complete(desk, reason="")


@pytest.mark.parametrize("who", [ALICE, DAVE, BOB, ERIN])
def test_only_the_contracts_commissioners_agree_return_or_close_a_plan(desk: Desk, who: str) -> None:
    desk.submit(quits=RED)
    complete(desk)
    plan_id = plan(desk).id or 0
    for attempt in (lambda: acts.agree(desk.engine, desk.settings, desk.act(who), plan_id),
                    lambda: acts.send_back(desk.engine, desk.settings, desk.act(who), plan_id, "Please change it."),
                    lambda: acts.close(desk.engine, desk.settings, desk.act(who), plan_id, "No longer needed.")):
        with pytest.raises(Refused) as refused:
            attempt()
        text = refused.value.text
        assert ("Only the council's commissioners" in text) if who in (ALICE, DAVE) else ("not one of your" in text)
        if who in (BOB, ERIN):
            assert "1.4" not in text and "City and Hackney" not in text  # nothing of the plan is named to them
    assert plan(desk).state == t.SUBMITTED


@pytest.mark.parametrize("who", [CAROL, BOB, ERIN])
def test_only_the_providers_people_complete_its_plan(desk: Desk, who: str) -> None:
    desk.submit(quits=RED)
    with pytest.raises(Refused):
        complete(desk, who=who)
    assert plan(desk).state == t.REQUESTED


def test_a_provider_sees_only_its_own_plans_and_a_commissioner_only_its_councils(desk: Desk) -> None:
    desk.submit(quits=RED)
    with Session(desk.engine) as session:
        def seen(email: str) -> set[str]:
            contact = session.exec(select(Contact).where(Contact.email == email)).one()
            return {p.contract_id for p in plans_for(session, contact, NOW.date())}
        assert seen(ALICE) == seen(CAROL) == {"ch-stop-smoking"}
        assert seen(BOB) == seen(ERIN) == set()
        bob = session.exec(select(Contact).where(Contact.email == BOB)).one()
        with pytest.raises(Refused):
            plans_for(session, bob, NOW.date(), "ch-stop-smoking")


def test_agreed_actions_are_reminded_before_their_date_and_chased_once_after_it(desk: Desk) -> None:
    desk.submit(quits=RED)
    complete(desk)
    acts.agree(desk.engine, desk.settings, desk.act(CAROL), plan(desk).id or 0)
    sweep(desk.engine, desk.settings, desk.files, morning(date(2025, 10, 14)))
    assert messages(desk, "plan_action_reminder") == []  # too early: 5 days before 20 October is the 15th
    for _ in range(2):
        sweep(desk.engine, desk.settings, desk.files, morning(date(2025, 10, 15)))
    reminders = messages(desk, "plan_action_reminder")
    assert sorted(m.address for m in reminders) == [ALICE, DAVE]
    assert "Re-train pharmacy advisers" in reminders[0].body_text and "20 October 2025" in reminders[0].body_text
    for day in (date(2025, 10, 21), date(2025, 10, 28)):
        sweep(desk.engine, desk.settings, desk.files, morning(day))
    overdue = messages(desk, "plan_action_overdue")
    assert sorted(m.address for m in overdue) == sorted([ALICE, DAVE, CAROL, FRANK])  # once each, both sides
    assert "1 day past its date" in overdue[0].body_text
    assert all(m.subject.startswith("Action past its date") for m in overdue)


def test_a_plan_not_completed_in_time_is_reminded_then_chased_and_the_council_told(desk: Desk) -> None:
    desk.submit(quits=RED)
    sweep(desk.engine, desk.settings, desk.files, morning(date(2025, 10, 13)))  # 2 days before the 15th
    assert {m.address for m in messages(desk, "plan_reminder")} == {ALICE, DAVE}
    sweep(desk.engine, desk.settings, desk.files, morning(date(2025, 10, 16)))
    overdue = messages(desk, "plan_overdue")
    assert {m.address for m in overdue} == {ALICE, DAVE, CAROL, FRANK}
    assert len(overdue) == 4 and overdue[0].subject.startswith("Overdue: 7 action plans")  # one per person
    assert "1.4 " in overdue[0].body_text and "1.5 " in overdue[0].body_text


def test_the_plan_closes_when_the_indicator_is_back_on_target_and_an_older_period_changes_nothing(desk: Desk) -> None:
    desk.submit(quits=RED)
    opened = plan(desk)
    desk.submit("2025-26-Q1", quits=GOOD)  # an older period on target: says nothing of Q2's red
    assert plan(desk).state == t.REQUESTED
    desk.submit(Q3, quits=GOOD)
    closed = plan(desk)
    assert closed.id == opened.id and closed.state == t.CLOSED and closed.closed_how == "recovered"
    assert plan(desk, "1.5").state == t.REQUESTED  # still red at 52.5% against >= 60%
    closing = [m for m in told(desk, ARRIVES[Q3] + timedelta(hours=1))
               if f"Action plan {opened.id}: 1.4 " in m.body_text and "Back on target" in m.body_text]
    assert sorted(m.address for m in closing) == sorted([ALICE, DAVE, CAROL, FRANK])
    desk.submit("2025-26-Q4", quits=RED)
    with Session(desk.engine) as session:
        assert len(session.exec(select(ActionPlan).where(ActionPlan.ref == "1.4")).all()) == 2  # a new one


def test_one_return_opens_updates_and_closes_plans_in_one_statement_and_a_plan_kept_open_keeps_its_since(
        desk: Desk) -> None:
    """The plans one accepted version opens and those it updates are written by one statement (an insert that
    updates the rows naming an open plan): a plan it closes is `closed` since then, one it keeps open keeps its
    `since` and its respond-by date, and no second plan opens for an indicator."""
    desk.submit(quits=RED)
    first, second = plan(desk, "1.4"), plan(desk, "1.5")
    written: list[str] = []

    def statement(_conn: object, _cursor: object, text: str, *_args: object) -> None:
        if "action_plan" in text.split("WHERE")[0] and not text.startswith("SELECT"):
            written.append(text)

    sa.event.listen(desk.engine, "before_cursor_execute", statement)
    try:
        desk.submit(Q3, quits=GOOD)  # 1.4 back on target, 1.5 still red
    finally:
        sa.event.remove(desk.engine, "before_cursor_execute", statement)
    assert len(written) == 1 and written[0].startswith("INSERT INTO action_plan"), written
    closed, kept = plan(desk, "1.4"), plan(desk, "1.5")
    assert (closed.id, closed.state, closed.closed_how) == (first.id, t.CLOSED, "recovered")
    assert closed.since == closed.closed_at == ARRIVES[Q3] and closed.opened_at == first.opened_at
    assert (kept.id, kept.state, kept.since, kept.respond_by) == (second.id, t.REQUESTED, second.since,
                                                                  second.respond_by)
    assert (kept.period_id, kept.opened_by_id, kept.closed_at) == (Q3, second.opened_by_id, None)
    with Session(desk.engine) as session:
        refs = [p.ref for p in session.exec(select(ActionPlan))]
    assert len(refs) == len(set(refs)) > 2  # every indicator red in Q2 has its one plan (updated, not opened again)


def test_the_commissioner_closes_a_plan_saying_why(desk: Desk) -> None:
    desk.submit(quits=RED)
    with pytest.raises(Refused, match="Say why the plan closes"):
        acts.close(desk.engine, desk.settings, desk.act(CAROL), plan(desk).id or 0, "")
    closed = acts.close(desk.engine, desk.settings, desk.act(CAROL), plan(desk).id or 0,
                        "The target was re-negotiated for the year.")
    assert closed.state == t.CLOSED
    with pytest.raises(Refused, match="The plan is closed"):
        complete(desk)


def test_a_draft_is_read_whatever_way_the_date_is_written() -> None:
    from bot.plans.drafts import checked
    _, actions = checked("Two pharmacies stopped.", [ActionDraft("a", "b", "c", w) for w in
                                                      ("31 March 2026", "31/03/2026", "2026-03-31", "31st March 2026")],
                         date(2025, 10, 1))
    assert {a.due for a in actions} == {date(2026, 3, 31)}


def test_reports_show_each_plans_state_its_actions_and_those_past_their_date(desk: Desk) -> None:
    from pypdf import PdfReader

    from bot.reports.exception_report import build_exception_report
    from bot.reports.render import render_exception_report, render_return_report
    from bot.reports.stored import contract_period_status, return_report
    from bot.storage.models import Contract
    from kpi_core.calendar import parse_period

    desk.submit(quits=RED)
    complete(desk)
    acts.agree(desk.engine, desk.settings, desk.act(CAROL), plan(desk).id or 0)
    later = morning(date(2025, 10, 22))  # action 1 was due by 20 October
    with Session(desk.engine) as session:
        report = return_report(session, desk.files, desk.settings, "ch-stop-smoking", "2025-26-Q2", later)
        contract = session.get(Contract, "ch-stop-smoking")
        assert contract is not None
        status = contract_period_status(session, desk.files, desk.settings, contract,
                                        parse_period("2025-26-Q2", 4), later.date())
    shown = next(p for p in report.action_plans if p.ref == "1.4")
    assert shown.number == plan(desk).id and shown.state == "agreed, 1 action past its date"
    assert [a.overdue for a in shown.actions] == [True, False]
    text = " ".join(" ".join(page.extract_text().split()) for page in
                    PdfReader(io.BytesIO(render_return_report(report))).pages)
    assert f"Performance action plan {shown.number}" in text and "agreed, 1 action past its date" in text
    assert "Two pharmacies stopped offering the service in August." in text and "Rebecca Mellor" in text
    exceptions = build_exception_report([status], "2025-26 Q2")
    row = next(r for r in exceptions.plans if r.plan.ref == "1.4")
    assert row.late and [a.number for a in row.plan.overdue_actions] == [1]
    pdf = render_exception_report(exceptions)
    listed = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert f"Plan {shown.number}: 1.4" in listed and "Re-train pharmacy advisers (Rebecca Mellor), by 20 October " \
                                                     "2025: OVERDUE" in listed
