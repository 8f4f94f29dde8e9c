"""Requests for information, on a real database of each kind: the council asks with its own deadline, the provider
is reminded and chased like a return, answers with any document (kept as sent, never read as a return), on time or
late; a hostile file is refused clearly with nothing kept and the request still open. Only the contract's
commissioners ask; a provider sees and answers only its own requests."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from desk_cli import kpibot
from intake_fixtures import ALICE, BOB, DAVE
from review_fixtures import CAROL, ERIN, FRANK, Desk
from sqlmodel import Session, col, select

from bot.plans import requests as rq
from bot.review.scene import Outcome, Refused
from bot.storage.models import AuditEvent, Contact, OutboxMessage
from bot.storage.plan_models import InfoRequest
from jobs.sweep import sweep

LONDON = ZoneInfo("Europe/London")
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def morning(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), LONDON).astimezone(UTC)


def ask(desk: Desk, who: str = CAROL, due: str = "2 working days", what: str = "Inspection report") -> Outcome:
    return rq.ask(desk.engine, desk.settings, desk.act(who), "ch-stop-smoking", what, due,
                  "The CQC inspection of September, with its action plan.")


def answer(desk: Desk, request_id: int, who: str = ALICE, name: str = "inspection.pdf", data: bytes = PDF,
           at: datetime | None = None) -> Outcome:
    act = desk.act(who, at=at) if at else desk.act(who)
    return rq.answer(desk.engine, desk.settings, desk.files, act, request_id, name, data, "As published.")


def request(desk: Desk, request_id: int) -> InfoRequest:
    with Session(desk.engine) as session:
        found = session.get(InfoRequest, request_id)
        assert found is not None
        session.expunge(found)
        return found


def messages(desk: Desk, kind: str = "plan") -> list[OutboxMessage]:
    with Session(desk.engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                 .order_by(col(OutboxMessage.id))))


def stored_files(desk: Desk) -> int:
    return sum(1 for p in Path(desk.settings.storage.files_dir).rglob("*") if p.is_file())


def test_a_request_answered_on_time_is_kept_linked_and_passed_to_the_council(desk: Desk) -> None:
    asked = ask(desk)
    assert "by Friday 3 October 2025" in asked.text and "Told: Alice and Dave." in asked.text
    told = [m for m in messages(desk) if m.subject.startswith("Request 1 from the council")]
    assert sorted(m.address for m in told) == [ALICE, DAVE] and "Inspection report" in told[0].body_text
    done = answer(desk, asked.review_id or 0)
    assert "on time" in done.text
    kept = request(desk, asked.review_id or 0)
    assert (kept.state, kept.on_time, kept.filename, kept.size) == ("answered", True, "inspection.pdf", len(PDF))
    assert kept.sha256 is not None and desk.files.get(kept.sha256) == PDF  # kept as sent, byte for byte
    passed = [m for m in messages(desk) if m.subject.startswith("Answered")]
    assert sorted(m.address for m in passed) == [CAROL, FRANK]
    assert all(m.attachment_sha256 == kept.sha256 and m.attachment_name == "inspection.pdf" for m in passed)
    with pytest.raises(Refused, match="was answered on"):
        answer(desk, asked.review_id or 0, who=DAVE)


def test_a_late_answer_is_recorded_as_late_and_the_council_told_so(desk: Desk) -> None:
    asked = ask(desk)
    done = answer(desk, asked.review_id or 0, at=morning(date(2025, 10, 6)))
    assert "after its deadline" in done.text
    assert request(desk, asked.review_id or 0).on_time is False
    assert all(m.subject.startswith("Answered late") for m in messages(desk) if m.address in (CAROL, FRANK))


def _docm() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("word/vbaProject.bin", b"\x00" * 64)
    return buffer.getvalue()


@pytest.mark.parametrize(("name", "data", "says"), [
    ("inspection.pdf", b"MZ\x90\x00" + b"\x00" * 100, "is a program, not a document"),
    ("inspection.docx", _docm(), "contains macros"),
    ("inspection.pdf", b"<html>not a pdf</html>", "is not the .pdf file its name says"),
    ("inspection.pdf", PDF.replace(b"/Catalog", b"/Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>"),
     "scripts"),
    ("inspection.exe", b"hello", "kpibot keeps documents of these kinds"),
])
def test_a_hostile_file_is_refused_clearly_nothing_is_kept_and_the_request_stays_open(
        desk: Desk, name: str, data: bytes, says: str) -> None:
    asked = ask(desk)
    before = stored_files(desk)
    with pytest.raises(Refused) as refused:
        answer(desk, asked.review_id or 0, name=name, data=data)
    assert says in refused.value.text and "The request stays open" in refused.value.text
    assert stored_files(desk) == before and request(desk, asked.review_id or 0).state == "open"
    with Session(desk.engine) as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "request_answer_refused")).first()
    assert "on time" in answer(desk, asked.review_id or 0).text  # nothing lost: the right file is still welcome


@pytest.mark.parametrize("who", [ALICE, DAVE, BOB, ERIN])
def test_only_the_contracts_commissioners_ask_for_information(desk: Desk, who: str) -> None:
    with pytest.raises(Refused) as refused:
        ask(desk, who=who)
    assert ("Only the council's commissioners" in refused.value.text) if who in (ALICE, DAVE) else \
        ("No contract" in refused.value.text)
    with Session(desk.engine) as session:
        assert session.exec(select(InfoRequest)).first() is None


@pytest.mark.parametrize("who", [CAROL, BOB, ERIN])
def test_only_the_providers_people_answer_and_others_do_not_see_it(desk: Desk, who: str) -> None:
    asked = ask(desk)
    with pytest.raises(Refused):
        answer(desk, asked.review_id or 0, who=who)
    with Session(desk.engine) as session:
        contact = session.exec(select(Contact).where(Contact.email == who)).one()
        seen = rq.requests_for(session, contact)
    assert bool(seen) == (who == CAROL)


@pytest.mark.parametrize(("due", "says"), [("soon", "'soon' is not a deadline"), ("0 working days", "0 days"),
                                           ("1 January 2020", "not in the future")])
def test_a_deadline_that_is_not_one_is_refused(desk: Desk, due: str, says: str) -> None:
    with pytest.raises(Refused, match=says):
        ask(desk, due=due)


def test_deadlines_are_read_as_people_write_them() -> None:
    wednesday = date(2025, 10, 1)
    assert rq.due_date("2 working days", wednesday) == date(2025, 10, 3)
    assert rq.due_date("within 5 working days", wednesday) == date(2025, 10, 8)
    assert rq.due_date("2 weeks", wednesday) == date(2025, 10, 15)
    assert rq.due_date("30 April 2026", wednesday) == date(2026, 4, 30)


def test_an_open_request_is_reminded_then_chased_like_a_return_until_answered(desk: Desk) -> None:
    asked = ask(desk, due="5 working days")  # Wednesday 8 October
    sweep(desk.engine, desk.settings, desk.files, morning(date(2025, 10, 3)))
    assert messages(desk, "request_reminder") == []
    for _ in range(2):
        sweep(desk.engine, desk.settings, desk.files, morning(date(2025, 10, 6)))
    assert sorted(m.address for m in messages(desk, "request_reminder")) == [ALICE, DAVE]
    sweep(desk.engine, desk.settings, desk.files, morning(date(2025, 10, 9)))
    overdue = messages(desk, "request_overdue")
    assert sorted(m.address for m in overdue) == sorted([ALICE, DAVE, CAROL, FRANK])
    assert "1 day overdue" in overdue[0].body_text
    answer(desk, asked.review_id or 0, at=morning(date(2025, 10, 10)))
    sweep(desk.engine, desk.settings, desk.files, morning(date(2025, 10, 16)))
    assert len(messages(desk, "request_overdue")) == 4  # answered: chasing stopped


def test_requests_from_the_command_line(desk: Desk, tmp_path: Path) -> None:
    made = kpibot(desk, "request", "--contract", "ch-stop-smoking", "--what", "Service user survey results",
                  "--due", "30 April 2030", "--as", CAROL)
    assert made.exit_code == 0 and made.output.startswith("Request 1 sent: Service user survey results")
    listed = kpibot(desk, "requests", "list", "--as", ALICE)
    assert "Request 1: Service user survey results, City and Hackney Stop Smoking Service: due by 30 April 2030" \
        in listed.output
    assert kpibot(desk, "requests", "list", "--as", BOB).output.strip() == "No request for information is open."
    survey = tmp_path / "survey.pdf"
    survey.write_bytes(PDF)
    refused = kpibot(desk, "request", "--contract", "ch-stop-smoking", "--what", "x y z", "--due", "2 working days",
                     "--as", ALICE)
    assert refused.exit_code == 1 and refused.output.strip().splitlines()[-1].startswith("Error: Only the council")
    answered = kpibot(desk, "requests", "answer", "1", str(survey), "--as", ALICE)
    assert answered.exit_code == 0 and "survey.pdf was passed to" in answered.output
    assert "Carol" in answered.output and "Frank" in answered.output
    missing = kpibot(desk, "requests", "answer", "1", str(tmp_path / "nothing.pdf"), "--as", ALICE)
    assert missing.exit_code == 1 and "Error: cannot read" in missing.output


def test_the_same_chat_message_asking_twice_makes_one_request(desk: Desk) -> None:
    """Telegram may deliver `/request` again (a restart before it was confirmed): the message's key makes it one
    request and one message to the provider, and the second answer says so."""
    act = desk.act(CAROL, channel="telegram", key="telegram:555:request")
    first = rq.ask(desk.engine, desk.settings, act, "ch-stop-smoking", "Inspection report", "2 working days")
    again = rq.ask(desk.engine, desk.settings, act, "ch-stop-smoking", "Inspection report", "2 working days")
    assert first.review_id == again.review_id and again.text.startswith(f"Request {first.review_id} was already sent")
    with Session(desk.engine) as session:
        assert len(session.exec(select(InfoRequest)).all()) == 1
        asked = [m for m in session.exec(select(OutboxMessage)) if "Inspection report" in m.body_text]
    assert sorted(m.address for m in asked) == [ALICE, DAVE]
    other = rq.ask(desk.engine, desk.settings, desk.act(CAROL, channel="telegram", key="telegram:556:request"),
                   "ch-stop-smoking", "Inspection report", "2 working days")
    assert other.review_id != first.review_id  # another message is another request
