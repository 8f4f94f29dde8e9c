"""The commissioners' weekly digest: every return that is late, every indicator at red, every return waiting for
the council's review and every query overdue, in one message.

It goes on the configured weekday (Monday by default, or the next working day after a bank holiday) to each
commissioner, covering the contracts they may see: late returns (past due, not accepted) with their place on the
escalation ladder, the red indicators of each contract's latest accepted return, and the files refused in the
last seven days as possible patient-level data from the providers of those contracts (that they exist, who sent
them and when they are deleted; never their name or content). A commissioner with nothing to hear of gets no
message that week. A digest missed while the scheduler was down is sent later in the
same week, never for a week gone by. A Teams channel, read by more people than the commissioners, is not told who
sent a refused file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.assessment.reviews import waiting
from bot.reports.display import threshold_only
from bot.storage.db import fetch_rows
from bot.storage.models import (
    Contact,
    Contract,
    IndicatorResultRow,
    Obligation,
    Organisation,
    StoredFile,
    Submission,
)
from jobs import owed as reads
from jobs.messages import days_text, render, short_day
from jobs.queueing import Decision, Outgoing
from jobs.timing import Clock, digest_day
from kpi_core import loader
from kpi_core.calendar import parse_period
from kpi_core.formatting import plural

if TYPE_CHECKING:
    from jobs.owed import Describer
    from jobs.recipients import Directory

Build = Callable[[Session, "Directory", "Describer"], None]
WAS_ACCEPTED = ("accepted", "superseded")


@dataclass(frozen=True)
class Line:
    contract_id: str
    text: str


def digest_decisions(session: Session, settings: config.Settings, clock: Clock) -> list[tuple[Decision, Build]]:
    """This week's digest for each council, once its day has come."""
    day = digest_day(clock.today, settings.scheduler.digest_weekday)
    if clock.today < day or day.isocalendar()[:2] != clock.today.isocalendar()[:2]:
        return []
    monday = clock.today.isocalendar()
    week = f"{monday[0]}-W{monday[1]:02d}"
    councils = session.exec(select(Contract.commissioner_id).distinct()).all()
    planned = []
    for council in sorted(councils):
        decision = Decision(f"digest:{week}:{council}", "digest", "digest", organisations=(council,))
        planned.append((decision, _builder(decision, council, week, clock, settings)))
    return planned


def _builder(decision: Decision, council: str, week: str, clock: Clock, settings: config.Settings) -> Build:
    week_of = f"week of {short_day(clock.today - timedelta(days=clock.today.weekday()))}"

    def build(session: Session, directory: Directory, describer: Describer) -> None:
        decision.why = f"the commissioners' weekly digest for the {week_of}: what is late and red"
        late = [Line(o.contract_id, _late_line(describer, o, clock))
                for o in reads.overdue(session, clock, col(Contract.commissioner_id) == council)]
        red = _red_lines(session, council, clock)
        refused = _refused_lines(session, council, clock)
        to_review, overdue = _review_lines(session, council, settings, clock)
        for person in directory.everyone(council, "commissioner"):
            visible = directory.visible(person)
            mine = lambda lines: [x.text for x in lines if visible is None or x.contract_id in visible]  # noqa: E731
            mine_late, mine_red = mine(late), mine(red)
            mine_review, mine_overdue = mine(to_review), mine(overdue)
            mine_refused = [shared if person.channel == "teams" else text for contracts, text, shared in refused
                            if visible is None or contracts & visible]
            if mine_late or mine_red or mine_refused or mine_review or mine_overdue:
                summary = f"{plural(len(mine_late), 'late return')}, {plural(len(mine_red), 'red indicator')}"
                if mine_review:
                    summary += f", {plural(len(mine_review), 'return')} to review"
                if mine_overdue:
                    summary += f", {plural(len(mine_overdue), 'query', 'queries')} overdue"
                if mine_refused:
                    summary += f", {plural(len(mine_refused), 'file')} refused as possible personal data"
                decision.outgoing.append(Outgoing(person, render(
                    "digest", person, week=week_of, late=mine_late, red=mine_red, refused=mine_refused,
                    review=mine_review, overdue_queries=mine_overdue, summary=summary)))
    return build


def _review_lines(session: Session, council: str, settings: config.Settings,
                  clock: Clock) -> tuple[list[Line], list[Line]]:
    """The council's returns waiting for its review, and the queries its providers have not answered in time."""
    from bot.review.listing import describe  # the review's own words for what waits

    contracts = list(session.exec(select(Contract.id).where(col(Contract.commissioner_id) == council)).all())
    items = waiting(session, contracts)
    to_review = [Line(w.contract_id, describe(session, settings, w, clock.today)) for w in items
                 if w.on == "council" and w.since <= clock.now]
    overdue = [Line(w.contract_id, describe(session, settings, w, clock.today)) for w in items
               if w.on == "provider" and w.overdue(clock.today)]
    return to_review, overdue


def _late_line(describer: Describer, o: reads.Owed, clock: Clock) -> str:
    about = describer.about(o)
    level = f"; escalation level {o.escalation_level}" if o.escalation_level else ""
    return (f"{o.contract_name}: {about.return_label.lower()} for {about.period_label}, due {short_day(o.due)}, "
            f"{days_text((clock.today - o.due).days)} overdue{level}")


def _red_lines(session: Session, council: str, clock: Clock) -> list[Line]:
    """The red indicators of each contract's latest return accepted by now (the version in force then)."""
    rows = fetch_rows(session, sa.select(
        col(Obligation.contract_id), col(Obligation.due_date), col(Obligation.period_id), col(Contract.name),
        col(Contract.year_start_month), col(Submission.id), col(Submission.received_at), col(Contract.framework_id))
        .join(Submission, col(Submission.obligation_id) == Obligation.id)
        .join(Contract, col(Contract.id) == Obligation.contract_id)
        .where(col(Contract.commissioner_id) == council, col(Submission.status).in_(WAS_ACCEPTED),
               col(Submission.received_at) <= clock.now))
    latest: dict[str, sa.Row[str, date, str, str, int, int | None, datetime, str]] = {}
    for row in rows:  # the latest period, and within it the latest version received
        if row[0] not in latest or (row[1], row[6]) > (latest[row[0]][1], latest[row[0]][6]):
            latest[row[0]] = row
    if not latest:
        return []
    by_submission = {row[5]: row for row in latest.values()}
    results = session.exec(select(IndicatorResultRow).where(
        col(IndicatorResultRow.submission_id).in_(list(by_submission)), col(IndicatorResultRow.status) == "red")
        .order_by(col(IndicatorResultRow.submission_id), col(IndicatorResultRow.id))).all()
    lines = []
    for result in results:
        contract_id, _, period_id, name, start_month = by_submission[result.submission_id][:5]
        d = result.detail
        target = f" against a target of {_target(d, by_submission[result.submission_id][7], result.ref)}" \
            if d.get("target") else ""
        lines.append(Line(contract_id, f"{name}, {parse_period(period_id, start_month).label}: {result.ref} "
                                       f"{d.get('name', '')}: {d.get('display_value', '')}{target}"))
    return sorted(lines, key=lambda line: line.text)


def _target(detail: dict[str, object], framework_id: str, ref: str) -> str:
    """The stored target; one set against a benchmark named in the framework's words, never by its identifier
    (`>= national_tdt_4wk_pct` reads `≥ National average ...`)."""
    try:
        framework = loader.get(framework_id)
        indicator = framework.indicator(ref)
    except (KeyError, StopIteration):
        return str(detail["target"])
    if indicator.target is None or indicator.target.expression is None:
        return str(detail["target"])
    value = detail.get("target_value")
    bound = Fraction(str(value)) if isinstance(value, int | float) else None
    return threshold_only(indicator, framework, "target", bound)


def _refused_lines(session: Session, council: str, clock: Clock) -> list[tuple[set[str], str, str]]:
    """Files refused as possible personal data in the last seven days, sent by a provider holding one of the
    council's contracts: the contracts they could concern, a line that names the sender and the dates only, and
    the same line without the sender (for a channel)."""
    contracts: dict[str, set[str]] = {}
    for contract_id, provider_id in session.exec(select(Contract.id, Contract.provider_id)
                                                 .where(col(Contract.commissioner_id) == council)):
        contracts.setdefault(provider_id, set()).add(contract_id)
    if not contracts:
        return []
    rows = fetch_rows(session, sa.select(
        col(Submission.received_at), col(Submission.sender_address), col(Organisation.id), col(Organisation.name),
        col(StoredFile.purge_after))
        .join(Contact, col(Contact.id) == Submission.sender_contact_id)
        .join(Organisation, col(Organisation.id) == Contact.organisation_id)
        .outerjoin(StoredFile, col(StoredFile.sha256) == Submission.sha256)
        .where(col(Submission.status) == "quarantined", col(Organisation.id).in_(list(contracts)),
               col(Submission.received_at) > clock.now - timedelta(days=7),
               col(Submission.received_at) <= clock.now)
        .order_by(col(Submission.received_at)))
    lines = []
    local = lambda moment: moment.astimezone(clock.zone).date()  # noqa: E731
    for received_at, sender, provider_id, provider_name, purge_after in rows:
        deleted = f"; it is kept locked away and deleted on {short_day(local(purge_after))}" if purge_after else ""
        rest = (f" sent on {short_day(local(received_at))} was refused as it may hold patient-level data{deleted}. "
                "kpibot keeps nothing of its content; ask the provider for aggregate figures.")
        lines.append((contracts[provider_id], f"{provider_name}: a file {sender}{rest}",
                      f"{provider_name}: a file{rest}"))
    return lines
