"""The inline keyboard that resumes a held return: contract, then period, then `Intake.answer`.

Nothing is kept in memory: a button carries the submission, a short tag of the contract (contract ids can be
longer than Telegram's 64-byte `callback_data`) and the period, and every press is checked again against the
database: the submission must be this contact's and still held, the contract one they may see (bot.authz), the
period one the contract owes.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.authz.policy import visible_contracts
from bot.storage.models import Contact, Contract, Obligation, Submission
from kpi_core.calendar import PeriodError, parse_period

MAX_PERIODS = 6
_DATA = re.compile(r"^(c|p):(\d{1,12}):([0-9a-f]{8})(?::([0-9A-Za-z-]{1,16}))?$")


def tag(contract_id: str) -> str:
    return hashlib.sha256(contract_id.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Press:
    """A button pressed: the contract chosen (`c`), or the contract and period (`p`)."""

    step: str
    submission_id: int
    contract_tag: str
    period_id: str | None = None

    @property
    def data(self) -> str:
        return f"{self.step}:{self.submission_id}:{self.contract_tag}" + (f":{self.period_id}" if self.period_id
                                                                          else "")


def parse(data: str | None) -> Press | None:
    match = _DATA.match(data or "")
    if match is None or (match.group(1) == "p") != (match.group(4) is not None):
        return None
    return Press(match.group(1), int(match.group(2)), match.group(3), match.group(4))


@dataclass(frozen=True)
class Question:
    text: str
    markup: InlineKeyboardMarkup


@dataclass(frozen=True)
class Chosen:
    contract_id: str
    contract_name: str
    period_id: str
    period_label: str


def first_question(session: Session, contact: Contact, submission_id: int, today: date) -> Question | None:
    """The contract buttons, or (when the contact has one contract) that contract's period buttons."""
    contracts = visible_contracts(session, contact)
    if not contracts:
        return None
    if len(contracts) == 1:
        return period_question(session, contracts[0], submission_id, today)
    buttons = [[InlineKeyboardButton(c.name[:60], callback_data=Press("c", submission_id, tag(c.id)).data)]
               for c in contracts[:20]]
    return Question("Which contract is it for?", InlineKeyboardMarkup(buttons))


def period_question(session: Session, contract: Contract, submission_id: int, today: date) -> Question | None:
    options = periods(session, contract, today)
    if not options:
        return None
    buttons = [[InlineKeyboardButton(_label(o), callback_data=Press("p", submission_id, tag(contract.id),
                                                                     o.period_id).data)] for o in options]
    return Question(f"{contract.name}: which period is it for?", InlineKeyboardMarkup(buttons))


def periods(session: Session, contract: Contract, today: date) -> list[Obligation]:
    """The periods a return may be for: those ended by `today` (the latest first), then those under way."""
    begun = session.exec(select(Obligation).where(Obligation.contract_id == contract.id,
                                                  col(Obligation.period_start) <= today)).all()
    return sorted(begun, key=lambda o: (o.period_end >= today, -o.due_date.toordinal(), o.return_type))[:MAX_PERIODS]


def _label(obligation: Obligation) -> str:
    state = "received" if obligation.first_accepted_at else "not received"
    return f"{obligation.period_id} {obligation.return_type} · due {obligation.due_date:%d %b %Y} · {state}"


def resolve(session: Session, contact: Contact, press: Press, today: date) -> Question | Chosen | str:
    """What a press means: the next question, the final choice, or (a string) why it no longer applies."""
    submission = session.get(Submission, press.submission_id)
    if submission is None or submission.sender_contact_id != contact.id:
        return "This button is not for a file of yours."
    if submission.status != "held":
        return f"{submission.filename} has already been dealt with; the answer is above."
    contract = next((c for c in visible_contracts(session, contact) if tag(c.id) == press.contract_tag), None)
    if contract is None:
        return "That contract is no longer one of yours; send the file again with the contract in the caption."
    if press.step == "c":
        return period_question(session, contract, press.submission_id, today) or \
            f"{contract.name} owes no return yet; send the file again when a period has begun."
    assert press.period_id is not None
    allowed = {o.period_id for o in periods(session, contract, today)}
    if press.period_id not in allowed:
        return "That period is not open for this contract; send the file again with the period in the caption."
    try:
        label = parse_period(press.period_id, contract.year_start_month).label
    except PeriodError:
        label = press.period_id
    return Chosen(contract.id, contract.name, press.period_id, label)
