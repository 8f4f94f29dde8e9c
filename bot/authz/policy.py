"""Who may see and do what: the one place every command and channel asks.

- A provider's contacts (submitter, manager) see and submit returns for their own organisation's contracts only,
  narrowed to some of them when the configuration lists `contracts` for the contact. Nothing of another provider's
  contract is ever shown to them or even named to them.
- A commissioner sees every contract their council commissions, and may submit a return on the provider's behalf
  (a provider often emails the workbook to the commissioner): such a version is recorded as submitted by the
  commissioner for the provider, in the version, the audit log, the reply and the report.
- The operator runs `kpibot` on the server and sees everything; commands that act for a person say `--as EMAIL`.
- Review (bot/review): the council that commissions a contract reviews its returns: its commissioners sign off,
  query, record spot checks and confirm the year's payments. The provider's submitters and managers answer the
  council's queries (by an explanation or a corrected version). Which of these acts each may take in each state
  is the review's table of transitions (bot/review/table.py); the part a person plays in it is `review_role`.
  A commissioner of another council, or a provider's contact narrowed to other contracts, plays no part.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.storage.models import Contact, ContactContract, Contract

PROVIDER_ROLES = ("provider_submitter", "provider_manager")
COMMISSIONER, PROVIDER = "commissioner", "provider"  # the parts people play in a review


def is_commissioner(contact: Contact) -> bool:
    return contact.role == "commissioner"


def visible_contracts(session: Session, contact: Contact) -> list[Contract]:
    """The contracts `contact` may see and submit returns for, by id."""
    if not contact.active:
        return []
    column = Contract.commissioner_id if is_commissioner(contact) else Contract.provider_id
    # Narrowed to the contact's scope when the configuration gives one: one statement either way.
    scope = select(ContactContract.contract_id).where(ContactContract.contact_id == contact.id)
    return list(session.exec(select(Contract).where(
        column == contact.organisation_id, sa.or_(~scope.exists(), col(Contract.id).in_(scope)))
        .order_by(Contract.id)))


def may_see(session: Session, contact: Contact, contract_id: str) -> bool:
    return any(c.id == contract_id for c in visible_contracts(session, contact))


# What each role may do in the web workspace (bot/web): every route asks `allowed` and nothing else. A contract's
# pages need `may_see` as well, so another provider's contract, and one that does not exist, are refused alike.
WEB_ACTIONS: dict[str, tuple[str, ...]] = {
    "overview": ("commissioner",),  # the grid of every contract, and its CSV
    "see_contract": ("commissioner", *PROVIDER_ROLES),  # a contract's page, its returns, their PDFs and history
    "submit": ("commissioner", *PROVIDER_ROLES),  # upload a return (a commissioner: on the provider's behalf)
    "review": ("commissioner",),  # sign off, query, confirm the year's payment
    "answer": PROVIDER_ROLES,  # answer the council's query
    "feed": ("commissioner",),  # the council's CSV feed of scored results
}


def allowed(session: Session, contact: Contact | None, action: str, contract_id: str | None = None) -> bool:
    """May `contact` take `action` (one of WEB_ACTIONS), on `contract_id` when it names one?"""
    if contact is None or not contact.active or contact.role not in WEB_ACTIONS[action]:
        return False
    return contract_id is None or may_see(session, contact, contract_id)


def review_role(session: Session, contact: Contact, contract_id: str) -> str | None:
    """The part `contact` plays in the review of `contract_id`'s returns: the council reviewing it
    (`commissioner`), the provider answering for it (`provider`), or None when they may not see the contract."""
    if not may_see(session, contact, contract_id):
        return None
    if is_commissioner(contact):
        return COMMISSIONER
    return PROVIDER if contact.role in PROVIDER_ROLES else None


def people_for(session: Session, contract: Contract, part: str) -> list[Contact]:
    """The active contacts who play `part` in the review of `contract` (each may see it), by id."""
    return people_by_part(session, contract, (part,))[part]


def people_by_part(session: Session, contract: Contract,
                   parts: tuple[str, ...] = (COMMISSIONER, PROVIDER)) -> dict[str, list[Contact]]:
    """`people_for` each of `parts`, read together in one statement."""
    wanted = {part: ((contract.commissioner_id, ("commissioner",)) if part == COMMISSIONER
                     else (contract.provider_id, PROVIDER_ROLES)) for part in parts}
    # Each sees the contract through their organisation (`visible_contracts`), unless their scope leaves it out:
    # the scopes are asked within the same statement.
    links = select(ContactContract.contract_id).where(ContactContract.contact_id == Contact.id)
    contacts = list(session.exec(select(Contact).where(
        col(Contact.organisation_id).in_({organisation for organisation, _ in wanted.values()}),
        Contact.active == True,  # noqa: E712
        sa.or_(~links.exists(), sa.literal(contract.id).in_(links))).order_by(col(Contact.id))))
    return {part: [c for c in contacts if c.organisation_id == organisation and c.role in roles]
            for part, (organisation, roles) in wanted.items()}


def commissions(session: Session, contact: Contact, contract_id: str) -> bool:
    """Is `contact` a commissioner of the council that commissions `contract_id` (and may see it)? Only they
    receive the quarterly meeting pack and record the meeting's notes (bot/plans/meetings.py)."""
    return review_role(session, contact, contract_id) == COMMISSIONER
