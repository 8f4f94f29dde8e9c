"""The quarterly meeting pack on a real database of each kind: every section, with figures that agree with the return
report's; said plainly when the quarter's return is missing; and sent by the scheduler once, on its day, to the
contract's commissioners, never for a meeting that has passed or came before kpibot started."""

from __future__ import annotations

import re
import subprocess
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from meeting_fixtures import ANSWER, CONTRACT, COUNCIL, QUERY, morning, quarter, set_up
from sqlmodel import Session, col, select

from bot.reports.meeting_stored import meeting_day, meeting_pack, render_stored_meeting_pack
from bot.reports.stored import return_report
from bot.storage.deployment import record_start
from bot.storage.models import Contract, OutboxMessage
from jobs.meetings import meeting_sweep, pack_day, planned_packs
from jobs.messages import render
from jobs.preview import lines, preview
from jobs.recipients import Recipient
from kpi_core.calendar import parse_period
from kpi_core.duedates import is_working_day


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "pack.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())


def test_the_pack_holds_every_section_with_the_return_reports_figures(engine: sa.Engine, tmp_path: Path,
                                                                       database_url: str) -> None:
    q = quarter(engine, tmp_path, database_url)
    now = morning(q.obligation.due_date + timedelta(days=8))
    with Session(engine) as session:
        pack, pdf = render_stored_meeting_pack(session, q.files, q.settings, CONTRACT, q.obligation.period_id, now)
        report = return_report(session, q.files, q.settings, CONTRACT, q.obligation.period_id, generated_at=now)
    text = text_of(pdf, tmp_path)
    for heading in ("1. The quarter's results", "2. Review of the return: queries and answers", "3. Action plans",
                    "4. Data submission", "5. Payments to date", "6. Requests for information outstanding",
                    "7. The last meeting"):
        assert heading in text
    judged = [row for s in report.sections for row in s.rows if row.status.key != "info"]
    assert judged and pack.report is not None
    shown = {row.ref: row for s in pack.report.sections for row in s.rows}
    for row in judged:  # the return report's own figures: this period, year to date, forecast, status, gap
        assert shown[row.ref] == row
        assert f"{row.ref} " in text and row.value in text and row.ytd in text and row.forecast in text
    for payment in report.payments:
        assert payment.amount in text and payment.basis in text
    assert QUERY in text and ANSWER in text  # the review's query and the provider's answer
    assert "Plan 1: " in text and "1. Recruit two advisers (Service manager), by " in text and ": OVERDUE" in text
    assert "Timeliness of returns" in text and pack.data_kpis[0].value in text
    assert "Inspection report" in text and "The latest CQC inspection report" in text and "days overdue" in text
    assert "Referrals dipped; the provider explained the staffing gap." in text
    assert "Send the revised referral pathway" in text and "Jo Bloggs" in text and "past its date" in text
    meeting = meeting_day(q.settings, _contract(engine), parse_period(q.obligation.period_id, 11), "quarterly")
    assert meeting is not None and is_working_day(meeting)
    assert f"{meeting.day} {meeting:%B %Y}" in text
    assert "information only" in text  # left out of the table, and said so
    assert not re.search(r"\b[a-z]+_[a-z0-9_]+\b", text)  # no internal identifier
    assert not re.search(r"kpibot [a-z]+ ", text.replace("kpibot Page", "")) and " --" not in text  # no command


def test_the_pack_says_plainly_when_the_quarters_return_has_not_arrived(engine: sa.Engine, tmp_path: Path,
                                                                        database_url: str) -> None:
    q = quarter(engine, tmp_path, database_url, with_return=False)
    now = morning(q.obligation.due_date + timedelta(days=12))
    with Session(engine) as session:
        pack, pdf = render_stored_meeting_pack(session, q.files, q.settings, CONTRACT, q.obligation.period_id, now)
    text = text_of(pdf, tmp_path)
    due = q.obligation.due_date
    assert pack.report is None
    assert f"has not arrived: it was due {due.day} {due:%B %Y} and is 12 days overdue" in text
    assert "No payment is worked out until the quarter's return is accepted." in text
    assert "Plan 1: " in text and "Inspection report" in text and "Send the revised referral pathway" in text


def test_the_pack_is_queued_once_on_its_day_to_the_contracts_commissioner(engine: sa.Engine, tmp_path: Path,
                                                                          database_url: str) -> None:
    q = quarter(engine, tmp_path, database_url)
    meeting = meeting_day(q.settings, _contract(engine), parse_period(q.obligation.period_id, 11), "quarterly")
    assert meeting is not None
    day = pack_day(meeting, q.settings.meetings.pack_working_days)
    before = day - timedelta(days=1)
    while not is_working_day(before):
        before -= timedelta(days=1)
    assert meeting_sweep(engine, q.settings, q.files, morning(before)) == 0
    [planned] = planned_packs(engine, q.settings, morning(day))  # what `kpibot run --dry-run` shows
    assert [o.recipient.address for o in planned.outgoing] == [COUNCIL] and "meeting pack" in planned.why
    shown = lines(preview(engine, q.settings, q.files, morning(day)), q.settings)
    assert any(line.startswith("Meeting pack: the meeting pack of One You Lifestyle Programmes for the performance "
                               f"meeting on {meeting:%A} {meeting.day} {meeting:%B %Y}") for line in shown)
    assert meeting_sweep(engine, q.settings, q.files, morning(day)) == 1
    assert planned_packs(engine, q.settings, morning(day)) == []
    assert meeting_sweep(engine, q.settings, q.files, morning(day, 15)) == 0  # a second sweep, or process
    assert meeting_sweep(engine, q.settings, q.files, morning(day + timedelta(days=1))) == 0
    sent = packs(engine)
    assert [(m.address, m.created_at) for m in sent] == [(COUNCIL, morning(day))]
    assert sent[0].attachment_name == f"meeting-pack-{CONTRACT}-{q.obligation.period_id}.pdf"
    assert sent[0].subject.startswith("Meeting pack: One You Lifestyle Programmes, ")
    assert f"{meeting:%A} {meeting.day} {meeting:%B %Y}" in sent[0].body_text
    assert sent[0].attachment_sha256 is not None
    pdf = q.files.get(sent[0].attachment_sha256)
    assert "Quarterly performance meeting" in text_of(pdf, tmp_path)
    with Session(engine) as session:
        pack = meeting_pack(session, q.files, q.settings, CONTRACT, q.obligation.period_id, morning(day))
    chat = render("meeting_pack", Recipient(1, "Morgan Reid", "commissioner", "telegram", "5"), pack=pack,
                  meeting="Friday 29 May 2026")
    assert chat.text.startswith("🗓 Meeting pack: One You Lifestyle Programmes, ")
    assert "/meeting records its notes" in chat.text and "1 request for information outstanding" in chat.text


def test_five_working_days_before_the_meeting_by_default() -> None:
    assert pack_day(date(2026, 5, 29), 5) == date(2026, 5, 21)  # Friday: back over the weekend and a bank holiday
    assert pack_day(date(2026, 2, 27), 5) == date(2026, 2, 20)
    assert pack_day(date(2026, 2, 27), 0) == date(2026, 2, 27)


def test_no_pack_goes_for_a_meeting_before_go_live_or_after_the_meeting(engine: sa.Engine, tmp_path: Path,
                                                                         database_url: str) -> None:
    """A deployment that starts the day after a meeting sends no pack for it, on its first day or later; nor does
    a scheduler that was down over a meeting send the pack late."""
    q = set_up(engine, tmp_path, database_url, started=date(2026, 3, 2))
    with Session(engine) as session:
        record_start(session, date(2026, 3, 2), morning(date(2026, 3, 2)))
        session.commit()
    earlier = meeting_day(q.settings, _contract(engine), parse_period(q.earlier.period_id, 11), "quarterly")
    assert earlier is not None and earlier < date(2026, 3, 2)
    for day in (date(2026, 3, 2), date(2026, 3, 3)):
        assert meeting_sweep(engine, q.settings, q.files, morning(day)) == 0
    assert packs(engine) == []


def _contract(engine: sa.Engine) -> Contract:
    with Session(engine) as session:
        contract = session.get(Contract, CONTRACT)
        assert contract is not None
        session.expunge(contract)
        return contract


def packs(engine: sa.Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == "meeting")
                                 .order_by(col(OutboxMessage.id))))
