"""Who is told, and on which channel, read for many contracts at once.

The roles follow bot/authz.py: a provider's contacts hear only about their organisation's contracts (narrowed to
some when the configuration lists them), a commissioner about the contracts their council commissions.

Channel: the one rule of bot/outbox/addressing.py (Telegram when linked, else email); a contact with neither is
skipped (and logged): nothing is queued into a void.

Microsoft Teams: an organisation's `[[teams]]` channel (its webhook URL set) is told what the organisation's people
are told about the contracts it covers, once per channel however many people that is. It is an address, not a
person: its Recipient has no contact.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.outbox.addressing import channel_of
from bot.settings.teams import TeamsChannel
from bot.storage.models import Contact, ContactContract, Organisation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipient:
    contact_id: int | None  # None for a Teams channel
    name: str
    role: str
    channel: str  # email | telegram | teams
    address: str  # an email address, a Telegram chat id, or a [[teams]] entry's name (never its URL)

    @property
    def email(self) -> bool:
        return self.channel == "email"


class Directory:
    """The active contacts of some organisations, with the contracts each may hear about."""

    def __init__(self, session: Session, organisations: Iterable[str], telegram: bool,
                 teams: Sequence[TeamsChannel] = ()) -> None:
        """`teams`: the Teams channels that can be posted to (bot.settings.teams.reachable)."""
        orgs = sorted(set(organisations))
        self.by_org: dict[str, list[Contact]] = {}
        self.scope: dict[int, set[str]] = {}
        self.telegram = telegram
        self.teams: dict[str, list[TeamsChannel]] = {}
        for entry in teams:
            if entry.organisation in orgs:
                self.teams.setdefault(entry.organisation, []).append(entry)
        self.names = dict(session.exec(select(Organisation.id, Organisation.name).where(
            col(Organisation.id).in_(list(self.teams)))).all()) if self.teams else {}
        for start in range(0, len(orgs), 500):  # bounded IN lists
            chunk = orgs[start:start + 500]
            contacts = session.exec(select(Contact).where(col(Contact.organisation_id).in_(chunk),
                                                          col(Contact.active) == True)  # noqa: E712
                                    .order_by(col(Contact.id))).all()
            for contact in contacts:
                self.by_org.setdefault(contact.organisation_id, []).append(contact)
            ids = [c.id for c in contacts]
            for link in session.exec(select(ContactContract).where(col(ContactContract.contact_id).in_(ids))):
                self.scope.setdefault(link.contact_id, set()).add(link.contract_id)

    def visible(self, who: Recipient | int) -> set[str] | None:
        """The contracts a contact (or a Teams channel) is limited to, or None for every contract of their
        organisation."""
        if isinstance(who, Recipient):
            if who.contact_id is None:
                entry = next((t for ts in self.teams.values() for t in ts if t.name == who.address), None)
                return set(entry.contracts) if entry is not None and entry.contracts else None
            who = who.contact_id
        return self.scope.get(who)

    def people(self, organisation: str, contract_id: str, roles: Iterable[str]) -> list[Recipient]:
        """The contacts of `organisation` in `roles` who may hear about `contract_id`, each on their channel, and
        the organisation's Teams channels covering it (when anyone there is told)."""
        wanted = set(roles)
        found = self._reachable(c for c in self.by_org.get(organisation, []) if c.role in wanted
                                and contract_id in self.scope.get(c.id or 0, {contract_id}))
        return found + self.channels(organisation, contract_id) if wanted else found

    def everyone(self, organisation: str, role: str) -> list[Recipient]:
        """Every contact of `organisation` in `role`, whatever contracts they are limited to (see `visible`), and
        the organisation's Teams channels."""
        return (self._reachable(c for c in self.by_org.get(organisation, []) if c.role == role)
                + self.channels(organisation))

    def channels(self, organisation: str, contract_id: str | None = None) -> list[Recipient]:
        """The organisation's Teams channels (covering `contract_id`, when given): one recipient each."""
        label = f"{self.names.get(organisation, organisation)} in Teams"
        return [Recipient(None, label, "teams", "teams", t.name) for t in self.teams.get(organisation, [])
                if contract_id is None or t.covers(contract_id)]

    def _reachable(self, contacts: Iterable[Contact]) -> list[Recipient]:
        found = []
        for contact in contacts:
            channel = channel_of(contact, self.telegram)
            if channel is None:
                log.warning("contact %s has no working channel (email and Telegram failed for good); not told",
                            contact.email)
                continue
            assert contact.id is not None
            found.append(Recipient(contact.id, contact.name, contact.role, *channel))
        return found

    def submitters(self, organisation: str, contract_id: str) -> list[Recipient]:
        """Whom a reminder goes to: the provider's submitters, else (a provider without one) its managers; and
        the provider's Teams channels."""
        def contacts(role: str) -> list[Recipient]:
            return [p for p in self.people(organisation, contract_id, [role]) if p.contact_id is not None]

        return (contacts("provider_submitter") or contacts("provider_manager")) + self.channels(organisation,
                                                                                                contract_id)
