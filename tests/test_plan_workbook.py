"""The action-plan workbook, on a real database of each kind: `kpibot plans workbook` writes it for an open plan
(seed 002's layout, the figures kpibot knows locked); filled in and sent back through the intake, it is recognised
by its hidden sheet, read within the reader's caps and completes its plan through acts.complete. It is never scored:
no version, no figures. A workbook that cannot complete its plan is answered saying which row and cell to correct,
or why it is the wrong plan."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from desk_cli import kpibot
from intake_fixtures import ALICE, BOB, NOW, received
from openpyxl import load_workbook
from review_fixtures import CAROL, Desk
from sqlmodel import Session, col, select

from bot.intake.received import IntakeResult
from bot.plans import acts
from bot.storage.models import OutboxMessage, Submission
from bot.storage.plan_models import ActionPlan, PlanAction, PlanEvent
from kpi_core.returns import plan_sheet

REASON = "Two pharmacies stopped the service in August."
ROWS = (("Re-train pharmacy advisers", "Monthly sessions led by the lead adviser", "Rebecca Mellor, Public Health",
         datetime(2025, 10, 31)),
        ("Open two new clinics", "In the two wards with the most smokers", "Service manager", "31/12/2025"))


def red_plan(desk: Desk) -> int:
    desk.submit(quits=40)
    with Session(desk.engine) as session:
        found = session.exec(select(ActionPlan.id).where(ActionPlan.ref == "1.4")).one()
        assert found is not None
        return found


def made(desk: Desk, plan_id: int, tmp_path: Path, who: str = ALICE) -> bytes:
    out = tmp_path / f"plan-{plan_id}.xlsx"
    written = kpibot(desk, "plans", "workbook", str(plan_id), "--as", who, "--out", str(out))
    assert written.exit_code == 0, written.output
    assert "fill in the yellow cells" in written.output
    return out.read_bytes()


def filled(data: bytes, reason: str = REASON, rows: tuple[tuple[Any, ...], ...] = ROWS,
           **marker: str) -> bytes:
    """The workbook as a provider fills it in (Excel would do the same to its cells)."""
    book = load_workbook(io.BytesIO(data))
    sheet = book[plan_sheet.PLAN_SHEET]
    reason_row = next(c.row for c in sheet["A"] if c.value == plan_sheet.REASON_LABEL)
    sheet.cell(reason_row, 2, reason)
    header = next(c.row for c in sheet["B"] if c.value == plan_sheet.ACTION_HEADERS[1])
    for n, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=2):
            sheet.cell(header + n, column, value)
    hidden = book[plan_sheet.MARKER_SHEET]
    for cells in hidden.iter_rows():
        if cells[0].value in marker:
            cells[1].value = marker[cells[0].value]
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def send(desk: Desk, data: bytes, message_id: str, sender: str = ALICE, channel: str = "email",
         at: datetime = NOW + timedelta(hours=2)) -> IntakeResult:
    return desk.intake.submit(received(data, message_id=message_id, sender=sender, at=at, channel=channel,
                                       filename="action plan.xlsx"))


def versions(engine: sa.Engine) -> list[tuple[int | None, str]]:
    with Session(engine) as session:
        return [(s.version, s.status) for s in session.exec(select(Submission).order_by(col(Submission.id)))]


def test_the_workbook_shows_what_kpibot_knows_and_is_recognised_by_its_hidden_sheet(desk: Desk,
                                                                                   tmp_path: Path) -> None:
    plan_id = red_plan(desk)
    book = load_workbook(io.BytesIO(made(desk, plan_id, tmp_path)))
    sheet = book[plan_sheet.PLAN_SHEET]
    text = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    with Session(desk.engine) as session:
        plan = session.get(ActionPlan, plan_id)
        assert plan is not None
        assert f"{plan.ref} {plan.title}" in text and plan.target in text and plan.performance in text
        assert plan.off_target in text and "City and Hackney Stop Smoking Service" in text
    assert "PERFORMANCE ACTION PLAN" in text and "INDICATOR OVERVIEW" in text and plan_sheet.REASON_LABEL in text
    assert list(plan_sheet.ACTION_HEADERS) == [c.value for c in next(
        r for r in sheet.iter_rows() if r[1].value == plan_sheet.ACTION_HEADERS[1])][:5]
    assert sheet.protection.sheet and book[plan_sheet.MARKER_SHEET].sheet_state == "veryHidden"
    locked = next(c for c in sheet["B"] if c.value == f"{plan.ref} {plan.title}")
    assert locked.protection.locked
    assert "quits_4wk" not in " ".join(text) and "ch-stop-smoking" not in " ".join(text)


def test_a_plan_is_completed_by_its_workbook_and_never_scored_as_a_return(desk: Desk, tmp_path: Path) -> None:
    plan_id = red_plan(desk)
    before = versions(desk.engine)
    result = send(desk, filled(made(desk, plan_id, tmp_path)), "wb-1")
    assert result.outcome == "action_plan", result.reply
    assert result.reply.startswith("Thank you: action plan") and "with 2 actions" in result.reply
    assert send(desk, filled(made(desk, plan_id, tmp_path)), "wb-1").outcome == "duplicate"  # the same email
    after = versions(desk.engine)
    assert after[:len(before)] == before and after[len(before):] == [(None, "action_plan")]
    with Session(desk.engine) as session:
        plan = session.get(ActionPlan, plan_id)
        assert plan is not None and (plan.state, plan.revision, plan.reason) == ("submitted", 1, REASON)
        actions = session.exec(select(PlanAction).where(PlanAction.plan_id == plan_id)
                               .order_by(col(PlanAction.number))).all()
        assert [(a.what, a.who, a.due.isoformat()) for a in actions] == [
            ("Re-train pharmacy advisers", "Rebecca Mellor, Public Health", "2025-10-31"),
            ("Open two new clinics", "Service manager", "2025-12-31")]
        [event] = session.exec(select(PlanEvent).where(PlanEvent.action == "complete")).all()
        assert event.channel == "email"
        taken = session.exec(select(Submission).where(Submission.status == "action_plan")).one()
        assert taken.sha256 is not None and taken.obligation_id is None and taken.contract_id is None
        for table in ("data_value", "indicator_result"):
            count = session.execute(sa.text(f"SELECT count(*) FROM {table} WHERE submission_id = :s"),
                                    {"s": taken.id}).scalar_one()
            assert count == 0
        reply = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "reply")
                             .order_by(col(OutboxMessage.id).desc())).first()
        assert reply is not None and reply.subject == "Action plan sent to the council"


def test_bad_rows_and_a_blank_reason_are_answered_by_row_and_cell(desk: Desk, tmp_path: Path) -> None:
    plan_id = red_plan(desk)
    blank = made(desk, plan_id, tmp_path)
    rows = (ROWS[0], ("Open two new clinics", "In the two wards", "", ""), ("Outreach", "Letters", "Nurse lead",
                                                                            "soon"),
            ("Audit", "Monthly", "Data lead", "1 September 2025"))
    refused = send(desk, filled(blank, reason="", rows=rows), "wb-bad")
    assert refused.outcome == "rejected"
    text = refused.reply
    assert "The reason for non-compliance ('Action plan'!B12) is blank" in text
    assert "Row 17: no who will be responsible and no when results will be realised (a date) " \
           "('Action plan'!D17, 'Action plan'!E17)." in text
    assert "Row 18 ('Action plan'!E18): 'soon' is not a date" in text
    assert "Row 19 ('Action plan'!E19): 1 September 2025 has passed" in text
    assert "nothing was saved" in text
    assert send(desk, filled(blank, rows=()), "wb-none").reply.startswith("No action is written")
    with Session(desk.engine) as session:
        plan = session.get(ActionPlan, plan_id)
        assert plan is not None and (plan.state, plan.revision) == ("requested", 0)


def test_a_workbook_for_another_contract_another_indicator_or_an_older_plan_is_refused(
        desk: Desk, tmp_path: Path) -> None:
    plan_id = red_plan(desk)
    blank = made(desk, plan_id, tmp_path)
    theirs = send(desk, filled(blank), "wb-bob", sender=BOB)
    assert theirs.outcome == "rejected" and "which is not one of your contracts' plans" in theirs.reply
    other = send(desk, filled(blank, indicator="1.5"), "wb-other")
    assert "made for indicator 1.5 of another plan" in other.reply
    assert send(desk, filled(blank), "wb-1").outcome == "action_plan"
    older = send(desk, filled(blank), "wb-2")
    assert "older version of action plan" in older.reply and "waiting for the council" in older.reply
    acts.send_back(desk.engine, desk.settings, desk.act(CAROL, at=NOW + timedelta(hours=3)), plan_id,
                   "Name a measure of success for each action.")
    again = send(desk, filled(blank), "wb-3", at=NOW + timedelta(hours=4))
    assert "made before action plan" in again.reply and "returned it with a comment" in again.reply
    fresh = load_workbook(io.BytesIO(made(desk, plan_id, tmp_path)))[plan_sheet.PLAN_SHEET]
    cells = [str(c.value) for row in fresh.iter_rows() for c in row if c.value is not None]
    assert "Name a measure of success for each action." in cells and REASON in cells  # last time's, to edit
    redone = send(desk, made(desk, plan_id, tmp_path), "wb-4", at=NOW + timedelta(hours=4))
    assert redone.outcome == "action_plan", redone.reply  # as it came, with last time's answers
    acts.close(desk.engine, desk.settings, desk.act(CAROL, at=NOW + timedelta(hours=5)), plan_id,
               "The target was re-negotiated.")
    closed = send(desk, filled(blank), "wb-5", at=NOW + timedelta(hours=6))
    assert "which is closed" in closed.reply
    gone = kpibot(desk, "plans", "workbook", str(plan_id), "--out", str(tmp_path / "x.xlsx"))
    assert gone.exit_code == 1 and "is closed: it has no workbook" in gone.output
    with Session(desk.engine) as session:
        assert [e.action for e in session.exec(select(PlanEvent).where(PlanEvent.plan_id == plan_id)
                                               .order_by(col(PlanEvent.id)))] == \
            ["open", "complete", "send_back", "complete", "close"]
        assert session.exec(select(Submission).where(col(Submission.version).is_not(None),
                                                     Submission.filename == "action plan.xlsx")).first() is None


@pytest.mark.parametrize("who", [BOB])
def test_the_workbook_of_a_plan_not_theirs_is_not_given(desk: Desk, tmp_path: Path, who: str) -> None:
    plan_id = red_plan(desk)
    refused = kpibot(desk, "plans", "workbook", str(plan_id), "--as", who, "--out", str(tmp_path / "x.xlsx"))
    assert refused.exit_code == 1 and "not one of your contracts" in refused.output
    assert not (tmp_path / "x.xlsx").exists()


def test_the_capped_reader_process_reads_the_plan_and_looks_for_personal_data_elsewhere(desk: Desk,
                                                                                         tmp_path: Path) -> None:
    from bot.workbooks.isolated import IsolatedReader

    data = filled(made(desk, red_plan(desk), tmp_path))
    book = load_workbook(io.BytesIO(data))
    patients = book.create_sheet("Clients")
    for name in ("Mrs Jane Smith", "Mr John Brown", "Mrs Mary Jones", "Mr Peter Green"):
        patients.append([name])
    out = io.BytesIO()
    book.save(out)
    with IsolatedReader() as reader:
        read = reader.read(data, "action plan.xlsx")
        listed = reader.read(out.getvalue(), "action plan.xlsx")
    assert read.action_plan is not None and read.action_plan.reason == REASON
    assert [r.values[2] for r in read.action_plan.rows] == ["Rebecca Mellor, Public Health", "Service manager"]
    assert listed.personal_data and listed.action_plan is None  # a list of people is refused, whatever else it is


def test_the_sweep_sends_each_plan_asked_for_with_its_workbook_attached_and_again_when_returned(
        desk: Desk, tmp_path: Path) -> None:
    from jobs.sweep import sweep

    plan_id = red_plan(desk)

    def sent() -> list[OutboxMessage]:
        with Session(desk.engine) as session:
            return list(session.exec(select(OutboxMessage).where(
                OutboxMessage.kind == "plan_workbook",
                col(OutboxMessage.attachment_name).startswith(f"action-plan-{plan_id}-")).order_by(col(OutboxMessage.id))))
    sweep(desk.engine, desk.settings, desk.files, NOW + timedelta(hours=1))
    sweep(desk.engine, desk.settings, desk.files, NOW + timedelta(hours=2))  # once only
    first = sent()
    assert [m.address for m in first] == [ALICE]  # the provider's submitter, as returns are asked of

    message = first[0]
    assert message.subject.startswith("Action plan to complete: City and Hackney Stop Smoking Service, 1.4 ")
    assert message.attachment_name == f"action-plan-{plan_id}-1_4-2025-26-Q2.xlsx"
    assert "reply to this email with the workbook attached by Wednesday 15 October 2025" in " ".join(message.body_text.split())
    assert message.attachment_sha256 is not None
    attached = desk.files.get(message.attachment_sha256)
    assert send(desk, filled(attached), "from-email").outcome == "action_plan"  # the attachment, filled in
    acts.send_back(desk.engine, desk.settings, desk.act(CAROL, at=NOW + timedelta(hours=3)), plan_id,
                   "Name a measure of success for each action.")
    sweep(desk.engine, desk.settings, desk.files, NOW + timedelta(hours=4))
    again = sent()[1:]
    assert len(again) == 1 and "The council returned it with this comment: Name a measure of success" in \
        again[0].body_text


def test_kpibot_submit_of_a_filled_in_workbook_completes_the_plan_with_exit_code_0(desk: Desk, tmp_path: Path) -> None:
    plan_id = red_plan(desk)
    path = tmp_path / "filled.xlsx"
    later = tuple((*row[:3], "31 March 2030") for row in ROWS)  # `kpibot submit` dates it by the real clock
    path.write_bytes(filled(made(desk, plan_id, tmp_path), rows=later))
    done = kpibot(desk, "submit", str(path), "--as", ALICE)
    assert done.exit_code == 0, done.output
    assert "Thank you: action plan" in done.output and "with 2 actions" in done.output
    again = kpibot(desk, "submit", str(path), "--as", ALICE)  # another message: the plan waits for the council now
    assert again.exit_code == 2 and "older version of action plan" in again.output


def test_a_renamed_plan_sheet_still_reads_and_a_removed_one_is_named() -> None:
    from bot.workbooks.action_plan import build_plan_workbook
    from bot.workbooks.plan_facts import PlanFacts
    from kpi_core.returns.reader import read_return

    facts = PlanFacts(3, 0, "ch-stop-smoking", "City and Hackney Stop Smoking Service", "Breathe Easy CIC", "1.4",
                      "Smoking quitters", "3500", "1693", "1807 off target", "2025-26-Q2", "Q2 2025-26",
                      "15 October 2025")
    book = load_workbook(io.BytesIO(filled(build_plan_workbook(facts))))
    book[plan_sheet.PLAN_SHEET].title = "Our plan"
    out = io.BytesIO()
    book.save(out)
    renamed = read_return(out.getvalue(), "plan.xlsx").action_plan
    assert renamed is not None and renamed.sheet == "Our plan" and renamed.reason == REASON
    assert renamed.reason_cell == "'Our plan'!B12" and len(renamed.rows) == 2
    del book["Our plan"]
    book.create_sheet("Notes").append(["Our own notes"])
    out = io.BytesIO()
    book.save(out)
    removed = read_return(out.getvalue(), "plan.xlsx").action_plan
    assert removed is not None and "the sheet 'Action plan' with the reason and the actions is missing" in \
        removed.problem
