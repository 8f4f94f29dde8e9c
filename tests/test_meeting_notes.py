"""Meeting notes and agreed actions, on a real database of each kind: recorded by the contract's commissioner from
the command line and Telegram, listed as the contract's history and audited; refused to a provider and to another
council's commissioner (notes and pack alike); every mistake answered in one line, with nothing saved."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from desk_cli import error_line, kpibot
from intake_fixtures import ALICE, BOB, NOW
from review_fixtures import CAROL, ERIN, Q2, Desk
from sqlmodel import Session, col, func, select

from bot.channels.telegram.meeting import Written, meeting_reply, read_meeting
from bot.storage.meeting_models import MeetingAction, MeetingNote
from bot.storage.models import AuditEvent, Contact

CONTRACT = "ch-stop-smoking"
ACTION = "Send the revised referral pathway; Jo Bloggs, service manager; 15 January 2030"
NOTES = "Quits were below target in August; the provider explained the pharmacy closures."


def notes_kept(desk: Desk) -> int:
    with Session(desk.engine) as session:
        return session.exec(select(func.count()).select_from(MeetingNote)).one()


def test_the_commissioner_records_notes_and_actions_which_join_the_contracts_history(desk: Desk) -> None:
    done = kpibot(desk, "meeting", "notes", "--contract", CONTRACT, "--period", Q2, "--notes", NOTES, "--as", CAROL,
                  "--action", ACTION, "--action", "Share the pharmacy recovery plan; Breathe Easy; 28 February 2030")
    assert done.exit_code == 0, done.output
    assert done.output.startswith("Recorded the notes of the meeting on City and Hackney Stop Smoking Service, Q2")
    assert "with 2 agreed actions: 1. Send the revised referral pathway (Jo Bloggs, service manager), by 15 " \
           "January 2030" in done.output
    with Session(desk.engine) as session:
        note = session.exec(select(MeetingNote)).one()
        actions = session.exec(select(MeetingAction).order_by(col(MeetingAction.number))).all()
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "meeting_notes")).one()
    assert note.contract_id == CONTRACT and note.period_id == Q2 and note.notes == NOTES and note.channel == "cli"
    assert [(a.number, a.who) for a in actions] == [(1, "Jo Bloggs, service manager"), (2, "Breathe Easy")]
    assert audit.actor == CAROL and audit.subject == f"meeting_note:{note.id}" and audit.detail["actions"] == 2
    listed = kpibot(desk, "meeting", "list", "--contract", CONTRACT, "--as", CAROL)
    assert listed.exit_code == 0 and NOTES in listed.output
    assert "  2. Share the pharmacy recovery plan (Breathe Easy), by 28 February 2030" in listed.output


@pytest.mark.parametrize("who, words", [
    (ALICE, "Only the council that commissions City and Hackney Stop Smoking Service"),  # the provider
    (ERIN, "No contract 'ch-stop-smoking' among those you may see (yours: other-stop-smoking)"),  # another council
    (BOB, "No contract 'ch-stop-smoking' among those you may see"),  # another provider
])
def test_only_the_contracts_commissioner_records_notes_or_draws_the_pack(desk: Desk, tmp_path: Path, who: str,
                                                                          words: str) -> None:
    desk.submit()
    notes = kpibot(desk, "meeting", "notes", "--contract", CONTRACT, "--period", Q2, "--notes", NOTES, "--as", who)
    assert words in error_line(notes)
    out = tmp_path / "pack.pdf"
    pack = kpibot(desk, "meeting", "pack", "--contract", CONTRACT, "--period", Q2, "--out", str(out), "--as", who)
    assert words in error_line(pack) and not out.exists()
    assert notes_kept(desk) == 0
    drawn = kpibot(desk, "meeting", "pack", "--contract", CONTRACT, "--period", Q2, "--out", str(out), "--as", CAROL)
    assert drawn.exit_code == 0 and out.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("args, words", [
    (["--action", "Send the pathway; 15 January 2030"], "Action 1 has 2 parts: write what is to be done, who does "
                                                        "it and by when, separated by ';'"),
    (["--action", "Send the pathway; ; 15 January 2030"], "Action 1 has no owner (who does it)"),
    (["--action", "Send the pathway; Jo Bloggs;"], "Action 1 has no date (by when)"),
    (["--action", ACTION, "--action", "Send the data; Jo Bloggs; next week"],
     "Action 2: 'next week' is not a date; write the day it is due, for example 15 January 2027"),
    (["--action", "Send the pathway; Jo Bloggs; 1 January 2020"], "Action 1: 1 January 2020 is before the meeting"),
    (["--contract", "nope"], "No contract 'nope' among those you may see (yours: ch-stop-smoking, "),
    (["--period", "2025-26-Q9"], "2025-26-Q9"),
    (["--period", "2031-32-Q1"], "owes no return for Q1 2031-32"),
    (["--notes", "ok"], "Write the meeting's notes"),
])
def test_each_mistake_in_the_notes_gets_its_own_answer_and_nothing_is_saved(desk: Desk, args: list[str],
                                                                            words: str) -> None:
    given = {"--contract": CONTRACT, "--period": Q2, "--notes": NOTES, "--as": CAROL}
    actions = []
    for option, value in zip(args[::2], args[1::2], strict=True):
        if option == "--action":
            actions += [option, value]
        else:
            given[option] = value
    line = [*(x for pair in given.items() for x in pair), *actions]
    assert words in error_line(kpibot(desk, "meeting", "notes", *line))
    assert notes_kept(desk) == 0


def test_a_commissioner_records_a_meeting_in_telegram(desk: Desk) -> None:
    council = desk.contact(CAROL)
    message = (f"/meeting {CONTRACT} {Q2} Quits were below target in August.\nThe provider explained the closures."
               f"\naction: {ACTION}")
    act = desk.act(CAROL, NOW + timedelta(days=60), channel="telegram", key="telegram:1:5:77")
    reply = meeting_reply(desk.engine, desk.settings, _contact(desk, council), message, act)
    assert reply.startswith("✅ Recorded the notes of the meeting on City and Hackney Stop Smoking Service")
    assert meeting_reply(desk.engine, desk.settings, _contact(desk, council), message, act) == \
        "✅ Already recorded: nothing more to do."  # the same chat message twice is one recording
    with Session(desk.engine) as session:
        note = session.exec(select(MeetingNote)).one()
    assert note.notes == "Quits were below target in August.\nThe provider explained the closures."
    assert note.channel == "telegram"
    usage = meeting_reply(desk.engine, desk.settings, _contact(desk, council), "/meeting", act)
    assert usage.startswith("Write /meeting, the contract, the period") and "Your contracts: ch-stop-smoking" in usage
    assert meeting_reply(desk.engine, desk.settings, _contact(desk, council), f"/meeting {CONTRACT}", act) == (
        f"Name the period of the return the meeting was on after the contract, for example /meeting {CONTRACT} "
        "2026-27-Q1, then the notes.")
    erin = desk.contact(ERIN)
    refused = meeting_reply(desk.engine, desk.settings, _contact(desk, erin), message.replace("77", "78"),
                            desk.act(ERIN, NOW + timedelta(days=60), channel="telegram", key="telegram:1:6:1"))
    assert refused.startswith("No contract 'ch-stop-smoking' among those you may see")


def test_a_meeting_message_is_read_line_by_line() -> None:
    assert read_meeting("/meeting c 2026-27-Q1 Notes here\nmore notes\naction: a; b; 1 May 2027\nACTION: x; y; z") \
        == Written("c", "2026-27-Q1", "Notes here\nmore notes", ("a; b; 1 May 2027", "x; y; z"))
    assert read_meeting("/meeting c 2026-27-Q1") == Written("c", "2026-27-Q1", "", ())
    assert read_meeting("/meeting@kpibot") == "usage"


def _contact(desk: Desk, contact_id: int) -> Contact:
    with Session(desk.engine) as session:
        found = session.get(Contact, contact_id)
        assert found is not None
        session.expunge(found)
        return found
