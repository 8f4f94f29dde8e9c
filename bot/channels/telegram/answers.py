"""The answers to the chat commands that read the database, and their queueing in the outbox.

Each answer is built for one contact from what bot.authz lets them see, so nothing of another provider's contract
is ever named in it; an argument naming a contract they may not see gets the same answer as one that does not
exist. Answers go through the outbox (paced, retried, never sent twice for one command), keyed on the bot, the
chat and the command's message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.assessment.contract_status import ObligationStatus, contract_status
from bot.assessment.submission_kpis import local_date, submission_kpis, trailing_late
from bot.authz.policy import visible_contracts
from bot.outbox.transport import REPLY_MARKUP
from bot.reports.exception_report import build_exception_report
from bot.reports.render import render_exception_report, render_return_report
from bot.reports.status import status_view
from bot.reports.stored import ReportError, exception_statuses, provider_name, return_report
from bot.storage.db import insert_ignore, retrying, write_session
from bot.storage.files import FileStore
from bot.storage.models import Contact, Contract, Obligation, OutboxMessage, StoredFile
from bot.storage.queries import accepted_values
from kpi_core import formatting, loader
from kpi_core.assess import ReturnTypeError, return_type_for
from kpi_core.calendar import Period, PeriodError, parse_period
from kpi_core.escalation import escalation_for

MAX_ARGUMENT = 40  # characters of an argument echoed back
_PERIOD_WORD = re.compile(r"^(\d{4}|[QqMm]\d)")  # 2025-26-Q1, 2025/26, Q1, M03: the words of a period
RECENT = 4  # returns per contract in /status


@dataclass(frozen=True)
class Answer:
    text: str
    attachment: bytes | None = None
    attachment_name: str | None = None


def queue(engine: sa.Engine, files: FileStore, key: str, contact_id: int | None, chat_id: int, answer: Answer,
          now: datetime, kind: str = "answer", markup: dict[str, Any] | None = None) -> bool:
    """Queue `answer` for the chat once per `key`; False when it was queued before (a redelivered update)."""
    digest = files.put(answer.attachment) if answer.attachment is not None else None  # no lock held while writing

    def write() -> bool:
        with write_session(engine) as session:
            if digest is not None:
                insert_ignore(session, StoredFile, dict(sha256=digest, size=len(answer.attachment or b""),
                                                        first_seen_at=now))
            added = insert_ignore(session, OutboxMessage, dict(
                dedupe_key=key[:300], created_at=now, contact_id=contact_id, channel="telegram",
                address=str(chat_id), kind=kind, subject="", body_text=answer.text, attachment_sha256=digest,
                attachment_name=answer.attachment_name if digest else None, next_attempt_at=now,
                headers={REPLY_MARKUP: json.dumps(markup)} if markup else {}))
            session.commit()
            return added == 1
    return retrying(write)


def attach_markup(engine: sa.Engine, key: str, markup: dict[str, Any]) -> bool:
    """Put an inline keyboard on a queued message not yet claimed for sending; False when too late."""
    def write() -> bool:
        with write_session(engine) as session:
            done = session.exec(sa.update(OutboxMessage).where(
                col(OutboxMessage.dedupe_key) == key, col(OutboxMessage.status) == "pending")
                .values(headers={REPLY_MARKUP: json.dumps(markup)})).rowcount
            session.commit()
            return bool(done)
    return retrying(write)


# -- which contract and period a command means -------------------------------------------------------------------

@dataclass(frozen=True)
class Picked:
    contract: Contract
    period_text: str  # '' when not given


def pick(session: Session, contact: Contact, command: str, args: list[str]) -> Picked | str:
    """The contract (and period text) named in `args`, or (a string) what to write instead. A word that is not
    a period is taken for a contract: theirs, or else not one of theirs (whether or not it exists)."""
    contracts = visible_contracts(session, contact)
    if not contracts:
        return "You have no contracts in kpibot. Ask your commissioning team to add you to one."
    by_id = {c.id: c for c in contracts}
    yours = ", ".join(by_id)
    named = [a for a in args if a.lower() in by_id]
    others = [a for a in args if a.lower() not in by_id and not _PERIOD_WORD.match(a)]
    period = " ".join(a for a in args if a.lower() not in by_id and _PERIOD_WORD.match(a))[:MAX_ARGUMENT]
    if others:
        return f"{_shown(others[0])} is not one of your contracts. Yours: {yours}."
    if len(named) > 1:
        return f"Name one contract at a time. Yours: {yours}."
    if named:
        return Picked(by_id[named[0].lower()], period)
    if len(contracts) == 1:
        return Picked(contracts[0], period)
    return f"Which contract? Write its id after the command, e.g. /{command} {contracts[0].id}. Yours: {yours}."


def _shown(argument: str) -> str:
    return repr(argument[:MAX_ARGUMENT] + ("…" if len(argument) > MAX_ARGUMENT else ""))


# -- /status and /late -----------------------------------------------------------------------------------------

def status(session: Session, contact: Contact, today: date, zone: str) -> Answer:
    """Each of the contact's contracts: its latest returns, when due, whether received, and their RAG counts."""
    contracts = visible_contracts(session, contact)
    if not contracts:
        return Answer("You have no contracts in kpibot. Ask your commissioning team to add you to one.")
    blocks = []
    for contract in contracts:
        s = contract_status(session, contract, today, zone)
        lines = [f"📋 {contract.name} ({contract.id})",
                 f"Returns on time: {_pct(s.kpis.timeliness)} · accurate: {_pct(s.kpis.accuracy)} (last 12 months)"]
        recent = s.obligations[-RECENT:]
        lines += [f"• {_obligation_line(o)}" for o in recent] or ["• No return is owed yet."]
        blocks.append("\n".join(lines))
    return Answer(f"Status on {today:%d %B %Y}\n\n" + "\n\n".join(blocks))


def _pct(value: Fraction | None) -> str:
    return "n/a" if value is None else f"{formatting.number(value)}%"


def _obligation_line(o: ObligationStatus) -> str:
    head = f"{o.period_id} {o.return_type}, due {o.due_date:%d %b %Y}: "
    counts = " ".join(f"{status_view(k).emoji} {n}" for k, n in sorted(o.counts.items(), key=_red_first))
    if o.state == "accepted":
        timing = "on time" if o.on_time else f"late by {o.days_late} day(s)" if o.days_late else ""
        return head + ", ".join(x for x in (f"accepted (version {o.version})", timing, counts) if x)
    if o.state in ("missing", "not due"):
        return head + (f"not received, {o.days_late} day(s) overdue" if o.days_late else "not received yet")
    words = {"rejected": "rejected: send a corrected file", "held": "waiting for your answer (which return is it?)",
             "failed": "could not be processed on kpibot's side; the administrators know",
             "quarantined": "refused (it may hold personal data)"}
    return head + words.get(o.state, o.state) + (f", {o.days_late} day(s) overdue" if o.days_late else "")


def _red_first(item: tuple[str, int]) -> int:
    order = ("red", "amber", "part", "green", "no_data", "info")
    return order.index(item[0]) if item[0] in order else len(order)


def late(session: Session, contact: Contact, today: date, settings: config.Settings) -> Answer:
    """What is overdue across the commissioner's contracts, worst escalation first."""
    from bot.assessment.in_context import terms_of
    from kpi_core.escalation import escalation_rule_for

    zone = settings.timezone
    rows = []
    for contract in visible_contracts(session, contact):
        rule = escalation_rule_for(terms_of(settings, contract))
        records = submission_kpis(session, contract.id, today, zone, rule=rule).records
        for o in contract_status(session, contract, today, zone).obligations:
            if o.on_time is not None or not o.days_late:
                continue
            run = trailing_late([r for r in records if r.obligation.return_type == o.return_type
                                 and r.obligation.due_date <= o.due_date])
            level = escalation_for(run, rule)
            rows.append((-level.level, -o.days_late, f"• {contract.name}: {o.period_id} {o.return_type}, due "
                         f"{o.due_date:%d %b %Y}, {o.days_late} day(s) overdue ({o.state}). Escalation level "
                         f"{level.level}: {level.label}"))
    if not rows:
        return Answer(f"✅ Nothing is overdue across your contracts on {today:%d %B %Y}.")
    return Answer(f"⏰ Overdue on {today:%d %B %Y}: {len(rows)} return(s)\n\n" + "\n".join(r[2] for r in sorted(rows)))


# -- files: /template, /report, /exceptions --------------------------------------------------------------------

def _contract_and_period(session: Session, contact: Contact, command: str,
                         args: list[str]) -> tuple[Contract, Period | None] | str:
    """The contract named (or the contact's only one) and the period named, if any; or what to write instead."""
    picked = pick(session, contact, command, args)
    if isinstance(picked, str):
        return picked
    if not picked.period_text:
        return picked.contract, None
    try:
        return picked.contract, parse_period(picked.period_text, picked.contract.year_start_month)
    except PeriodError as exc:
        return str(exc)


def template(session: Session, contact: Contact, args: list[str], today: date) -> Answer:
    """The workbook for the named period, else the next return due, prefilled with the year's accepted figures."""
    found = _contract_and_period(session, contact, "template", args)
    if isinstance(found, str):
        return Answer(found)
    contract, period = found
    if period is None:
        due = _next_due(session, contract, today)
        if due is None:
            return Answer(f"{contract.name} owes no return yet: it starts on {contract.start:%d %B %Y}.")
        period = parse_period(due, contract.year_start_month)
    framework = loader.get(contract.framework_id)
    try:
        return_id = return_type_for(framework, period)
    except ReturnTypeError as exc:
        return Answer(str(exc))
    earlier = accepted_values(session, contract.id, return_id, period.earlier_in_year())
    from bot.workbooks.template import build_template  # openpyxl loads only when a workbook is made

    data = build_template(framework, contract_id=contract.id, contract_name=contract.name,
                          provider_name=provider_name(session, contract), period=period, earlier=earlier)
    shown = f", with {', '.join(sorted(earlier))} filled in for reference" if earlier else ""
    return Answer(f"📄 The {framework.returns[return_id].label.lower()} workbook of {contract.name} for "
                  f"{period.label}{shown}. Fill in the yellow cells and send it back here as a file.",
                  data, f"{contract.id}-{period.id}.xlsx")


def _next_due(session: Session, contract: Contract, today: date) -> str | None:
    """The period of the earliest return not yet accepted, else of the latest begun; None before any."""
    begun = session.exec(select(Obligation).where(Obligation.contract_id == contract.id,
                                                  col(Obligation.period_start) <= today)
                         .order_by(col(Obligation.due_date))).all()
    open_ = [o for o in begun if o.first_accepted_at is None]
    return open_[0].period_id if open_ else begun[-1].period_id if begun else None


def report(session: Session, files: FileStore, settings: config.Settings, contact: Contact, args: list[str]) -> Answer:
    """The PDF report of the named period's return in force, else of the latest accepted return."""
    found = _contract_and_period(session, contact, "report", args)
    if isinstance(found, str):
        return Answer(found)
    contract, period = found
    if period is not None:
        period_id = period.id
    else:
        latest = session.exec(select(Obligation).where(
            Obligation.contract_id == contract.id, col(Obligation.first_accepted_at).is_not(None))
            .order_by(col(Obligation.due_date).desc())).first()
        if latest is None:
            return Answer(f"No return of {contract.name} has been accepted yet.")
        period_id = latest.period_id
    try:
        pdf = render_return_report(return_report(session, files, settings, contract.id, period_id))
    except ReportError as exc:
        return Answer(f"No report: {exc}.")
    return Answer(f"📊 The return report of {contract.name}, {period_id}.", pdf, f"{contract.id}-{period_id}.pdf")


def exceptions(session: Session, files: FileStore, settings: config.Settings, contact: Contact, args: list[str],
               now: datetime) -> Answer:
    """The exception report across the commissioner's contracts, for a period or the latest due."""
    period_text = " ".join(args)[:MAX_ARGUMENT] or None
    only = {c.id for c in visible_contracts(session, contact)}
    statuses, notes = exception_statuses(session, files, settings, period_text, local_date(now, settings.timezone),
                                         only)
    if not statuses:
        return Answer("No exception report: no contract of yours has a return for that period"
                      + "".join(f"\n• {n}" for n in notes))
    label = period_text or f"the latest returns due by {now:%d %B %Y}"
    pdf = render_exception_report(build_exception_report(statuses, label, generated_at=now,
                                                         timezone=settings.timezone))
    left_out = "".join(f"\n• left out: {n}" for n in notes)
    name = re.sub(r"[^A-Za-z0-9-]+", "-", period_text or now.date().isoformat())
    return Answer(f"📑 Exception report for {label}, covering {len(statuses)} contract(s).{left_out}", pdf,
                  f"exception-report-{name}.pdf")
