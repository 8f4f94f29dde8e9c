"""The intake's last step: write an assessed return, its new version, its review, its reply and the PDF still to
draw.

Called inside one write transaction holding the obligation's lock (see `Intake._save`); rows are inserted in bulk.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

import sqlalchemy as sa
from sqlmodel import Session, select

from bot import config
from bot.assessment.in_context import Assessed
from bot.intake import replies, undoing
from bot.intake.received import IntakeResult, Outcome, Received
from bot.outbox.email_threads import reply_headers
from bot.plans import hooks as plans
from bot.processes import leases
from bot.review import hooks as review
from bot.review import payments
from bot.storage.audit import event_row, record_all
from bot.storage.db import insert_tuples, lock_row, table_of
from bot.storage.models import (
    Contact,
    Contract,
    DataValue,
    FindingRow,
    IndicatorResultRow,
    Obligation,
    OutboxMessage,
    PaymentRow,
    RenderJob,
    Submission,
)
from kpi_core.findings import Finding

CHANNEL_REPLY = {"cli": "local", "email": "email", "telegram": "telegram",
                 "web": "email"}  # web: the page shows the answer too
REMOVE = "remove"  # an outbox row that deletes a chat message instead of sending one
MAX_FINDINGS_STORED = 500  # a file with more problems is summarised; the reply and report show fewer still


class Lost(Exception):
    """Another process finished or took over this submission meanwhile; its outcome stands."""


@dataclass(frozen=True)
class Undone:
    """A version that undoes corrections (bot/intake/undoing.py): what the commissioners are told when it is saved."""

    undo: undoing.Undo
    confirmed: bool  # the sender confirmed it in a chat
    provider_name: str
    period_label: str
    telegram: bool  # a bot token is configured: commissioners with a linked chat hear there
    zone: str


@dataclass(frozen=True)
class Save:
    """What the intake decided about one submission, ready to write."""

    submission_id: int
    contact_id: int
    actor: str
    received: Received
    contract: Contract
    obligation: Obligation
    assessed: Assessed
    on_time: bool
    undone: Undone | None = None
    sender: Contact | None = None  # the contact who sent it, read before the lock (detached)
    record: Submission | None = None  # the submission as read before the lock (detached): the hooks read it
    # The return's review as read before the lock, and the version the return would have been then: the review
    # hook moves that row when no version was saved since (else it reads the review again).
    seen: review.Before | None = None
    expected: int | None = None


def reply_key(submission_id: int | None, stage: str = "") -> str:
    return f"reply:submission:{submission_id}" + (f":{stage}" if stage else "")


def reply_to(received: Received) -> str:
    """Where the reply to `received` goes, for people: 'email to alice@...', 'Telegram chat 1001'."""
    channel = CHANNEL_REPLY[received.channel]
    if channel == "telegram":
        return f"Telegram chat {received.sender}"
    if channel == "local":
        return f"the local outbox, for {received.sender}"
    return f"email to {received.sender}"


def lock_obligation(session: Session, obligation_id: int | None) -> None:
    lock_row(session, Obligation, obligation_id)


def under_lock(session: Session, submission_id: int, obligation_id: int | None, now: datetime,
               contract_id: str) -> tuple[bool, Versions, list[plans.OpenPlan], list[payments.Confirmed]]:
    """What the save decides from, read in one statement: is the submission still this process's (else Lost), is
    a submission received before it still being processed that may be a version of the same return (one is
    pinned to a return only when saved, so any earlier one still being processed is waited for)? Its process must
    be alive, or it is not waited for. The return's saved `versions`, the contract's open action plans, which an
    accepted version updates, and its confirmed payments, which a version replacing one they rest on reopens."""
    params = dict(submission_id=submission_id, obligation_id=obligation_id, contract_id=contract_id)
    rows, found = [], []
    confirmed: list[payments.Confirmed] = []
    for kind, *row in session.execute(_under_lock(), params):
        if kind == 0:
            rows.append(row[:7])
        elif kind == 1:
            found.append(plans.OpenPlan(row[0], row[7], row[3], row[8], row[9]))
        else:
            confirmed.append(payments.confirmed_of(row[0], row[3], row[7], row[2], row[6]))
    own = next((r for r in rows if r[0] == submission_id), None)
    if own is None or own[3] != "received" or own[6] != leases.me():
        raise Lost(submission_id)
    # One released to wait for its file (no owner) is not being processed: nothing waits for it.
    earlier = any(i < submission_id and status == "received" and owner is not None
                  and not leases.expired(until, owner, now) for i, _, _, status, _, until, owner in rows)
    return earlier, Versions([(int(i), int(v), h, str(s)) for i, v, h, s, o, _, _ in rows
                              if o == obligation_id and v is not None], own[2]), found, confirmed


@functools.cache
def _under_lock() -> sa.CompoundSelect[Any]:
    """under_lock's statement, built once (its parameters bound at each call)."""
    table = table_of(Submission)
    submission_id: sa.BindParameter[int] = sa.bindparam("submission_id")
    obligation_id: sa.BindParameter[int] = sa.bindparam("obligation_id")
    mine = table.c.obligation_id == obligation_id
    typed = lambda t: sa.type_coerce(sa.null(), t)  # noqa: E731 - a slot the other branch fills
    read = sa.select(sa.literal_column("0"), table.c.id, table.c.version, table.c.sha256, table.c.status,
                     table.c.obligation_id, table.c.lease_until, table.c.lease_owner, typed(sa.String()),
                     typed(sa.String()), typed(sa.Date())).where(sa.or_(
        table.c.id == submission_id,
        sa.and_(mine, table.c.version.is_not(None)),
        sa.and_(table.c.id < submission_id, table.c.status == "received",
                sa.or_(mine, table.c.obligation_id.is_(None)))))
    p = plans.open_plans(sa.bindparam("contract_id"))
    c = payments.confirmed_payments(sa.bindparam("contract_id"))
    id_, year, rule, amount, rests_on = c.c
    return sa.union_all(read, sa.select(
        sa.literal_column("1"), p.c.id, sa.null(), sa.null(), p.c.state, sa.null(), sa.null(), sa.null(),
        p.c.ref, p.c.period_id, p.c.period_end), sa.select(
        sa.literal_column("2"), id_, sa.null(), amount, year, sa.null(), sa.null(), rests_on, rule, sa.null(),
        sa.null()))


@dataclass(frozen=True)
class Versions:
    """The saved versions of one return (id, version, sha256, status of each), read in one statement: what the
    intake decides a new submission of it is (a copy of the latest, overtaken, or the next version)."""

    rows: Sequence[tuple[int, int, str | None, str]]
    digest: str | None = None  # the file's of the submission being saved, when read with them

    def identical_latest(self, submission_id: int | None, sha256: str | None) -> int | None:
        """The latest version's submission when it has exactly these bytes: sending the same file again is one
        submission, not a new version."""
        others = [r for r in self.rows if r[0] != submission_id]
        latest = max(others, key=lambda r: r[1], default=None)
        return latest[0] if latest is not None and latest[2] == sha256 else None

    def newer(self, submission_id: int | None) -> int | None:
        """The latest version saved from a submission received after this one (a higher id: the order of
        receipt). A return finishing after a later one was saved must not replace it."""
        return max((r[0] for r in self.rows if submission_id is not None and r[0] > submission_id), default=None)

    def next(self) -> int:
        return 1 + len(self.rows)

    def in_force(self) -> int | None:
        return next((r[0] for r in self.rows if r[3] == "accepted"), None)


def in_force(session: Session, obligation_id: int | None) -> Submission | None:
    return session.exec(select(Submission).where(Submission.obligation_id == obligation_id,
                                                 Submission.status == "accepted")).first()


def save(session: Session, job: Save, version: int, reply: replies.Reply, now: datetime,
         settings: config.Settings, standing: int | None, open_plans: Sequence[plans.OpenPlan],
         confirmed: Sequence[payments.Confirmed]) -> IntakeResult:
    """Write everything about an assessed return, open its review (or move the review onto it) and commit.
    `standing` is the id of the version in force (read under the lock), superseded when this one is accepted;
    `open_plans` the contract's open action plans and `confirmed` its confirmed payments, read under the lock
    too.
    The submission's row changes in one statement (after the one it supersedes, for the one-accepted-version
    index), conditional on its still being this process's (else Lost, nothing written)."""
    assessment, obligation, received = job.assessed.assessment, job.obligation, job.received
    at = received.received_at
    # The contract, obligation and sender, read before the lock, join this session clean: the hooks below find
    # them there rather than reading them again. The session holds objects weakly, so they are kept referenced
    # until the commit. (The obligation's first acceptance is set by a statement, below.)
    held = [session.merge(o, load=False) for o in (job.contract, obligation, job.sender) if o is not None]
    outcome: Outcome = "accepted" if assessment.accepted else "rejected"
    table = table_of(Submission)
    superseded = standing if assessment.accepted else None
    if superseded is not None:
        session.execute(table.update().where(table.c.id == superseded)
                        .values(status="superseded", superseded_by_id=job.submission_id))
    changes = dict(contract_id=job.contract.id, obligation_id=obligation.id, period_id=obligation.period_id,
                   version=version, status=outcome, on_time=job.on_time, error_count=len(assessment.errors),
                   warning_count=len(assessment.warnings), processed_at=at, lease_owner=None, lease_until=None)
    if not assessment.accepted:
        changes["reason"] = f"{len(assessment.errors)} error(s) in the return"
    done = session.execute(table.update().where(
        table.c.id == job.submission_id, table.c.status == "received", table.c.lease_owner == leases.me())
        .values(**changes))
    if done.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise Lost(job.submission_id)
    # The hooks read the submission as it now is: the one read before the lock, with these changes (detached).
    submission = job.record
    if submission is None:
        submission = session.get_one(Submission, job.submission_id)
        session.expunge(submission)
    for name, value in changes.items():
        setattr(submission, name, value)
    scored: list[plans.Scored] = []
    if assessment.accepted:
        if obligation.first_accepted_at is None:  # once set it is never cleared: nothing to do otherwise
            table = table_of(Obligation)
            session.execute(table.update().where(table.c.id == obligation.id, table.c.first_accepted_at.is_(None))
                            .values(first_accepted_at=at))
        save_values(session, submission.id, job.assessed)
        scored = save_results(session, submission.id, job.assessed)
    save_findings(session, submission.id, list(assessment.findings)[:MAX_FINDINGS_STORED])
    added = [job.undone.undo.finding(job.undone.zone, job.undone.confirmed)] if job.undone else []
    render = queue_render(session, submission.id, job.assessed, at, added) if reply.attachment_name else None
    queue_reply(session, submission.id, job.contact_id, received, reply.text, reply.subject, render=render,
                fallback_text=reply.fallback_text, attachment_name=reply.attachment_name,
                report_of=(job.contract.name, obligation.period_id))
    u = job.undone
    if u is not None and submission.status == "accepted":
        spec = assessment.framework.returns.get(obligation.return_type)
        undoing.tell_commissioners(session, job.contract, u.provider_name, u.undo, version, submission.id, at,
                                   received.channel, u.confirmed, u.telegram, u.zone, u.period_label,
                                   spec.label if spec else obligation.return_type)
    audits = [event_row(at, job.actor, f"submission_{submission.status}", f"submission:{submission.id}",
                        {"contract": job.contract.id, "period": obligation.period_id, "version": version,
                         "errors": submission.error_count, "warnings": submission.warning_count,
                         "superseded": superseded, "on_behalf": submission.on_behalf})]
    if submission.status == "accepted":  # reds ask for action plans (their audit follows the version's)
        audits += plans.version_accepted(session, settings, submission, obligation, scored, received.channel, at,
                                        open_plans)
        # It waits for the council's review (or the review follows it).
        seen = job.seen if version == job.expected else None
        audits += review.version_accepted(session, settings, submission, received.channel, reply.summary, at, seen,
                                          confirmed)
    record_all(session, audits)
    session.commit()
    del held
    return IntakeResult(outcome, submission.id, reply.text, job.contract.id,
                        obligation.period_id, version, job.on_time, assessment.findings, assessment,
                        reply_to=reply_to(received))


def save_values(session: Session, submission_id: int | None, assessed: Assessed) -> None:
    assessment = assessed.assessment
    interp = assessment.interpretation
    this = assessment.period.id
    periods = {this: interp.values, **interp.history}
    where = interp.where
    rows = [(submission_id, period_id, item, breakdown, str(value), float(value),
             where.get((item, breakdown), "") if period_id == this else "")
            for period_id, values in periods.items() for (item, breakdown), value in sorted(values.items())]
    insert_tuples(session, table_of(DataValue), VALUE_COLUMNS, rows)


VALUE_COLUMNS = ("submission_id", "period_id", "item_id", "breakdown", "exact", "value", "cell")
RESULT_COLUMNS = ("submission_id", "ref", "status", "value", "critical_failure", "detail")


def save_results(session: Session, submission_id: int | None, assessed: Assessed) -> list[plans.Scored]:
    """Store the scorecard; return each indicator's ref, status and stored result (for its action plan)."""
    card = assessed.assessment.scorecard
    scored: list[plans.Scored] = [(r.ref, r.status, r.as_dict()) for r in card.indicators]
    insert_tuples(session, table_of(IndicatorResultRow), RESULT_COLUMNS, [
        (submission_id, r.ref, r.status, None if r.value is None else float(r.value), r.judgement.critical_failure,
         detail) for r, (_, _, detail) in zip(card.indicators, scored, strict=True)], json=("detail",))
    if card.payments:
        session.execute(table_of(PaymentRow).insert(), [
            dict(submission_id=submission_id, rule_id=p.rule.id, amount=p.amount, forecast=p.forecast,
                 detail=p.as_dict()) for p in card.payments])
    return scored


def save_findings(session: Session, submission_id: int | None, findings: Sequence[Finding]) -> None:
    rows = [dict(submission_id=submission_id, severity=f.severity, code=f.code[:64], message=f.message,
                 location=f.where[:200], fix=f.fix, item=f.item[:64]) for f in findings]
    if rows:
        session.execute(table_of(FindingRow).insert(), rows)


def queue_render(session: Session, submission_id: int | None, assessed: Assessed, now: datetime,
                 added: list[Finding] | None = None) -> int:
    """The return report, to be drawn by the render queue exactly as this assessment judged the return, with the
    findings the intake `added` beyond the file's own (e.g. that it undoes corrections); return the job's id."""
    inputs: dict[str, object] = {"history": assessed.history_versions}
    if added:
        inputs["added"] = [f.as_dict() for f in added]
    table = table_of(RenderJob)
    return int(session.execute(table.insert().values(
        key=f"return:submission:{submission_id}", kind="return", submission_id=submission_id, inputs=inputs,
        next_attempt_at=now, created_at=now).returning(table.c.id)).scalar_one())


class _Addressed(TypedDict):
    """What every message of one reply shares: its recipient, channel and threading headers."""

    created_at: datetime
    contact_id: int | None
    channel: str
    address: str
    next_attempt_at: datetime
    headers: dict[str, Any]


def queue_reply(session: Session, submission_id: int | None, contact_id: int | None, received: Received, text: str,
                subject: str, stage: str = "", render: int | None = None, fallback_text: str | None = None,
                attachment_name: str | None = None, report_of: tuple[str, str] | None = None) -> None:
    """Queue the reply on the channel the file came in on. A PDF still to draw (the render job `render`, of the
    return `report_of`: contract name and period) goes with an email (which waits for it) and follows a Telegram
    summary as a document of its own."""
    channel = CHANNEL_REPLY[received.channel]
    base = _Addressed(created_at=received.received_at, contact_id=contact_id, channel=channel,
                      address=received.sender, next_attempt_at=received.received_at,
                      headers=reply_headers(received.message_id, received.references, received.caption)
                      if channel == "email" else {})
    table = table_of(OutboxMessage)
    reply = dict(dedupe_key=reply_key(submission_id, stage), kind="reply", subject=subject[:300], body_text=text,
                 render_job_id=None, fallback_text=None, attachment_name=None, **base)
    if render is not None and channel == "telegram":
        assert report_of is not None
        session.execute(table.insert(), [reply, dict(
            dedupe_key=reply_key(submission_id, "report"), kind="report", subject="", body_text="",
            render_job_id=render, fallback_text=replies.report_missing(*report_of),
            attachment_name=attachment_name, **base)])
        return
    if render is not None:
        reply.update(render_job_id=render, fallback_text=fallback_text, attachment_name=attachment_name)
    session.execute(table.insert(), [reply])


def queue_removal(session: Session, submission_id: int | None, contact_id: int | None, received: Received) -> None:
    """Have the chat message that carried a quarantined file deleted (a bot may delete what a person sent it in a
    private chat): the file must not stay where it was sent. Only Telegram keeps what it was sent this way; an
    email is deleted from the mailbox by the email channel."""
    if received.channel != "telegram":
        return
    session.add(OutboxMessage(dedupe_key=f"remove:submission:{submission_id}", created_at=received.received_at,
                              contact_id=contact_id, channel="telegram", address=received.sender, kind=REMOVE,
                              body_text="", next_attempt_at=received.received_at,
                              headers={"message_id": received.message_id.rsplit(":", 1)[-1]}))
