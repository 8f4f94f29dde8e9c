"""The commissioners' weekly digest: every critical failure, late return and indicator at red, every return waiting
for the council's review and every query overdue, in one message.

It goes on the configured weekday (Monday by default, or the next working day after a bank holiday) to each
commissioner, covering the contracts they may see: first the critical failures of each contract's latest accepted
return and the indicators at risk of an annual one; then late returns (past due, not accepted) with their place on
the escalation ladder; the red indicators of those returns, compared with their targets exactly as the replies
compare them (the year to date against the share expected by now; `IndicatorRow.comparison`), in natural order of
ref; the council's requests for information still open past their deadline; and the files refused in the last seven
days as possible patient-level data from the providers of those contracts (that they exist, who sent them and when
they are deleted; never their name or content). A commissioner with nothing to hear of gets no message that week. A
digest missed while the scheduler was down is sent later in the same week, never for a week gone by. A Teams
channel, read by more people than the commissioners, is not told who sent a refused file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.assessment.reviews import waiting
from bot.reports.context import indicator_row
from bot.reports.display import natural_key
from bot.reports.stored import ReportError, locate, stored_assessment
from bot.review.listing import describe
from bot.storage.db import fetch_rows
from bot.storage.files import FileStore
from bot.storage.models import (
    Contact,
    Contract,
    Obligation,
    Organisation,
    StoredFile,
    Submission,
)
from bot.storage.plan_models import InfoRequest
from jobs import owed as reads
from jobs.messages import days_text, render, short_day
from jobs.queueing import Decision, Outgoing
from jobs.timing import Clock, digest_day
from kpi_core.calendar import parse_period
from kpi_core.formatting import plural

if TYPE_CHECKING:
    from jobs.owed import Describer
    from jobs.recipients import Directory

Build = Callable[[Session, "Directory", "Describer"], None]


@dataclass(frozen=True)
class Line:
    contract_id: str
    text: str


def digest_decisions(session: Session, settings: config.Settings, clock: Clock,
                     files: FileStore) -> list[tuple[Decision, Build]]:
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
        planned.append((decision, _builder(decision, council, week, clock, settings, files)))
    return planned


def _builder(decision: Decision, council: str, week: str, clock: Clock, settings: config.Settings,
             files: FileStore) -> Build:
    week_of = f"week of {short_day(clock.today - timedelta(days=clock.today.weekday()))}"

    def build(session: Session, directory: Directory, describer: Describer) -> None:
        decision.why = f"the commissioners' weekly digest for the {week_of}: what is late and red"
        late = [Line(o.contract_id, _late_line(describer, o, clock))
                for o in reads.overdue(session, clock, col(Contract.commissioner_id) == council)]
        critical, red = _results(session, council, clock, settings, files)
        refused = _refused_lines(session, council, clock)
        to_review, overdue = _review_lines(session, council, settings, clock)
        requests = _request_lines(session, council, clock)
        for person in directory.everyone(council, "commissioner"):
            visible = directory.visible(person)
            mine = lambda lines: [x.text for x in lines if visible is None or x.contract_id in visible]  # noqa: E731
            mine_critical, mine_late, mine_red = mine(critical), mine(late), mine(red)
            mine_review, mine_overdue, mine_requests = mine(to_review), mine(overdue), mine(requests)
            mine_refused = [shared if person.channel == "teams" else text for contracts, text, shared in refused
                            if visible is None or contracts & visible]
            if mine_critical or mine_late or mine_red or mine_refused or mine_review or mine_overdue or mine_requests:
                summary = f"{plural(len(mine_late), 'late return')}, {plural(len(mine_red), 'red indicator')}"
                if mine_critical:  # said first, in the subject too
                    summary = f"{_critical_count(mine_critical)}, {summary}"
                if mine_review:
                    summary += f", {plural(len(mine_review), 'return')} to review"
                if mine_overdue:
                    summary += f", {plural(len(mine_overdue), 'query', 'queries')} overdue"
                if mine_requests:
                    summary += f", {plural(len(mine_requests), 'request')} for information overdue"
                if mine_refused:
                    summary += f", {plural(len(mine_refused), 'file')} refused as possible personal data"
                decision.outgoing.append(Outgoing(person, render(
                    "digest", person, week=week_of, critical=mine_critical, late=mine_late, red=mine_red,
                    refused=mine_refused, review=mine_review, overdue_queries=mine_overdue,
                    overdue_requests=mine_requests, summary=summary)))
    return build


def _review_lines(session: Session, council: str, settings: config.Settings,
                  clock: Clock) -> tuple[list[Line], list[Line]]:
    """The council's returns waiting for its review, and the queries its providers have not answered in time."""
    contracts = list(session.exec(select(Contract.id).where(col(Contract.commissioner_id) == council)).all())
    items = waiting(session, contracts)
    to_review = [Line(w.contract_id, describe(session, settings, w, clock.today)) for w in items
                 if w.on == "council" and w.since <= clock.now]
    overdue = [Line(w.contract_id, describe(session, settings, w, clock.today)) for w in items
               if w.on == "provider" and w.overdue(clock.today)]
    return to_review, overdue


def _request_lines(session: Session, council: str, clock: Clock) -> list[Line]:
    """The council's requests for information still open past their deadline, oldest deadline first."""
    rows = session.exec(select(InfoRequest, Contract.name).join(Contract, col(Contract.id) == InfoRequest.contract_id)
                        .where(col(Contract.commissioner_id) == council, InfoRequest.state == "open",
                               col(InfoRequest.due) < clock.today)
                        .order_by(col(InfoRequest.due), col(InfoRequest.id))).all()
    return [Line(r.contract_id, f"{name}: request {r.id}, {r.what}, due {short_day(r.due)}, "
                                f"{days_text((clock.today - r.due).days)} overdue") for r, name in rows]


def _critical_count(lines: list[str]) -> str:
    """`1 critical failure`, `2 at risk of critical failure`, or both: how a subject leads."""
    failures = sum(1 for line in lines if ": critical failure: " in line)
    parts = [plural(failures, "critical failure")] if failures else []
    if len(lines) > failures:
        parts.append(f"{len(lines) - failures} at risk of critical failure")
    return ", ".join(parts)


def _late_line(describer: Describer, o: reads.Owed, clock: Clock) -> str:
    about = describer.about(o)
    level = f"; escalation level {o.escalation_level}" if o.escalation_level else ""
    return (f"{o.contract_name}: {about.return_label.lower()} for {about.period_label}, due {short_day(o.due)}, "
            f"{days_text((clock.today - o.due).days)} overdue{level}")


def _results(session: Session, council: str, clock: Clock, settings: config.Settings,
             files: FileStore) -> tuple[list[Line], list[Line]]:
    """The critical failures (and indicators at risk of one), and the red indicators, of each contract's latest
    accepted return by now, judged as its return report judges it."""
    latest = session.exec(
        select(Contract, Obligation.period_id)
        .join(Obligation, col(Obligation.contract_id) == Contract.id)
        .where(col(Contract.commissioner_id) == council, col(Obligation.first_accepted_at) <= clock.now)
        .order_by(col(Contract.name), col(Obligation.due_date).desc())).all()
    critical: list[Line] = []
    red: list[Line] = []
    seen: set[str] = set()
    for contract, period_id in latest:
        if contract.id in seen:
            continue
        seen.add(contract.id)
        period = parse_period(period_id, contract.year_start_month)
        try:
            found = locate(session, contract, period)
            if found.submission is None or found.submission.status != "accepted":
                continue
            assessment = stored_assessment(session, files, settings, found)[0]
        except (ReportError, OSError, ValueError):  # a return that cannot be read again: the others still go
            continue
        rows = sorted((indicator_row(r, assessment.framework) for r in assessment.scorecard.indicators),
                      key=lambda row: natural_key(row.ref))
        about = f"{contract.name}, {period.label}"
        critical += [Line(contract.id, f"{about}: critical failure: {row.critical_text}")
                     for row in rows if row.critical_failure]
        critical += [Line(contract.id, f"{about}: at risk of critical failure: {row.critical_text}")
                     for row in rows if row.at_risk]
        red += [Line(contract.id, f"{about}: {row.ref} {row.name}: {row.comparison}")
                for row in rows if row.status.key == "red" and not row.critical_failure]
    return critical, red


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
