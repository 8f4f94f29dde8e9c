"""The quarterly meeting pack, sent to the council before each performance meeting the schedule sets.

A return type whose schedule sets a meeting (`meeting = { rule = ... }` in the framework: the lifestyle contract's
"end of the month of the monitoring return") has one meeting per period. `[meetings] pack_working_days` working days
before it (5 by default), the contract's commissioners get the pack (PDF, bot/reports/meeting_stored.py), each who
may see the contract, once: it is recorded under its key (`report:meeting:<contract>:<period>`), so a second sweep
or a second `kpibot run` queues nothing. It is drawn outside any transaction; a kill while drawing leaves nothing,
and the next sweep draws it again. A pack missed while the scheduler was down still goes until the meeting day; none
goes after it, and none for a meeting before the deployment started (jobs/chase.py). If the quarter's return has not
arrived, the pack goes anyway and says so. A Teams channel carries no file: packs go to people only.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.reports.meeting_stored import meeting_day, meeting_pack, render_meeting_pack
from bot.storage.files import FileStore
from bot.storage.models import Contract, Obligation, RenderedReport, StoredFile
from jobs.chase import clock_at
from jobs.messages import day_text, render
from jobs.queueing import Decision, Message, Outgoing, existing, queue
from jobs.recipients import Directory, Recipient
from jobs.timing import Clock, previous_working_day
from kpi_core.calendar import parse_period
from kpi_core.duedates import is_working_day

log = logging.getLogger("kpibot.scheduler")
PACK = "meeting_pack"  # templates/messages/meeting_pack.*: for people (a file to read), no Teams card
WINDOW = timedelta(days=120)  # a meeting falls within weeks of its return's due date: older obligations have none


def pack_day(meeting: date, working_days: int) -> date:
    """The day the pack goes: `working_days` working days before the meeting (the working day before it, or the
    meeting day itself when it is one, for 0)."""
    day = meeting
    while working_days > 0:
        day -= timedelta(days=1)
        if is_working_day(day):
            working_days -= 1
    return previous_working_day(day)


def meeting_sweep(engine: sa.Engine, settings: config.Settings, files: FileStore, now: datetime) -> int:
    """Draw and queue each meeting pack due at `now` and not queued yet; return how many messages were queued."""
    if not Clock.of(now, settings).sending:
        return 0
    with Session(engine) as session:
        clock = clock_at(session, now, settings)
        due = packs_due(session, settings, clock)
        done = existing(session, list(due))
    queued = 0
    for key, (contract_id, period_id, meeting) in due.items():
        if key in done:
            continue
        try:
            decision = _draw(engine, settings, files, clock, key, contract_id, period_id, meeting)
        except Exception:  # noqa: BLE001 - one contract's pack must not hold up the others'; retried next sweep
            log.exception("drawing the meeting pack %s failed; the next sweep tries again", key)
            continue
        queued += queue(engine, [decision], now)
    return queued


def packs_due(session: Session, settings: config.Settings, clock: Clock) -> dict[str, tuple[str, str, date]]:
    """Each meeting whose pack day has come and whose day has not passed, by the pack's key."""
    rows = session.exec(select(Obligation, Contract).join(Contract, col(Contract.id) == Obligation.contract_id)
                        .where(col(Obligation.due_date) >= clock.today - WINDOW,
                               col(Obligation.due_date) <= clock.today + WINDOW)
                        .order_by(col(Obligation.contract_id), col(Obligation.due_date))).all()
    found = {}
    for obligation, contract in rows:
        period = parse_period(obligation.period_id, contract.year_start_month)
        meeting = meeting_day(settings, contract, period, obligation.return_type)
        if meeting is None or (clock.since is not None and meeting < clock.since):
            continue  # no meeting in the schedule; or one before kpibot started here: none of its business
        if pack_day(meeting, settings.meetings.pack_working_days) <= clock.today <= meeting:
            found[f"report:meeting:{contract.id}:{period.id}"] = (contract.id, period.id, meeting)
    return found


def audience(session: Session, settings: config.Settings, contract: Contract) -> list[Recipient]:
    """The commissioners of the contract's council who may see it, on their channels (no Teams channel)."""
    directory = Directory(session, [contract.commissioner_id], telegram=bool(settings.telegram_token),
                          teams=settings.reachable_teams())
    return [p for p in directory.people(contract.commissioner_id, contract.id, ["commissioner"])
            if p.contact_id is not None]


def planned_packs(engine: sa.Engine, settings: config.Settings, now: datetime) -> list[Decision]:
    """The packs a sweep at `now` would draw and queue, with their recipients and no PDF drawn (a dry run)."""
    planned = []
    with Session(engine) as session:
        clock = clock_at(session, now, settings)
        due = packs_due(session, settings, clock)
        done = existing(session, list(due))
        for key, (contract_id, _, meeting) in due.items():
            contract = session.get(Contract, contract_id)
            if key in done or contract is None:
                continue
            decision = Decision(key, "meeting", "meeting", organisations=(contract.commissioner_id,),
                                why=f"the meeting pack of {contract.name} for the performance meeting on "
                                    f"{day_text(meeting)} (its PDF is drawn when it is sent)")
            decision.outgoing += [Outgoing(p, Message("", "")) for p in audience(session, settings, contract)]
            planned.append(decision)
    return planned


def _draw(engine: sa.Engine, settings: config.Settings, files: FileStore, clock: Clock, key: str,
          contract_id: str, period_id: str, meeting: date) -> Decision:
    with Session(engine) as session:
        contract = session.get(Contract, contract_id)
        assert contract is not None
        decision = Decision(key, "meeting", "meeting", organisations=(contract.commissioner_id,),
                            why=f"the meeting pack of {contract.name} for {period_id}")
        people = audience(session, settings, contract)
        if not people:
            return decision  # recorded: nobody to send it to (the council adds a commissioner for the next one)
        pack = meeting_pack(session, files, settings, contract_id, period_id, clock.now)
        session.commit()  # reading is done: no transaction stays open while the PDF is drawn
    pdf = render_meeting_pack(pack)
    digest = files.put(pdf)
    decision.rows += [
        (StoredFile, dict(sha256=digest, size=len(pdf), first_seen_at=clock.now, restricted=False)),
        (RenderedReport, dict(kind="meeting", contract_id=contract_id, period_id=period_id, submission_id=None,
                              sha256=digest, created_at=clock.now, cache_key=None))]
    name = f"meeting-pack-{contract_id}-{period_id}.pdf"
    for person in people:
        message = render(PACK, person, pack=pack, meeting=day_text(meeting))
        decision.outgoing.append(Outgoing(person, replace(message, attachment_sha256=digest, attachment_name=name)))
    return decision
