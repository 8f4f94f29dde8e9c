"""The meeting pack from the database: a contract's period read once, arranged by meeting.py and drawn to PDF.

The quarter's figures are the version in force, re-assessed once (bot/reports/stored.py) and shown by the return
report's own rows; the rest is the exception report's view of the contract, its open requests, and the notes of the
meetings held so far.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from bot import config
from bot.assessment.in_context import framework_for, terms_of
from bot.assessment.submission_kpis import local_date
from bot.reports import display
from bot.reports.context import ReturnMeta, Section, build_return_report
from bot.reports.meeting import AgreedAction, MeetingPack, NoteView, PackFacts, RequestRow, build_meeting_pack
from bot.reports.pdf import html_to_pdf, render_text
from bot.reports.review_view import review_view
from bot.reports.stored import _contract, _period, contract_period_status, keep_report, locate, provider_name
from bot.storage.files import FileStore
from bot.storage.meeting_models import MeetingAction, MeetingNote
from bot.storage.models import Contact, Contract
from bot.storage.plan_models import InfoRequest
from kpi_core.calendar import Period, parse_period
from kpi_core.duedates import is_working_day, meeting_date


def meeting_day(settings: config.Settings, contract: Contract, period: Period, return_type: str) -> date | None:
    """The day of the performance meeting on `period`'s return of `return_type`, when the schedule sets one. A
    meeting "at the end of the month" that falls on a weekend or bank holiday is held on the working day before."""
    spec = terms_of(settings, contract, period).returns.get(return_type)
    day = meeting_date(period, spec) if spec is not None else None
    while day is not None and not is_working_day(day):
        day -= timedelta(days=1)
    return day


def meeting_pack(session: Session, files: FileStore, settings: config.Settings, contract_id: str,
                 period_text: str, now: datetime) -> MeetingPack:
    """The meeting pack of a contract's period as it stands at `now` (ReportError when there is none)."""
    contract = _contract(session, contract_id)
    period = _period(period_text, contract)
    today = local_date(now, settings.timezone)
    found = locate(session, contract, period)
    status = contract_period_status(session, files, settings, contract, period, today)
    report, information = None, 0
    sub = found.submission
    if status.assessment is not None and sub is not None and sub.status == "accepted":
        meta = ReturnMeta(contract.id, contract.name, provider_name(session, contract), sub.received_at, sub.version,
                          sub.on_time, found.obligation.due_date, sub.filename)
        report = build_return_report(status.assessment, meta, None, generated_at=now, timezone=settings.timezone,
                                     charts=False, confirmed=status.confirmed)
        judged = tuple(Section(s.name, rows) for s in report.sections
                       if (rows := tuple(r for r in s.rows if r.status.key != "info")))
        information = sum(len(s.rows) for s in report.sections) - sum(len(s.rows) for s in judged)
        report = replace(report, sections=judged,  # the meeting discusses what is judged; the rest is in the report
                         review=review_view(session, found.obligation.id, settings.timezone))
    notes = meeting_notes(session, contract, today, settings.timezone)
    this = [n for n in notes if n[0] == period.id]
    earlier = [n for n in notes if parse_period(n[0], contract.year_start_month).end < period.end]
    return build_meeting_pack(PackFacts(
        status=status, report=report, information_only=information,
        framework_name=framework_for(contract, period).name,
        meeting_day=meeting_day(settings, contract, period, found.obligation.return_type),
        requests=open_requests(session, contract.id, today, settings.timezone),
        previous=earlier[-1][1] if earlier else None,
        this_meeting=this[-1][1] if this else None, today=today, generated_at=now, timezone=settings.timezone))


def open_requests(session: Session, contract_id: str, today: date, timezone: str) -> tuple[RequestRow, ...]:
    """The contract's unanswered requests for information, soonest due first."""
    rows = session.exec(select(InfoRequest).where(InfoRequest.contract_id == contract_id, InfoRequest.state == "open")
                        .order_by(col(InfoRequest.due), col(InfoRequest.id))).all()
    found = []
    for r in rows:
        days = (today - r.due).days
        state = (f"{display.plural(days, 'day')} overdue" if days > 0 else "due today" if days == 0
                 else f"due in {display.plural(-days, 'day')}")
        found.append(RequestRow(r.what, r.detail, display.day(local_date(r.asked_at, timezone)), display.day(r.due),
                                state, days > 0))
    return tuple(found)


def meeting_notes(session: Session, contract: Contract, today: date, timezone: str) -> list[tuple[str, NoteView]]:
    """The latest notes of each meeting on the contract, by period (oldest first)."""
    latest: dict[str, MeetingNote] = {}
    for note in session.exec(select(MeetingNote).where(MeetingNote.contract_id == contract.id)
                             .order_by(col(MeetingNote.recorded_at), col(MeetingNote.id))):
        latest[note.period_id] = note
    ordered = sorted(latest.values(), key=lambda n: parse_period(n.period_id, contract.year_start_month).end)
    return [(n.period_id, note_view(session, contract, n, today, timezone)) for n in ordered]


def note_view(session: Session, contract: Contract, note: MeetingNote, today: date, timezone: str) -> NoteView:
    who = session.get(Contact, note.recorded_by)
    actions = session.exec(select(MeetingAction).where(MeetingAction.note_id == note.id)
                           .order_by(col(MeetingAction.number))).all()
    return NoteView(parse_period(note.period_id, contract.year_start_month).label, display.day(note.held_on),
                    f"by {who.name if who else 'the council'} on {display.moment(note.recorded_at, timezone)}",
                    note.notes, tuple(AgreedAction(a.number, a.what, a.who, a.due, a.due < today) for a in actions))


def render_meeting_pack(pack: MeetingPack) -> bytes:
    """The meeting pack as PDF."""
    return html_to_pdf(render_text("reports/meeting_pack.html", for_print=True, pack=pack, report=pack.report))


def render_stored_meeting_pack(session: Session, files: FileStore, settings: config.Settings, contract_id: str,
                               period_text: str, now: datetime) -> tuple[MeetingPack, bytes]:
    """Draw the pack (outside any transaction) and keep it with the other reports."""
    pack = meeting_pack(session, files, settings, contract_id, period_text, now)
    session.commit()  # reading is done: no transaction stays open while the PDF is drawn
    pdf = render_meeting_pack(pack)
    period = _period(period_text, _contract(session, contract_id))
    keep_report(session, files, pdf, "meeting", period.id, now, contract_id)
    return pack, pdf
