"""Requests for information (schedule 2.6: inspection reports "within 2 working days"; 2.3: survey results "by 30th
April"; 3.2: remedial action "within the timescale specified"): one-off obligations with their own deadlines.

Only the contract's commissioners ask (bot/authz/policy.py); the provider's submitters and managers answer, with
any ordinary document (bot/plans/evidence.py), kept in the file store like a return's file and never read as one.
An answer after the deadline is recorded as late. The scheduler reminds and chases open requests (jobs/plans.py).
Each act is one transaction: the request, the audit row and the messages commit together.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.assessment.in_context import framework_for
from bot.assessment.submission_kpis import local_date
from bot.authz.policy import COMMISSIONER, PROVIDER, people_for, review_role, visible_contracts
from bot.plans.drafts import parse_day
from bot.plans.evidence import Unsafe, check, shown_name
from bot.plans.notify import queue
from bot.plans.scene import long_day
from bot.review.actions import clean
from bot.review.messages import names, when
from bot.review.scene import Act, Outcome, Refused, actor
from bot.storage.audit import record
from bot.storage.db import insert_ignore, retrying, write_session
from bot.storage.files import FileStore
from bot.storage.models import Contact, Contract, Organisation, StoredFile
from bot.storage.plan_models import InfoRequest
from kpi_core.calendar import parse_period
from kpi_core.duedates import add_working_days

NOT_YOURS = "That request is not one you may see: it is not one of your contracts."
RELATIVE = re.compile(r"^(?:in\s+|within\s+)?(\d{1,3})\s+(working\s+days?|days?|weeks?)$", re.I)


@dataclass(frozen=True)
class RequestStory:
    number: int
    contract_name: str
    provider_name: str
    what: str
    detail: str
    due: str  # `Friday 3 October 2025`
    who: str = ""
    when: str = ""
    filename: str = ""
    note: str = ""
    late: bool = False


def due_date(text: str, today: date) -> date:
    """The deadline `text` names: `2 working days`, `10 days`, `2 weeks`, or a date (`30 April 2026`)."""
    words = " ".join(text.split())
    found = RELATIVE.match(words)
    if found:
        n, unit = int(found.group(1)), found.group(2).lower()
        if n < 1:
            raise Refused("A deadline of 0 days is no deadline: give at least 1 working day.", "bad_due")
        if unit.startswith("working"):
            return add_working_days(today, n)
        return today + timedelta(days=n * (7 if unit.startswith("week") else 1))
    day = parse_day(words)
    if day is None:
        raise Refused(f"'{text}' is not a deadline: write a number of working days ('2 working days') or a date "
                      "('30 April 2026').", "bad_due")
    if day <= today:
        raise Refused(f"{day.day} {day:%B %Y} is not in the future: give a later deadline.", "bad_due")
    return day


def ask(engine: sa.Engine, settings: config.Settings, act: Act, contract_id: str, what: str, due: str,
        detail: str = "") -> Outcome:
    """The council asks the provider for a document or information by a deadline; the provider is told."""
    what, detail = clean(what)[:300], clean(detail)

    def work(session: Session) -> Outcome:
        contact = actor(session, act)
        if act.key is not None and (earlier := _asked_by(session, act.key)) is not None:
            return earlier
        contract = session.get(Contract, contract_id)
        part = review_role(session, contact, contract_id) if contract is not None else None
        if contract is None or part is None:
            raise Refused(f"No contract {contract_id!r} among yours.", "not_yours")
        if part != COMMISSIONER:
            raise Refused("Only the council's commissioners may ask for information.", "not_allowed")
        if len(what) < 3:
            raise Refused("Say what is requested (for example 'Inspection report', 'Service user survey "
                          "results').", "no_what")
        deadline = due_date(due, local_date(act.at, settings.timezone))
        request = InfoRequest(contract_id=contract_id, what=what, detail=detail, due=deadline,
                              asked_by=contact.id or 0, asked_at=act.at, channel=act.channel, source_key=act.key)
        session.add(request)
        session.flush()
        story = story_of(session, settings, request, who=contact.name, when=when(act.at, settings))
        told = queue(session, settings, people_for(session, contract, PROVIDER), "request_asked",
                     f"request:{request.id}:asked", act.at, r=story)
        record(session, act.at, contact.email, "request_asked", f"info_request:{request.id}",
               {"contract": contract_id, "due": deadline.isoformat(), "channel": act.channel, "told": len(told)})
        return Outcome("ask", "open", f"Request {request.id} sent: {what}, from {story.provider_name} by "
                       f"{story.due}. Told: {names(told)}.", request.id)
    try:
        return _run(engine, work)
    except sa.exc.IntegrityError:  # the same message in two processes at once: the other one asked; say so
        return _run(engine, work)


def _asked_by(session: Session, key: str) -> Outcome | None:
    """The request the message or form `key` already made, told again rather than asked twice."""
    found = session.exec(select(InfoRequest).where(InfoRequest.source_key == key)).first()
    if found is None:
        return None
    return Outcome("ask", found.state, f"Request {found.id} was already sent: {found.what}, due "
                   f"{long_day(found.due)}. Nothing more was sent.", found.id)


def answer(engine: sa.Engine, settings: config.Settings, files: FileStore, act: Act, request_id: int,
           filename: str, data: bytes, note: str = "", expires: date | None = None) -> Outcome:
    """The provider answers a request with a document: checked, kept, linked; the council is told with it attached.
    A refused file leaves the request open and keeps nothing of the file."""
    return _run(engine, lambda session: answer_in(session, settings, files, act, request_id, filename, data, note,
                                                  expires))


def answer_in(session: Session, settings: config.Settings, files: FileStore, act: Act, request_id: int,
              filename: str, data: bytes, note: str = "", expires: date | None = None) -> Outcome:
    """`answer` within the caller's transaction (the intake records what became of the file in the same one). A
    refused file raises Refused; an unsafe one is put on the record (committed) first. `expires`: an insurance
    certificate's expiry date, reminded before it lapses (jobs/evidence.py)."""
    note, shown = clean(note), shown_name(filename)
    contact = actor(session, act)
    request = session.get(InfoRequest, request_id)
    part = review_role(session, contact, request.contract_id) if request is not None else None
    if request is None or part is None:
        raise Refused(NOT_YOURS, "not_yours")
    if part != PROVIDER:
        raise Refused("Only the provider answers a request for information.", "not_allowed")
    if request.state != "open":
        raise Refused(f"Request {request_id} was answered on {when(request.answered_at, settings)}: nothing more "
                      "is asked.", "closed")
    if expires is not None and expires <= local_date(act.at, settings.timezone):
        raise Refused(f"That {request.what.lower()} expired on {long_day(expires)}: send the current one, with its "
                      "expiry date. The request stays open.", "expired")
    if expires is None and _expires(session, request):
        raise Refused(f"Give the {request.what.lower()}'s expiry date with it, so the council is reminded before it "
                      "lapses: write it in the caption or the email's subject, for example \"expires 31 March "
                      "2027\" (on the command line, --expires). The request stays open.", "no_expiry")
    try:
        check(shown, data, settings.intake.max_upload_bytes, settings.intake.max_uncompressed_bytes)
    except Unsafe as unsafe:
        record(session, act.at, contact.email, "request_answer_refused", f"info_request:{request_id}",
               {"size": len(data), "channel": act.channel, "why": str(unsafe)[:200]})
        session.commit()  # the refusal is on the record; the request stays open
        raise Refused(f"{unsafe} The request stays open: send the document again.", "unsafe") from None
    sha = files.put(data)
    insert_ignore(session, StoredFile, [dict(sha256=sha, size=len(data), first_seen_at=act.at, restricted=False)])
    late = local_date(act.at, settings.timezone) > request.due
    done = session.execute(sa.update(InfoRequest).where(col(InfoRequest.id) == request_id,
                                                        col(InfoRequest.state) == "open").values(
        state="answered", answered_by=contact.id, answered_at=act.at, answer_channel=act.channel, sha256=sha,
        filename=shown, size=len(data), note=note, on_time=not late, expires=expires))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Refused("Someone answered this request a moment before you. Nothing was changed.", "acted_first")
    session.refresh(request)
    contract = session.get(Contract, request.contract_id)
    assert contract is not None
    story = story_of(session, settings, request, who=contact.name, when=when(act.at, settings), filename=shown,
                     note=note, late=late)
    told = queue(session, settings, people_for(session, contract, COMMISSIONER), "request_answered",
                 f"request:{request.id}:answered", act.at, attach=(sha, shown), r=story)
    record(session, act.at, contact.email, "request_answered", f"info_request:{request_id}",
           {"contract": request.contract_id, "sha256": sha, "size": len(data), "on_time": not late,
            "channel": act.channel, "told": len(told), "expires": expires.isoformat() if expires else None})
    return Outcome("answer", "answered", f"Thank you: {shown} was passed to {names(told)} as the answer to "
                   f"request {request_id} ({request.what}){', after its deadline' if late else ', on time'}.",
                   request_id)


def requests_for(session: Session, contact: Contact | None, include_answered: bool = False) -> list[InfoRequest]:
    """The requests `contact` may see (everyone's for the operator), oldest deadline first."""
    query = select(InfoRequest).order_by(col(InfoRequest.due), col(InfoRequest.id))
    if contact is not None:
        query = query.where(col(InfoRequest.contract_id).in_([c.id for c in visible_contracts(session, contact)]))
    if not include_answered:
        query = query.where(InfoRequest.state == "open")
    return list(session.exec(query))


def request_line(session: Session, request: InfoRequest, today: date) -> str:
    """`Request 2: Inspection report, City and Hackney Stop Smoking Service: due by 3 October 2025 (OVERDUE)`."""
    contract = session.get(Contract, request.contract_id)
    name = contract.name if contract else request.contract_id
    if request.state == "answered":
        state = f"answered ({request.filename}){'' if request.on_time else ', late'}"
    else:
        state = f"due by {request.due.day} {request.due:%B %Y}" + (" (OVERDUE)" if request.due < today else "")
    return f"Request {request.id}: {request.what}, {name}: {state}"


def story_of(session: Session, settings: config.Settings, request: InfoRequest, **values: object) -> RequestStory:
    contract = session.get(Contract, request.contract_id)
    assert contract is not None
    provider = session.get(Organisation, contract.provider_id)
    return RequestStory(request.id or 0, contract.name, provider.name if provider else contract.provider_id,
                        request.what, request.detail, long_day(request.due), **values)  # type: ignore[arg-type]


def _expires(session: Session, request: InfoRequest) -> bool:
    """Does the request ask for an evidence document that runs out (the framework's item says `expires`)?"""
    contract = session.get(Contract, request.contract_id) if request.item_id else None
    if contract is None:
        return False
    framework = framework_for(contract, parse_period(request.period_id, contract.year_start_month))
    return any(i.id == request.item_id and i.expires for i in framework.items)


def _run(engine: sa.Engine, work: Callable[[Session], Outcome]) -> Outcome:
    def once() -> Outcome:
        with write_session(engine, expire_on_commit=False) as session:
            outcome = work(session)
            session.commit()
            return outcome
    return retrying(once)
