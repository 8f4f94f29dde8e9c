"""Files sent in answer to the council's requests for information, through the intake's own door for them
(bot/intake/documents.py), on a real database of each kind: recorded and kept raw first, checked, linked to the
request, never read as a return (no submission, version or finding is written); a hostile file is refused clearly
with its raw bytes kept and the request still open; only the contract's provider answers; answers on time and late
count in the timeliness of data submissions, and a contract with no request keeps its figures."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from intake_fixtures import ALICE, BOB, NOW
from review_fixtures import CAROL, Desk
from sqlmodel import Session, func, select

from bot.assessment.submission_kpis import submission_kpis
from bot.commands.status import data_kpis_text
from bot.intake import documents
from bot.intake.fetching import FetchError
from bot.intake.received import Received
from bot.plans import requests as rq
from bot.reports.stored import data_kpis
from bot.storage.answer_models import RequestUpload
from bot.storage.models import OutboxMessage, StoredFile, Submission
from bot.storage.plan_models import InfoRequest
from jobs.sweep import sweep
from kpi_core import loader
from kpi_core.terms import contract_terms

LONDON = ZoneInfo("Europe/London")
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
CONTRACT = "ch-stop-smoking"


def morning(day: date) -> datetime:
    return datetime.combine(day, time(10, 0), LONDON).astimezone(UTC)


def ask(desk: Desk, what: str = "Inspection report", due: str = "2 working days") -> int:
    return rq.ask(desk.engine, desk.settings, desk.act(CAROL), CONTRACT, what, due).review_id or 0


def send(desk: Desk, request_id: int, data: bytes = PDF, name: str = "inspection.pdf", who: str = ALICE,
         at: datetime = NOW + timedelta(hours=2), caption: str = "", message: str = "m1") -> documents.Taken:
    """The file as a channel hands it over: recorded with its bytes, then taken."""
    received = Received(channel="email", message_id=message, sender=who, filename=name, data=data, received_at=at,
                        caption=caption or f"Re: Request {request_id} from the council")
    taken = documents.record(desk.engine, desk.settings, desk.files, received, desk.contact(who), request_id)
    return documents.take(desk.engine, desk.settings, desk.files, taken.upload_id) \
        if taken.state == "received" else taken


def request(desk: Desk, request_id: int) -> InfoRequest:
    with Session(desk.engine) as session:
        found = session.get(InfoRequest, request_id)
        assert found is not None
        session.expunge(found)
        return found


def count(desk: Desk, table: type) -> int:
    with Session(desk.engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


def macro_document() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
        z.writestr("word/vbaProject.bin", b"\x00" * 64)
    return buffer.getvalue()


def zip_bomb() -> bytes:
    """A workbook whose sheet declares 4 GB once opened (a deflated run of zeros says as much in a few KB)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/worksheets/sheet1.xml", b"0" * 1024)
    data = bytearray(buffer.getvalue())
    central = data.rfind(b"PK\x01\x02")  # the sheet's central directory entry: its uncompressed size at +24
    data[central + 24:central + 28] = (0xFFFFFFF0).to_bytes(4, "little")
    return bytes(data)


def test_a_file_for_a_request_answers_it_on_time_and_is_never_read_as_a_return(desk: Desk) -> None:
    request_id = ask(desk)
    taken = send(desk, request_id, caption="Request 1: the CQC report, as published")
    assert taken.state == "answered" and f"request {request_id} (Inspection report), on time" in taken.reply
    kept = request(desk, request_id)
    assert (kept.state, kept.on_time, kept.answer_channel, kept.note) == ("answered", True, "email",
                                                                          "the CQC report, as published")
    assert kept.sha256 is not None and desk.files.get(kept.sha256) == PDF
    assert count(desk, Submission) == 0  # not a return: no submission, so no version, value or finding either
    again = send(desk, request_id)  # the same channel message again: one answer
    assert again == taken and count(desk, RequestUpload) == 1


def test_a_late_answer_counts_against_timeliness_and_a_contract_without_requests_keeps_its_figures(
        desk: Desk) -> None:
    desk.submit()  # the Q2 return, on time
    as_of = date(2025, 10, 20)
    with Session(desk.engine) as session:
        before = submission_kpis(session, CONTRACT, as_of)
    assert before.requests == () and before.timeliness == Fraction(100 * before.timely, before.due)  # returns alone
    on_time, late = ask(desk), ask(desk, "Service user survey results", "5 working days")
    assert send(desk, on_time, message="a").state == "answered"
    taken = send(desk, late, at=morning(date(2025, 10, 14)), message="b", caption=f"request {late}")
    assert "after its deadline" in taken.reply and request(desk, late).on_time is False
    with Session(desk.engine) as session:
        after = submission_kpis(session, CONTRACT, as_of)
        early = submission_kpis(session, CONTRACT, date(2025, 10, 2))
    assert (after.due, after.timely) == (before.due, before.timely)  # the returns' own counts are unchanged
    assert [(r.request_id, r.timely) for r in after.requests] == [(on_time, True), (late, False)]
    assert (after.due_all, after.timely_all) == (before.due + 2, before.timely + 1)
    assert after.timeliness == Fraction(100 * (before.timely + 1), before.due + 2)
    assert after.system_values()[("returns_due", "")] == after.due_all
    # Before either deadline only the request answered on time counts (an early answer counts at once).
    assert [r.request_id for r in early.requests] == [on_time]


@pytest.mark.parametrize(("name", "data", "says"), [
    ("inspection.pdf", b"MZ\x90\x00" + b"\x00" * 100, "is a program, not a document"),
    ("inspection.docm.docx", macro_document(), "contains macros"),
    ("figures.xlsx", zip_bomb(), "would expand to more than"),
    ("setup.exe", b"\x7fELF" + b"\x00" * 60, "is a program"),
])
def test_a_hostile_file_is_refused_clearly_its_raw_bytes_kept_and_the_request_left_open(
        desk: Desk, name: str, data: bytes, says: str) -> None:
    request_id = ask(desk)
    taken = send(desk, request_id, data=data, name=name)
    assert taken.state == "refused" and says in taken.reply and "The request stays open" in taken.reply
    assert request(desk, request_id).state == "open" and count(desk, Submission) == 0
    with Session(desk.engine) as session:
        upload = session.exec(select(RequestUpload)).one()
        assert upload.sha256 is not None and session.get(StoredFile, upload.sha256) is not None
    assert desk.files.get(upload.sha256) == data  # nothing lost: kept as sent, as a refused return's file is
    assert send(desk, request_id, message="m2").state == "answered"  # the right file is still welcome


def test_a_file_over_the_size_cap_is_refused_before_it_is_downloaded(desk: Desk) -> None:
    request_id = ask(desk)
    received = Received(channel="telegram", message_id="1:2:3", sender="1001", filename="scan.pdf", data=b"",
                        received_at=NOW + timedelta(hours=2), caption=f"request {request_id}", source="file-id")
    taken = documents.record(desk.engine, desk.settings, desk.files, received, desk.contact(ALICE), request_id,
                             size=desk.settings.intake.max_upload_bytes + 1)
    assert taken.state == "refused" and "over the" in taken.reply and "Request 1 stays open" in taken.reply
    fetched: list[str] = []
    after = documents.download(desk.engine, desk.settings, desk.files, taken.upload_id,
                               {"telegram": lambda ref, limit: fetched.append(ref) or PDF}, NOW)
    assert after == taken and fetched == []  # never downloaded


@pytest.mark.parametrize(("who", "says"), [
    (BOB, "not one of your contracts"),  # another provider's contract
    (CAROL, "Only the provider answers"),  # the council asks; it does not answer
])
def test_only_the_contracts_provider_answers_a_request(desk: Desk, who: str, says: str) -> None:
    request_id = ask(desk)
    taken = send(desk, request_id, who=who)
    assert taken.state == "refused" and says in taken.reply and request(desk, request_id).state == "open"


def test_a_file_naming_no_request_of_the_senders_is_refused_without_saying_whose_it_is(desk: Desk) -> None:
    taken = send(desk, 42)
    assert taken.state == "refused" and "not one of your contracts" in taken.reply
    assert documents.existing_request(desk.engine, 42) is None  # the channels send such a file on as usual


@pytest.mark.parametrize(("text", "number"), [
    ("request 3", 3), ("Re: Request 3 from the council: Inspection report", 3), ("Request #12", 12),
    ("request no. 7 attached", 7), ("RFI 4", 4), ("Q2 return", None), ("request 3 and request 4", None),
    ("requested figures 2025", None),
])
def test_a_request_is_named_as_people_write_it(text: str, number: int | None) -> None:
    assert documents.named_request(text) == number


@pytest.mark.parametrize(("text", "expires"), [
    ("request 5, expires 31 March 2027", date(2027, 3, 31)), ("expiry date: 31/03/2027", date(2027, 3, 31)),
    ("valid until 1st April 2027", date(2027, 4, 1)), ("request 5", None),
])
def test_an_expiry_date_is_read_from_the_caption(text: str, expires: date | None) -> None:
    assert documents.expiry_in(text) == expires


def test_a_telegram_file_not_downloaded_yet_is_finished_later_and_its_sender_told(desk: Desk) -> None:
    request_id = ask(desk)
    received = Received(channel="telegram", message_id="1:1001:7", sender="1001", filename="inspection.pdf", data=b"",
                        received_at=NOW + timedelta(hours=2), caption=f"request {request_id}", source="file-7")
    taken = documents.record(desk.engine, desk.settings, desk.files, received, desk.contact(ALICE), request_id,
                             size=len(PDF))

    def down(ref: str, limit: int) -> bytes:
        raise FetchError("Telegram answered 502")

    waiting = documents.download(desk.engine, desk.settings, desk.files, taken.upload_id, {"telegram": down},
                                 NOW + timedelta(hours=2))
    assert waiting.state == "received" and request(desk, request_id).state == "open"  # tried again later
    finished = documents.resume(desk.engine, desk.settings, desk.files, {"telegram": lambda ref, limit: PDF},
                                lambda: NOW + timedelta(hours=3))
    assert [t.state for t in finished] == ["answered"] and request(desk, request_id).on_time is True
    with Session(desk.engine) as session:
        told = session.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key == f"request_upload:"
                                                        f"{taken.upload_id}:reply")).one()
    assert told.address == ALICE and "as the answer to request 1 (Inspection report), on time" in told.body_text
    assert documents.resume(desk.engine, desk.settings, desk.files, {}, lambda: NOW) == []  # nothing left


def test_the_digest_and_status_tell_of_requests_overdue_and_late(desk: Desk) -> None:
    overdue, late = ask(desk), ask(desk, "Service user survey results")
    send(desk, late, at=morning(date(2025, 10, 7)), caption=f"request {late}")
    sweep(desk.engine, desk.settings, desk.files, morning(date(2025, 10, 13)))  # Monday: the digest
    with Session(desk.engine) as session:
        [digest] = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "digest",
                                                            OutboxMessage.address == CAROL)).all()
    assert "1 request for information overdue" in digest.subject
    assert "REQUESTS FOR INFORMATION OVERDUE (1)" in digest.body_text
    assert f"City and Hackney Stop Smoking Service: request {overdue}, Inspection report, due 3 October 2025, 10 days " \
           "overdue" in digest.body_text
    with Session(desk.engine) as session:  # what `kpibot status` prints, as of a day after both deadlines
        said = data_kpis_text(submission_kpis(session, CONTRACT, date(2025, 10, 20)), None)
    assert said.startswith("timeliness 0% (0 of 4 on time, 2 requests for information among them)")  # 2 returns


def test_the_reports_name_the_requests_that_count_against_timeliness(desk: Desk) -> None:
    on_time, late = ask(desk), ask(desk, "Service user survey results")
    send(desk, on_time, message="a")
    send(desk, late, at=morning(date(2025, 10, 7)), caption=f"request {late}", message="b")
    never = ask(desk, "Safeguarding policy")
    terms = contract_terms(loader.get("lifestyle"))  # a contract with data-submission KPIs
    with Session(desk.engine) as session:
        kpis = submission_kpis(session, CONTRACT, date(2025, 10, 20))
    timeliness, _ = data_kpis(terms, kpis, {}, 4)
    assert timeliness is not None and timeliness.name == "Timeliness of returns and requests"
    assert (timeliness.achieved, timeliness.out_of) == (kpis.timely + 1, kpis.due + 3)
    assert timeliness.reasons == (
        f"Request {late} (Service user survey results), due by 3 October 2025: answered after its deadline",
        f"Request {never} (Safeguarding policy), due by 3 October 2025: not answered")
