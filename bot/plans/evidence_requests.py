"""The annual return's evidence as documents: each becomes a request for information the provider answers with it.

A framework marks the data items whose evidence is a document (`document = "Insurance certificate"`, seed 003's
annual monitoring return: the insurance certificate, the workforce development plan, the policies). When a return
of a type that holds such items comes within `[plans] evidence_lead_days` of its due date, or arrives earlier, kpibot
asks the provider for each document as a request (bot/plans/requests.py: the same reminders, overdue notices,
answers by any channel and timeliness KPI), due with the return. One request per contract, item and year (a partial
unique index), however many times this runs. Nothing is asked for returns that fell due before the day the scheduler
chases from (the deployment's first day, or `[scheduler] chase_from`): a council going live does not chase years of
old certificates.

An item that `expires` (the insurance certificate) is answered with its expiry date (`expires 31 March 2027` in the
caption or subject, `--expires` on the command line); jobs/evidence.py reminds the provider and the council
`[plans] insurance_reminder_days` before it lapses.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, or_, select

from bot import config
from bot.assessment.in_context import framework_for
from bot.assessment.submission_kpis import local_date
from bot.authz.policy import COMMISSIONER, PROVIDER, people_for
from bot.plans.notify import queue
from bot.plans.requests import story_of
from bot.storage.audit import record
from bot.storage.db import retrying, write_session
from bot.storage.models import Contract, Obligation
from bot.storage.plan_models import InfoRequest
from kpi_core.calendar import parse_period
from kpi_core.duedates import add_working_days
from kpi_core.framework.indicators import DataItem

log = logging.getLogger(__name__)
CHANNEL = "schedule"  # asked by the contract's schedule, not by a person's message


def evidence_items(contract: Contract, obligation: Obligation) -> list[DataItem]:
    """The document items of the obligation's return type, in the framework version in force for its period."""
    period = parse_period(obligation.period_id, contract.year_start_month)
    framework = framework_for(contract, period)
    return [i for i in framework.items if i.document and (not i.returns or obligation.return_type in i.returns)]


def open_due(engine: sa.Engine, settings: config.Settings, now: datetime, since: date | None = None) -> list[int]:
    """Ask for the evidence documents of every return due from `since` (the day the scheduler chases returns from;
    None: from today) now within the lead time of its due date (or already received), not asked yet; return the
    new requests' ids. Each return's requests commit together."""
    today = local_date(now, settings.timezone)
    with Session(engine) as session:
        first_day = since or today
        horizon = today + timedelta(days=settings.plans.evidence_lead_days)
        found = session.exec(select(Obligation).where(
            Obligation.due_date >= first_day, Obligation.period_start <= today,
            or_(col(Obligation.due_date) <= horizon, col(Obligation.first_accepted_at).is_not(None)))
            .order_by(col(Obligation.due_date), col(Obligation.id))).all()
        asked = {(r.contract_id, r.item_id, r.period_id) for r in session.exec(
            select(InfoRequest).where(InfoRequest.item_id != ""))}
        todo: list[tuple[int, list[DataItem]]] = []
        for obligation in found:
            contract = session.get(Contract, obligation.contract_id)
            if contract is None or obligation.id is None:
                continue
            items = [i for i in evidence_items(contract, obligation)
                     if (contract.id, i.id, obligation.period_id) not in asked]
            if items:
                todo.append((obligation.id, items))
    made: list[int] = []
    for obligation_id, items in todo:
        made += retrying(lambda: _ask(engine, settings, obligation_id, items, now, today))  # noqa: B023
    return made


def _ask(engine: sa.Engine, settings: config.Settings, obligation_id: int, items: list[DataItem], now: datetime,
         today: date) -> list[int]:
    with write_session(engine) as session:
        obligation = session.get(Obligation, obligation_id)
        assert obligation is not None
        contract = session.get(Contract, obligation.contract_id)
        assert contract is not None
        council = people_for(session, contract, COMMISSIONER)
        if not council:
            log.warning("contract %s has no commissioner to ask for its evidence documents", contract.id)
            return []
        period = parse_period(obligation.period_id, contract.year_start_month)
        due = obligation.due_date if obligation.due_date > today else \
            add_working_days(today, settings.plans.response_working_days)
        made = []
        for item in items:
            detail = f"The evidence for the {period.label} {obligation.return_type} return, as the contract asks."
            if item.expires:
                detail += " Give its expiry date with it (for example \"expires 31 March 2027\")."
            request = InfoRequest(contract_id=contract.id, what=item.document, detail=detail, due=due,
                                  asked_by=council[0].id or 0, asked_at=now, channel=CHANNEL, item_id=item.id,
                                  period_id=obligation.period_id)
            try:
                with session.begin_nested():
                    session.add(request)
            except sa.exc.IntegrityError:  # asked a moment ago by another process
                continue
            story = story_of(session, settings, request, who="The council")
            told = queue(session, settings, people_for(session, contract, PROVIDER), "request_asked",
                         f"request:{request.id}:asked", now, r=story)
            record(session, now, "", "request_asked", f"info_request:{request.id}",
                   {"contract": contract.id, "item": item.id, "period": obligation.period_id, "due": due.isoformat(),
                    "channel": CHANNEL, "told": len(told)})
            made.append(request.id or 0)
        session.commit()
        return made
