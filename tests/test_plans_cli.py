"""Action plans from the command line (`kpibot plans`), on a real database of each kind: the same acts as chat, a
refusal one `Error:` line with exit code 1; and the table of transitions walked by every part."""

from __future__ import annotations

import pytest
from desk_cli import error_line, kpibot
from intake_fixtures import ALICE, BOB
from review_fixtures import CAROL, Desk
from sqlmodel import Session, select

from bot.plans import table as t
from bot.storage.plan_models import ActionPlan

ACTION = "Re-train pharmacy advisers | Monthly sessions | Rebecca Mellor | 31 March 2030"


def plan_id(desk: Desk, ref: str = "1.4") -> str:
    with Session(desk.engine) as session:
        return str(session.exec(select(ActionPlan.id).where(ActionPlan.ref == ref)).one())


def test_a_plan_is_listed_completed_returned_completed_and_agreed_from_the_command_line(desk: Desk) -> None:
    desk.submit(quits=40)
    listed = kpibot(desk, "plans", "list", "--as", ALICE)
    assert listed.exit_code == 0 and "City and Hackney Stop Smoking Service:" in listed.output
    assert f"Plan {plan_id(desk)}: 1.4 " in listed.output and "requested from the provider, due by" in listed.output
    assert kpibot(desk, "plans", "list", "--as", BOB).output.strip() == "No action plan is open."
    p = plan_id(desk)
    done = kpibot(desk, "plans", "complete", p, "--as", ALICE, "--reason", "Two pharmacies stopped the service.",
                  "--action", ACTION)
    assert done.exit_code == 0 and "was sent to the council with 1 action (by 31 March 2030)" in done.output
    back = kpibot(desk, "plans", "return", p, "--as", CAROL, "--comment", "Name a measure of success.")
    assert back.exit_code == 0 and back.output.startswith("Returned:")
    kpibot(desk, "plans", "complete", p, "--as", ALICE, "--reason", "Two pharmacies stopped the service.",
           "--action", ACTION, "--action", ACTION.replace("Re-train", "Recruit"))
    agreed = kpibot(desk, "plans", "agree", p, "--as", CAROL)
    assert agreed.exit_code == 0 and "Its actions are now followed" in agreed.output
    shown = kpibot(desk, "plans", "show", p, "--as", ALICE)
    assert "Reason for non-compliance: Two pharmacies stopped the service." in shown.output
    assert "2. Recruit pharmacy advisers (Rebecca Mellor), by 31 March 2030" in shown.output
    assert "State: agreed" in shown.output


def test_mistakes_on_the_command_line_are_one_error_line(desk: Desk) -> None:
    desk.submit(quits=40)
    p = plan_id(desk)
    assert "Only the council's commissioners may agree the plan" in error_line(
        kpibot(desk, "plans", "agree", p, "--as", ALICE))
    assert "not one of your contracts" in error_line(kpibot(desk, "plans", "show", p, "--as", BOB))
    assert "not one of your contracts" in error_line(kpibot(desk, "plans", "show", "9999", "--as", CAROL))
    assert "Action 1 has 3 parts" in error_line(kpibot(desk, "plans", "complete", p, "--as", ALICE, "--reason",
                                                       "Two pharmacies stopped.", "--action", "a | b | c"))
    assert "cannot be agreed or returned while it is requested" in error_line(
        kpibot(desk, "plans", "agree", p, "--as", CAROL))


@pytest.mark.parametrize("state", t.STATES)
@pytest.mark.parametrize("action", t.ACTIONS)
@pytest.mark.parametrize("part", [t.COMMISSIONER, t.PROVIDER, None])
def test_the_table_allows_each_row_to_its_parts_and_refuses_everything_else_in_words(
        state: str, action: str, part: str | None) -> None:
    row = t.transition(state, action)
    allowed = row is not None and part in row.who
    assert (action in t.actions_in(state, part or "")) == allowed
    if not allowed:
        words = t.refusal(state, action, part)
        assert words.endswith(".") and "_" not in words  # a sentence, no internal names
