"""The notes of a quarterly performance meeting and the actions agreed at it, recorded by the council afterwards.

One function for every channel (the command line's `kpibot meeting notes`, Telegram's /meeting): it checks who
records (only the commissioners of the contract's council, bot/authz/policy.py), the contract and period, the notes
and each action (what; who; by when), and writes the notes, their actions and the audit row in one transaction.
A mistake is answered saying which part and what to write instead; nothing is saved. The next meeting pack prints
them (bot/reports/meeting_stored.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from bot import config
from bot.assessment.submission_kpis import local_date
from bot.authz.policy import commissions, visible_contracts
from bot.plans.drafts import parse_day
from bot.reports.meeting_stored import meeting_day, meeting_notes
from bot.reports.stored import ReportError, locate
from bot.review.actions import clean
from bot.review.scene import Act, Outcome, Refused, actor
from bot.storage.audit import record
from bot.storage.db import retrying, write_session
from bot.storage.meeting_models import MeetingAction, MeetingNote
from bot.storage.models import Contact, Contract
from kpi_core.calendar import PeriodError, parse_period

MIN_NOTES = 10  # characters: "ok" is not a meeting's notes
MAX_ACTIONS = 30
MAX_WHO = 200
SEPARATOR = ";"
NO_NOTES = "Write the meeting's notes: what was discussed and decided (at least a sentence)."
EXAMPLE = "'Send the revised referral pathway; Jo Bloggs, service manager; 15 January 2027'"


@dataclass(frozen=True)
class Agreed:
    number: int
    what: str
    who: str
    due: date


def agreed_actions(lines: Sequence[str], held_on: date) -> tuple[Agreed, ...]:
    """Each action written `what; who; when`, checked; Refused naming every mistake (nothing is saved)."""
    problems: list[str] = []
    found = []
    if len(lines) > MAX_ACTIONS:
        problems.append(f"A meeting's notes hold at most {MAX_ACTIONS} actions; these have {len(lines)}.")
    for number, line in enumerate(lines, start=1):
        parts = [clean(p) for p in line.split(SEPARATOR)]
        if len(parts) != 3:
            problems.append(f"Action {number} has {len(parts)} part{'s' if len(parts) != 1 else ''}: write what is "
                            f"to be done, who does it and by when, separated by ';', for example {EXAMPLE}.")
            continue
        what, who, when = parts
        missing = [word for word, value in (("what is to be done", what), ("owner (who does it)", who),
                                            ("date (by when)", when)) if not value]
        if missing:
            problems.append(f"Action {number} has no {' and no '.join(missing)}: write 'what; who; when', for "
                            f"example {EXAMPLE}.")
            continue
        due = parse_day(when)
        if due is None:
            problems.append(f"Action {number}: '{when}' is not a date; write the day it is due, for example "
                            "15 January 2027 or 15/01/2027.")
            continue
        if due < held_on:
            problems.append(f"Action {number}: {due.day} {due:%B %Y} is before the meeting ({held_on.day} "
                            f"{held_on:%B %Y}); give the date it is due.")
            continue
        if len(who) > MAX_WHO:
            problems.append(f"Action {number}: the owner is longer than {MAX_WHO} characters; name the person or "
                            "team.")
            continue
        found.append(Agreed(number, what, who, due))
    if problems:
        raise Refused(" ".join(problems) + " Nothing was saved.", "bad_action")
    return tuple(found)


def record_notes(engine: sa.Engine, settings: config.Settings, act: Act, contract_id: str, period_text: str,
                 notes: str, actions: Sequence[str]) -> Outcome:
    """Record the notes of the meeting on `contract_id`'s return for `period_text`, with the actions agreed."""
    text = clean(notes)

    def once() -> Outcome:
        with write_session(engine, expire_on_commit=False) as session:
            if act.key is not None and session.exec(
                    select(MeetingNote).where(MeetingNote.source_key == act.key)).first() is not None:
                return Outcome("meeting_notes", "recorded", "Already recorded: nothing more to do.", replayed=True)
            contact = actor(session, act)
            contract = commissioned(session, contact, contract_id)
            period_id, held_on = _meeting(session, settings, contract, period_text, act)
            short = len(text) < MIN_NOTES
            try:
                agreed = agreed_actions(actions, held_on)
            except Refused as exc:  # every mistake at once: the notes' and the actions'
                raise Refused(f"{NO_NOTES} {exc.text}" if short else exc.text, exc.code) from None
            if short:
                raise Refused(f"{NO_NOTES} Nothing was saved.", "no_notes")
            note = MeetingNote(contract_id=contract.id, period_id=period_id, held_on=held_on, notes=text,
                               recorded_by=contact.id or 0, recorded_at=act.at, channel=act.channel,
                               source_key=act.key)
            session.add(note)
            session.flush()
            session.add_all(MeetingAction(note_id=note.id or 0, number=a.number, what=a.what, who=a.who, due=a.due)
                            for a in agreed)
            record(session, act.at, contact.email, "meeting_notes", f"meeting_note:{note.id}",
                   {"contract": contract.id, "period": period_id, "channel": act.channel, "actions": len(agreed)})
            session.commit()
            period = parse_period(period_id, contract.year_start_month)
            dates = "; ".join(f"{a.number}. {a.what} ({a.who}), by {a.due.day} {a.due:%B %Y}" for a in agreed)
            return Outcome("meeting_notes", "recorded", (
                f"Recorded the notes of the meeting on {contract.name}, {period.label} (held {held_on.day} "
                f"{held_on:%B %Y}), with {len(agreed)} agreed action{'s' if len(agreed) != 1 else ''}"
                + (f": {dates}" if agreed else "") + ". The next meeting pack prints them."))
    return retrying(once)


def commissioned(session: Session, contact: Contact, contract_id: str,
                 what: str = "records the notes of its meetings") -> Contract:
    """The contract, when `contact` is one of the commissioners of its council; else Refused (in the same words
    whether or not it exists, to anyone who may not see it)."""
    visible = visible_contracts(session, contact)
    contract = next((c for c in visible if c.id == contract_id.strip()), None)
    if contract is None:
        yours = ", ".join(c.id for c in visible) or "none"
        raise Refused(f"No contract '{contract_id}' among those you may see (yours: {yours}).",
                      "unknown_contract")
    if not commissions(session, contact, contract.id):
        raise Refused(f"Only the council that commissions {contract.name} {what}.", "not_allowed")
    return contract


def _meeting(session: Session, settings: config.Settings, contract: Contract, period_text: str,
             act: Act) -> tuple[str, date]:
    """The period the meeting was on, and the meeting's day (the schedule's, else the day the notes are written)."""
    try:
        period = parse_period(period_text.strip(), contract.year_start_month)
    except PeriodError as exc:
        raise Refused(f"{exc}. Nothing was saved.", "bad_period") from None
    try:
        found = locate(session, contract, period)
    except ReportError:
        raise Refused(f"{contract.name} owes no return for {period.label}, so no meeting was held on it; name the "
                      "period of the return the meeting discussed, for example 2026-27-Q1. Nothing was saved.",
                      "bad_period") from None
    return period.id, meeting_day(settings, contract, period, found.obligation.return_type) \
        or local_date(act.at, settings.timezone)


def history(session: Session, settings: config.Settings, contract: Contract, now: datetime) -> list[str]:
    """The contract's meetings with notes recorded, oldest first, each with its actions and which are past their
    date: the contract's history of meetings as the command line lists it."""
    lines = []
    for _, note in meeting_notes(session, contract, local_date(now, settings.timezone), settings.timezone):
        lines.append(f"Meeting of {note.held_on} on {note.period_label} (recorded {note.recorded}): {note.text}")
        lines += [f"  {a.number}. {a.what} ({a.who}), by {a.when}" + (": PAST ITS DATE" if a.overdue else "")
                  for a in note.actions]
    return lines
