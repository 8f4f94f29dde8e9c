"""Evidence documents asked for as the contract's schedule says, and insurance certificates reminded before they lapse.

`open_evidence` runs as a scheduled task: it asks for the evidence documents of returns coming due (or received), as
requests for information (bot/plans/evidence_requests.py). `expiry_decisions` is part of the notices sweep: an
answered request whose document expires (the insurance certificate) is reminded to the provider and the council
`[plans] insurance_reminder_days` before its expiry date, once (keyed by request and date). An expiry already past
when the sweep first sees it is not announced: the reminder is for a lapse still to come.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.plans.evidence_requests import open_due
from bot.plans.requests import story_of
from bot.plans.scene import long_day
from bot.storage.models import Contract
from bot.storage.plan_models import InfoRequest
from jobs.chase import chase_from
from jobs.messages import render, when_text
from jobs.owed import Describer
from jobs.queueing import Decision, Outgoing
from jobs.recipients import Directory
from jobs.timing import Clock

PROVIDER = ("provider_submitter", "provider_manager")
COUNCIL = ("commissioner",)
KIND = "insurance_expiry"
Build = Callable[[Session, Directory, Describer], None]
Planned = tuple[Decision, Build]


def open_evidence(engine: sa.Engine, settings: config.Settings, now: datetime) -> int:
    """Ask for the evidence documents now due to be asked for (of returns due from the day the scheduler chases
    from); how many requests were made."""
    with Session(engine) as session:
        since = chase_from(session, settings).day
    return len(open_due(engine, settings, now, since))


def expiry_decisions(session: Session, settings: config.Settings,
                     clock: Clock) -> list[tuple[str, Callable[[], Planned]]]:
    """A reminder for each document on record that expires within `[plans] insurance_reminder_days`."""
    days = settings.plans.insurance_reminder_days
    found: list[tuple[str, Callable[[], Planned]]] = []
    for request in session.exec(select(InfoRequest).where(col(InfoRequest.expires).is_not(None),
                                                          InfoRequest.state == "answered")):
        expires = request.expires
        assert expires is not None
        if 0 <= (expires - clock.today).days <= days:
            key = f"insurance-expiry:q{request.id}:{expires.isoformat()}"
            found.append((key, partial(_notice, session, settings, key, request,
                                       when=when_text((expires - clock.today).days), expires=long_day(expires))))
    return found


def _notice(session: Session, settings: config.Settings, key: str, request: InfoRequest, **words: object) -> Planned:
    contract = session.get(Contract, request.contract_id)
    assert contract is not None
    decision = Decision(key, KIND, KIND, None, 0, organisations=(contract.provider_id, contract.commissioner_id),
                        why=f"{request.what} of {contract.name} expires {words['expires']}")

    def build(session: Session, directory: Directory, describer: Describer) -> None:
        told = story_of(session, settings, request)
        for org, wanted in ((contract.provider_id, PROVIDER), (contract.commissioner_id, COUNCIL)):
            for person in directory.people(org, contract.id, wanted):
                if person.channel != "teams":  # notices for people: no Teams card is written for them
                    decision.outgoing.append(Outgoing(person, render(
                        KIND, person, r=told, council=org == contract.commissioner_id, **words)))
    return decision, build
