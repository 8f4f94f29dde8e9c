"""What every review move needs to know about its return, read once: the review, its contract, period and
framework, the provider's name, the people who play each part, and the words a message names it by."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session, col, select

from bot import config
from bot.assessment.in_context import framework_for, organisation_name, terms_of
from bot.authz.policy import COMMISSIONER, PROVIDER, people_by_part, review_role
from bot.review import table as t
from bot.review.messages import Audiences, Story
from bot.storage.models import Contact, Contract, Obligation, Submission
from bot.storage.review_models import Review, ReviewQuery
from kpi_core.calendar import Period, parse_period
from kpi_core.framework.model import Framework


class Refused(Exception):
    """The act cannot be done: `text` says why and what to do instead; nothing was changed."""

    def __init__(self, text: str, code: str = "refused") -> None:
        super().__init__(text)
        self.text, self.code = text, code


@dataclass(frozen=True)
class Act:
    """Who acts, through which channel, and when. `key` names the channel message that asked (an email's
    Message-ID, a chat message): the same message twice is one act."""

    contact_id: int
    channel: str  # cli | telegram | email | web
    at: datetime
    key: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What was done, and what the person who did it is told (the channel says it to them)."""

    action: str
    state: str
    text: str
    review_id: int | None = None
    query_id: int | None = None
    replayed: bool = False  # the same channel message was handled before: this is its outcome


@dataclass
class Scene:
    review: Review
    contract: Contract
    obligation: Obligation
    period: Period
    framework: Framework
    provider_name: str
    return_label: str

    def story(self, **values: object) -> Story:
        base = Story(self.contract.name, self.provider_name, self.return_label, self.period.label,
                     self.review.version)
        return replace(base, **values)  # type: ignore[arg-type]

    @property
    def what(self) -> str:
        """`City and Hackney Stop Smoking Service, Q2 2025-26 (July 2025 to September 2025), version 1`."""
        return f"{self.contract.name}, {self.period.label}, version {self.review.version}"


def scene_of(session: Session, settings: config.Settings, review: Review) -> Scene:
    contract = session.get(Contract, review.contract_id)
    obligation = session.get(Obligation, review.obligation_id)
    assert contract is not None and obligation is not None
    period = parse_period(review.period_id, contract.year_start_month)
    returns = terms_of(settings, contract, period).returns
    label = returns[obligation.return_type].label if obligation.return_type in returns else obligation.return_type
    return Scene(review, contract, obligation, period, framework_for(contract, period),
                 organisation_name(session, settings, contract.provider_id), label)


def actor(session: Session, act: Act) -> Contact:
    contact = session.get(Contact, act.contact_id)
    if contact is None or not contact.active:
        raise Refused("You are not registered with kpibot (or no longer are): ask the council's kpibot "
                      "administrator.", "unknown")
    return contact


def part_of(session: Session, contact: Contact, contract: Contract) -> str | None:
    """The part `contact` plays in the review of `contract` (bot/authz/policy.py)."""
    return review_role(session, contact, contract.id)


def audiences(session: Session, contract: Contract, exclude: int | None, asker: int | None = None,
              signer: int | None = None) -> Audiences:
    """Who each audience of the tables means for a return (or a year's payment) of `contract`."""
    people = people_by_part(session, contract)
    council = people[COMMISSIONER]
    found: dict[str, list[Contact]] = {
        t.PROVIDER: people[PROVIDER],
        t.REVIEWERS: council,
        t.COUNCIL: council,
        t.ASKER: [c for c in council if c.id == asker],
        t.SIGNER: [c for c in council if c.id == signer],
    }
    return Audiences(found, exclude)


def open_query(session: Session, review_id: int | None) -> ReviewQuery | None:
    """The review's query still waiting: asked and not answered, or answered and not yet settled."""
    return session.exec(select(ReviewQuery).where(ReviewQuery.review_id == review_id,
                                                  col(ReviewQuery.state).in_(("open", "answered")))
                        .order_by(col(ReviewQuery.id).desc())).first()


def version_of(session: Session, submission_id: int) -> int | None:
    submission = session.get(Submission, submission_id)
    return submission.version if submission else None
