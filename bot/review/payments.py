"""A year's payment by results and incentives, confirmed by a person (bot/review/table.py, PAYMENT_TABLE).

kpibot calculates the amounts ("calculated" on a full year; "provisional", naming the periods, when some are
missing). Only a commissioner of the contract confirms them, and only once every return the figure rests on is
signed off: `year_payments` shows the arithmetic, the returns and what still stops confirmation; `confirm_payments`
records who, when and the figure, and tells the provider and the council. A corrected version of a return a
confirmed figure rests on reopens it (`reopen_payments`, from the intake's hook), and the council is told.

The figure is worked out again from the stored returns with the versions in force (as reports are), so a
correction of an earlier quarter is never missed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.assessment.in_context import framework_for, terms_of
from bot.assessment.reviews import confirmations
from bot.authz.policy import review_role
from bot.review import table as t
from bot.review.messages import Story, tell, when
from bot.review.scene import Act, Outcome, Refused, Scene, actor, audiences
from bot.storage.audit import record
from bot.storage.db import lock_row, retrying, table_of, write_session
from bot.storage.files import FileStore
from bot.storage.models import Contact, Contract, Obligation, Organisation, Submission
from bot.storage.review_models import PaymentConfirmation, Review, ReviewEvent
from kpi_core import formatting
from kpi_core.calendar import Period, PeriodError, parse_period


@dataclass(frozen=True)
class Basis:
    """A return a year's payment rests on, and where its review stands."""

    period: str  # `Q2 2025-26 (July 2025 to September 2025)`
    obligation_id: int
    submission_id: int | None
    version: int | None
    state: str  # the review's state, or `missing`
    words: str  # `version 2, signed off by Carol on 6 October 2025 at 10:30`

    @property
    def signed_off(self) -> bool:
        return self.state == t.SIGNED_OFF


@dataclass(frozen=True)
class YearPayment:
    rule_id: str
    name: str
    amount: Decimal | None
    maximum: Decimal | None
    state: str  # calculated | provisional | confirmed
    arithmetic: tuple[str, ...]
    missing: tuple[str, ...] = ()
    confirmed: str = ""  # `by Carol on 20 May 2026 at 10:00`


@dataclass(frozen=True)
class YearPayments:
    contract_id: str
    contract_name: str
    provider_name: str
    year_id: str
    return_label: str  # the return the year's figure comes from
    payments: tuple[YearPayment, ...]
    rests_on: tuple[Basis, ...]
    blocking: tuple[str, ...]  # why it cannot be confirmed now (empty: it can)


def year_payments(session: Session, files: FileStore, settings: config.Settings, contract_id: str,
                  year_text: str) -> YearPayments:
    """The year's payments of a contract, as the stored returns in force give them, with what they rest on."""
    from bot.reports.stored import Located, ReportError, locate, stored_assessment  # not imported by the intake

    contract = session.get(Contract, contract_id)
    if contract is None:
        raise Refused(f"There is no contract {contract_id!r}.", "unknown")
    try:
        year = parse_period(year_text, contract.year_start_month).year
    except PeriodError as exc:
        raise Refused(str(exc), "bad_year") from None
    provider = session.get(Organisation, contract.provider_id)
    terms = terms_of(settings, contract, year.periods("annual")[0])
    # The year's figure comes from the return of the longest period that carries the payment and has a version
    # accepted for the year's end: the annual return, else the last quarter's year to date.
    candidates: list[tuple[str, list[Period]]] = []
    for return_type, spec in sorted(terms.returns.items(), key=lambda kv: len(year.periods(kv[1].frequency))):
        periods = year.periods(spec.frequency)
        framework = framework_for(contract, periods[-1])
        refs = {i.ref for i in framework.indicators_for(return_type)}
        if any(rule.indicator in refs for rule in framework.payments):
            candidates.append((return_type, periods))
    if not candidates:
        raise Refused(f"{contract.name} has no payment by results or incentive to confirm.", "no_payments")
    def located(periods: list[Period]) -> Located | None:
        try:
            return locate(session, contract, periods[-1])
        except ReportError:  # the year's last period has not begun: nothing owed for it yet
            return None

    return_type, periods = candidates[0]
    found = located(periods)
    for other_type, other_periods in candidates:
        there = located(other_periods)
        if there is not None and there.submission is not None and there.submission.status == "accepted":
            return_type, periods, found = other_type, other_periods, there
            break
    label = terms.returns[return_type].label
    last = periods[-1]
    head = YearPayments(contract.id, contract.name, provider.name if provider else contract.provider_id, year.id,
                        label, (), (), ())
    if found is None or found.submission is None or found.submission.status != "accepted":
        owed = []
        for kind, kind_periods in candidates:
            there = located(kind_periods)
            due = f" (due {there.obligation.due_date.day} {there.obligation.due_date:%B %Y})" if there else ""
            owed.append(f"{terms.returns[kind].label.lower()} for {kind_periods[-1].label}{due}")
        return _with(head, blocking=(f"the year's figure cannot be worked out yet: no {' or '.join(owed)} has been "
                                     "accepted.",))
    assessment, _ = stored_assessment(session, files, settings, found)
    confirmed = confirmations(session, contract.id, year.id)
    wanted: set[str] = {last.id}
    payments = []
    for payment in assessment.scorecard.payments:
        result = assessment.scorecard.result(payment.indicator)
        if result.ytd is not None:
            wanted |= {p.id for p in periods}
        kept = confirmed.get(payment.rule.id)
        state = "provisional" if payment.missing_periods else t.CALCULATED
        by = ""
        if kept is not None and kept.amount == payment.amount:
            who = session.get(Contact, kept.confirmed_by)
            state, by = t.CONFIRMED, f"by {who.name if who else 'the council'} on {when(kept.confirmed_at, settings)}"
        payments.append(YearPayment(payment.rule.id, payment.rule.name, payment.amount, payment.maximum, state,
                                    payment.arithmetic, payment.missing_periods, by))
    rests = _rests_on(session, settings, contract, return_type, [p for p in periods if p.id in wanted])
    blocking = [f"{b.period}: {b.words}" for b in rests if not b.signed_off]
    return _with(head, payments=tuple(payments), rests_on=tuple(rests), blocking=tuple(blocking))


def _with(head: YearPayments, **values: object) -> YearPayments:
    return replace(head, **values)  # type: ignore[arg-type]


def _rests_on(session: Session, settings: config.Settings, contract: Contract, return_type: str,
              periods: list[Period]) -> list[Basis]:
    obligations = {o.period_id: o for o in session.exec(select(Obligation).where(
        Obligation.contract_id == contract.id, Obligation.return_type == return_type,
        col(Obligation.period_id).in_([p.id for p in periods])))}
    found = []
    for period in periods:
        obligation = obligations.get(period.id)
        if obligation is None or obligation.id is None:
            found.append(Basis(period.label, 0, None, None, "missing", "no return owed is recorded yet"))
            continue
        review = session.exec(select(Review).where(Review.obligation_id == obligation.id)).first()
        accepted = session.exec(select(Submission).where(Submission.obligation_id == obligation.id,
                                                         Submission.status == "accepted")).first()
        if accepted is None or review is None:
            found.append(Basis(period.label, obligation.id, None, None, "missing", "no return accepted"))
            continue
        words = f"version {review.version}, {t.STATE_WORDS[review.state]}"
        if review.state == t.SIGNED_OFF and review.signed_off_by:
            signer = session.get(Contact, review.signed_off_by)
            words += f" by {signer.name if signer else 'the council'} on {when(review.signed_off_at, settings)}"
        found.append(Basis(period.label, obligation.id, review.submission_id, review.version, review.state, words))
    return found


def confirm_payments(engine: sa.Engine, settings: config.Settings, files: FileStore, act: Act, contract_id: str,
                     year_text: str, shown: Mapping[str, Decimal | None] | None = None) -> Outcome:
    """Confirm the year's payments of a contract as a commissioner; `shown` are the amounts the person was shown
    (refused if they have changed since)."""
    with Session(engine) as session:
        contact = actor(session, act)
        contract = session.get(Contract, contract_id)
        part = review_role(session, contact, contract_id) if contract is not None else None
        row = t.transition(t.CALCULATED, t.CONFIRM, t.PAYMENT_TABLE)
        assert row is not None
        if part is None or contract is None:
            raise Refused("You may not confirm that payment: it is not one of your contracts.", "not_yours")
        if part not in row.who:
            raise Refused(t.refusal(t.CALCULATED, t.CONFIRM, part, t.PAYMENT_TABLE), "not_allowed")
        preview = year_payments(session, files, settings, contract_id, year_text)
    _check(preview, shown)
    todo = [p for p in preview.payments if p.state != t.CONFIRMED]

    def write() -> Outcome:
        with write_session(engine) as session:
            for basis in sorted(preview.rests_on, key=lambda b: b.obligation_id):
                lock_row(session, Obligation, basis.obligation_id)  # a new version waits until this commits
                review = session.exec(select(Review).where(Review.obligation_id == basis.obligation_id)).first()
                if review is None or review.state != t.SIGNED_OFF or review.submission_id != basis.submission_id:
                    raise Refused(f"{basis.period} changed a moment ago (a new version, or its review moved): look "
                                  "at the year's payment again before confirming. Nothing was confirmed.",
                                  "acted_first")
            for p in todo:
                session.add(PaymentConfirmation(contract_id=contract_id, year_id=preview.year_id, rule_id=p.rule_id,
                                                amount=p.amount, maximum=p.maximum, confirmed_by=contact.id or 0,
                                                confirmed_at=act.at, channel=act.channel, arithmetic=list(p.arithmetic),
                                                rests_on=[b.submission_id or 0 for b in preview.rests_on]))
            try:
                session.flush()
            except sa.exc.IntegrityError:
                session.rollback()
                raise Refused("Someone confirmed this year's payment a moment before you; nothing more was recorded.",
                              "acted_first") from None
            amounts = tuple(f"{p.name}: {_money(p.amount)}" for p in todo)
            event = ReviewEvent(action=t.CONFIRM, from_state=t.CALCULATED, to_state=t.CONFIRMED,
                                actor_contact_id=contact.id, actor=contact.email, channel=act.channel, at=act.at,
                                note=f"{preview.year_id}: " + "; ".join(amounts), source_key=act.key)
            session.add(event)
            session.flush()
            assert contract is not None
            story = Story(preview.contract_name, preview.provider_name, preview.return_label, year=preview.year_id,
                          who=contact.name, when=when(act.at, settings), amounts=amounts, lines=_lines(todo, preview))
            told = tell(session, settings, row, event, story, audiences(session, contract, exclude=contact.id))
            record(session, act.at, contact.email, "payment_confirmed", f"contract:{contract_id}",
                   {"year": preview.year_id, "amounts": {p.rule_id: str(p.amount) for p in todo},
                    "rests_on": [b.submission_id for b in preview.rests_on], "channel": act.channel})
            session.commit()
            names = ", ".join(c.name for c in told) or "nobody else"
            return Outcome(t.CONFIRM, t.CONFIRMED, f"Confirmed {preview.contract_name}, {preview.year_id}: "
                           f"{'; '.join(amounts)}. Recorded as confirmed by {contact.name} on "
                           f"{when(act.at, settings)}. Told: {names}.")
    return retrying(write)


def _check(preview: YearPayments, shown: Mapping[str, Decimal | None] | None) -> None:
    """Refuse a confirmation the figures do not allow, in words that say what still has to happen."""
    if not preview.payments:
        raise Refused(f"Not confirmed: {' '.join(preview.blocking)}", "not_ready")
    if all(p.state == t.CONFIRMED for p in preview.payments):
        first = preview.payments[0]
        raise Refused(f"{preview.contract_name}, {preview.year_id} is already confirmed ({first.confirmed}): "
                      f"{'; '.join(f'{p.name}: {_money(p.amount)}' for p in preview.payments)}.", "already")
    if preview.blocking:
        raise Refused("Not confirmed: the year's payment rests on returns the council has not signed off. "
                      + " ".join(f"{line}." for line in preview.blocking), "not_signed_off")
    if shown is not None and any(shown.get(p.rule_id) != p.amount for p in preview.payments
                                 if p.state != t.CONFIRMED):
        raise Refused("Not confirmed: the figures changed since they were shown; look at them again.", "changed")


def _money(amount: Decimal | None) -> str:
    return formatting.money(amount) if amount is not None else "no contract value given"


def _lines(todo: list[YearPayment], preview: YearPayments) -> tuple[str, ...]:
    lines = [line for p in todo for line in (f"{p.name}:", *p.arithmetic)]
    lines.append(f"It rests on the {preview.return_label.lower()}s of the year:")
    lines += [f"{b.period}: {b.words}" for b in preview.rests_on]
    return tuple(lines)


class Confirmed(NamedTuple):
    """A confirmed payment, as the intake reads it under the return's lock (with the return's versions)."""

    id: int
    year_id: str
    rule_id: str
    amount: Decimal | None
    rests_on: list[int]  # submission ids


def confirmed_payments(contract_id: sa.BindParameter[Any]) -> sa.Subquery:
    """The contract's confirmed payments: id, year_id, rule_id, and amount and rests_on as text (a `Confirmed`
    each, by `confirmed_of`), to be read in a union with other rows. A confirmation takes the locks of the returns
    it rests on (`confirm_payments`), so under a return's lock this read sees every one resting on it."""
    table = table_of(PaymentConfirmation)
    return sa.select(table.c.id, table.c.year_id, table.c.rule_id, sa.cast(table.c.amount, sa.String),
                     sa.cast(table.c.rests_on, sa.String)).where(
        table.c.contract_id == contract_id, table.c.state == t.CONFIRMED).subquery()


def confirmed_of(id_: int, year_id: str, rule_id: str, amount: str | None, rests_on: str) -> Confirmed:
    return Confirmed(id_, year_id, rule_id, None if amount is None else Decimal(amount), json.loads(rests_on))


def reopen_payments(session: Session, settings: config.Settings, scene: Scene, old_submission_id: int,
                    new: Submission, sender: Contact | None, channel: str, now: datetime,
                    read: Sequence[Confirmed]) -> None:
    """A corrected version replaced a return a confirmed payment rested on: reopen it and tell the council.
    `read` is the contract's confirmed payments, read under the return's lock (`confirmed_payments`)."""
    hit = [c for c in read if old_submission_id in c.rests_on]
    if not hit:
        return
    row = t.transition(t.CONFIRMED, t.RESUBMIT, t.PAYMENT_TABLE)
    assert row is not None
    for confirmation in hit:
        session.execute(sa.update(PaymentConfirmation).where(
            col(PaymentConfirmation.id) == confirmation.id, col(PaymentConfirmation.state) == t.CONFIRMED)
            .values(state="reopened", reopened_at=now, reopened_by_id=new.id))
    year = hit[0].year_id
    event = ReviewEvent(submission_id=new.id, version=new.version, action=t.RESUBMIT, from_state=t.CONFIRMED,
                        to_state=t.CALCULATED, actor_contact_id=sender.id if sender else None,
                        actor=sender.email if sender else "kpibot", channel=channel, at=now,
                        note=f"{year}: reopened by version {new.version} of {scene.period.id}")
    session.add(event)
    session.flush()
    named = {rule.id: rule.name for rule in scene.framework.payments}
    story = scene.story(who=sender.name if sender else "the provider", when=when(now, settings), year=year,
                        amounts=tuple(f"{named.get(c.rule_id, 'Payment')}: {_money(c.amount)}" for c in hit))
    tell(session, settings, row, event, story, audiences(session, scene.contract, exclude=None))
    record(session, now, event.actor, "payment_reopened", f"contract:{scene.contract.id}",
           {"year": year, "by_submission": new.id, "confirmations": [c.id for c in hit]})
