"""What a plan's move tells, and to whom: the row's `tell` (bot/plans/table.py), queued in the same transaction.

Each person is told once per event, on their channel (bot/outbox/addressing.py), from templates/messages/<name>.*
with values ready to print (a `PlanStory`); the person who acted is answered directly instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from bot import config
from bot.authz.policy import COMMISSIONER, PROVIDER, people_by_part
from bot.outbox.addressing import channel_of
from bot.reports.templating import render_text  # no WeasyPrint: text needs none
from bot.storage.models import Contact, Contract, OutboxMessage
from bot.storage.plan_models import PlanEvent

EMAIL_HEADERS = {"Auto-Submitted": "auto-generated"}  # RFC 3834: kpibot wrote it, nobody typed it


@dataclass(frozen=True)
class ActionLine:
    number: int
    what: str
    how: str
    who: str
    due: str  # `31 March 2026`


@dataclass(frozen=True)
class PlanStory:
    """What a plan message says, every value ready to print."""

    number: int  # the plan's number, as people name it
    contract_name: str
    provider_name: str
    ref: str
    title: str
    target: str
    performance: str
    off_target: str
    period_label: str
    respond_by: str  # `Wednesday 15 October 2025`
    who: str = ""  # who acted
    when: str = ""  # `6 October 2025 at 10:30`
    reason: str = ""
    actions: tuple[ActionLine, ...] = ()
    comment: str = ""  # the council's comment, or the note it closed the plan with
    recovered: bool = False  # closed because the indicator is back on target


@dataclass
class People:
    """The provider's and the council's people for a contract, each told at most once per event."""

    provider: list[Contact]
    council: list[Contact]
    exclude: int | None = None
    seen: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, session: Session, contract: Contract, exclude: int | None) -> "People":
        people = people_by_part(session, contract)
        return cls(people[PROVIDER], people[COMMISSIONER], exclude)

    def take(self, audience: str) -> list[Contact]:
        found = [c for c in (self.provider if audience == "provider" else self.council)
                 if c.id not in self.seen and c.id != self.exclude]
        self.seen.update(c.id or 0 for c in found)
        return found


@dataclass(frozen=True)
class AfterReturn:
    """What one accepted return did to a contract's plans, told in one message per person (never one per plan)."""

    contract_name: str
    provider_name: str
    period_label: str
    opened: tuple[PlanStory, ...] = ()
    again: tuple[PlanStory, ...] = ()
    recovered: tuple[PlanStory, ...] = ()


def render(name: str, channel: str, **context: object) -> tuple[str, str]:
    """(subject, text) of message `name` on `channel` (Telegram has no subject)."""
    if channel == "telegram":
        return "", render_text(f"messages/{name}.telegram.txt", for_print=False, **context).strip()
    subject = " ".join(render_text(f"messages/{name}.email-subject.txt", for_print=False, **context).split())
    return subject, render_text(f"messages/{name}.email.txt", for_print=False, **context).strip() + "\n"


def queue(session: Session, settings: config.Settings, people: list[Contact], template: str, key: str,
          at: datetime, attach: tuple[str, str] | None = None, **context: object) -> list[Contact]:
    """Queue message `template` to each of `people` on their channel, keyed `key:c<contact>:<channel>`, with the
    stored file `attach` (sha256, name) when given."""
    telegram = bool(settings.telegram_token)
    told: list[Contact] = []
    for contact in people:
        where = channel_of(contact, telegram)
        if where is None:
            continue
        channel, address = where
        subject, text = render(template, channel, **context)
        session.add(OutboxMessage(dedupe_key=f"{key}:c{contact.id}:{channel}", created_at=at, contact_id=contact.id,
                                  channel=channel, address=address, kind="plan", subject=subject[:300],
                                  body_text=text, next_attempt_at=at,
                                  attachment_sha256=attach[0] if attach else None,
                                  attachment_name=attach[1] if attach else None,
                                  headers=dict(EMAIL_HEADERS) if channel == "email" else {}))
        told.append(contact)
    return told


def tell(session: Session, settings: config.Settings, tells: tuple[tuple[str, str], ...], event: PlanEvent,
         story: PlanStory, people: People) -> list[Contact]:
    """Queue each (template, audience) of a row for `event`; return who was told."""
    told: list[Contact] = []
    for template, audience in tells:
        told += queue(session, settings, people.take(audience), template, f"plan:e{event.id}", event.at, p=story)
    return told
