"""Who is told, and on which channel, read for many contracts at once.

The roles follow bot/authz.py: a provider's contacts hear only about their organisation's contracts (narrowed to
some when the configuration lists them), a commissioner about the contracts their council commissions.

Channel: the one rule of bot/outbox/addressing.py (Telegram when linked, else email); a contact with neither is
skipped (and logged): nothing is queued into a void.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.outbox.addressing import channel_of
from bot.storage.models import Contact, ContactContract

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recipient:
    contact_id: int
    name: str
    role: str
    channel: str  # email | telegram
    address: str  # an email address, or a Telegram chat id

    @property
    def email(self) -> bool:
        return self.channel == "email"


class Directory:
    """The active contacts of some organisations, with the contracts each may hear about."""

    def __init__(self, session: Session, organisations: Iterable[str], telegram: bool) -> None:
        orgs = sorted(set(organisations))
        self.by_org: dict[str, list[Contact]] = {}
        self.scope: dict[int, set[str]] = {}
        self.telegram = telegram
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

    def visible(self, contact_id: int) -> set[str] | None:
        """The contracts a contact is limited to, or None for every contract of their organisation."""
        return self.scope.get(contact_id)

    def people(self, organisation: str, contract_id: str, roles: Iterable[str]) -> list[Recipient]:
        """The contacts of `organisation` in `roles` who may hear about `contract_id`, each on their channel."""
        wanted = set(roles)
        return self._reachable(c for c in self.by_org.get(organisation, []) if c.role in wanted
                               and contract_id in self.scope.get(c.id or 0, {contract_id}))

    def everyone(self, organisation: str, role: str) -> list[Recipient]:
        """Every contact of `organisation` in `role`, whatever contracts they are limited to (see `visible`)."""
        return self._reachable(c for c in self.by_org.get(organisation, []) if c.role == role)

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
        """Whom a reminder goes to: the provider's submitters, else (a provider without one) its managers."""
        return (self.people(organisation, contract_id, ["provider_submitter"])
                or self.people(organisation, contract_id, ["provider_manager"]))
