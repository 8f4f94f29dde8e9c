"""The exception report's Teams card lists open action plans with something overdue, as the PDF report does: the
plan, its state and each agreed action past its date; the plans on time are counted, not listed."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from teams_fixtures import assert_valid_message, texts
from test_reports import status_for

from bot.assessment.plans import ActionView, PlanView
from bot.channels.teams import cards
from bot.reports.exception_report import build_exception_report
from jobs.cards import card_message

TODAY = date(2026, 1, 20)


def plan(number: int, ref: str, state: str, due: date, overdue: bool = False,
         actions: tuple[ActionView, ...] = ()) -> PlanView:
    return PlanView(number, "ch-stop-smoking", "City and Hackney Stop Smoking Service", ref, "Smoking quitters",
                    state, ">= 50%", "20%", "30 percentage points off target", "2025-26-Q3", due, "", "", "",
                    overdue, actions)


def test_the_exception_reports_card_lists_the_plans_with_something_overdue() -> None:
    late_action = ActionView(1, "Re-train pharmacy advisers", "Monthly sessions", "Rebecca Mellor", date(2026, 1, 5),
                             True)
    on_time = ActionView(2, "Follow up every quit date", "Calls", "Clinic leads", date(2026, 3, 31), False)
    plans = (plan(3, "1.5", "agreed", date(2025, 12, 1), actions=(late_action, on_time)),
             plan(4, "1.4", "requested", date(2026, 1, 15), overdue=True),
             plan(5, "1.6", "submitted", date(2026, 1, 30)))
    report = build_exception_report([replace(status_for("ch-stop-smoking"), plans=plans)], "2025-26 Q3")
    message = card_message("exception_report", report=report, contracts=["City and Hackney Stop Smoking Service"],
                           notes=[], deadline="15 January 2026", late=0, red=1, critical=(), headline="0 late")
    assert message.card is not None
    [shown] = [s for s in message.card.sections if s.heading.startswith("Action plans with something overdue")]
    assert shown.heading == "Action plans with something overdue (2)" and shown.tone == "warning"
    name = "Contract for City and Hackney Stop Smoking Service"
    assert shown.lines[0] == (f"{name}: Plan 3: 1.5 Smoking quitters: agreed, 1 action overdue; 1. Re-train "
                              "pharmacy advisers (Rebecca Mellor), by 5 January 2026: OVERDUE")
    assert shown.lines[1].startswith(f"{name}: Plan 4: 1.4 Smoking quitters: requested from the provider, due by 15 "
                                     "January 2026 (OVERDUE)")
    assert "1 other open action plan: nothing overdue." in message.text
    assert "Follow up every quit date" not in message.text  # an action on time is not news
    seen = texts(assert_valid_message(cards.message(message.card)))
    assert any("Plan 3: 1.5 Smoking quitters" in line for line in seen)


def test_a_card_without_open_plans_has_no_plans_section() -> None:
    report = build_exception_report([status_for("ch-stop-smoking")], "2025-26 Q3")
    message = card_message("exception_report", report=report, contracts=[], notes=[], deadline="15 January 2026",
                           late=0, red=1, critical=(), headline="0 late")
    assert message.card is not None and not any("Action plans" in s.heading for s in message.card.sections)
    assert "action plan" not in message.text
