"""Work out which contract and period a received file is for, or what to ask the sender.

In order: what the sender said explicitly (command line, or their answer to a question), the workbook's cover
sheet, the caption or subject, the sender's only contract, and for the period the only return still open;
otherwise ask. A workbook whose cover names another contract or period than the sender gave is refused as what it
is, before it is counted against any return. Nothing tells a sender whether a contract other than theirs exists:
a caption word is matched against their own contracts only. Reads only: the intake creates obligations beforehand.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from bot.assessment.in_context import framework_for
from bot.assessment.submission_kpis import local_date
from bot.authz.policy import visible_contracts
from bot.storage.models import Contact, Contract, Obligation
from bot.storage.queries import obligation_for
from kpi_core.assess import ReturnTypeError, return_type_for
from kpi_core.calendar import Period, PeriodError, parse_period
from kpi_core.findings import Finding

if TYPE_CHECKING:
    from bot.intake.received import Received

_PERIOD_IN_TEXT = re.compile(r"\b(?:\d{4}\s*[-/]\s*\d{2,4}\s*[-\s_]?\s*[QqMm]\d{1,2}|[QqMm]\d{1,2}\s*[-\s_]?\s*\d{4}"
                             r"(?:\s*[-/]\s*\d{2,4})?|\d{4}\s*[-/]\s*\d{2,4})\b")


# The web's upload form names the return in a list, where chat and email name it in the caption or subject.
WEB_AGAIN = "Upload it again and choose the return it is for in the form's list of returns."


class Held(Exception):
    """Processing cannot go on without more from the sender (e.g. which period); not a failure. `contract_id` is
    the contract when it is known (the question is then which period), None when the question is which contract."""

    def __init__(self, question: str, contract_id: str | None = None) -> None:
        super().__init__(question)
        self.contract_id = contract_id


class Rejected(Exception):
    """The submission is refused before it can be scored; the findings say why."""

    def __init__(self, *findings: Finding) -> None:
        super().__init__("; ".join(f.message for f in findings))
        self.findings = findings


def identify(session: Session, contact: Contact, received: Received, cover: dict[str, str],
             zone: str, allowed: list[Contract] | None = None) -> tuple[Contract, Period]:
    """The contract and period `received` is for; raises Held (ask the sender) or Rejected (refuse the file).
    `allowed` is the contracts `contact` may see when the caller has just read them (else read here)."""
    if allowed is None:
        allowed = visible_contracts(session, contact)
    if not allowed:
        raise Rejected(Finding("error", "no_contracts", f"{contact.email} is not registered to submit returns "
                               "for any contract", fix="Ask the commissioning team to add you to the contract."))
    mismatch(received, cover, {c.id: c.name for c in allowed})
    contract_id = received.contract_id or cover.get("contract")
    if contract_id is None:
        # Only the sender's own contracts are looked for in the caption: a word naming someone else's contract
        # reads as any other word, so the answer never tells whether such a contract exists.
        named = named_in(received.caption, allowed)
        if len(named) == 1:
            contract_id = named[0].id
        elif len(allowed) == 1:
            contract_id = allowed[0].id
        else:
            raise Held("Which contract is this return for? " + ask_contract(received.channel, allowed))
    contract = next((c for c in allowed if c.id == contract_id), None)
    if contract is None:  # the same answer whether or not it exists: nothing is told of others' contracts
        raise Rejected(Finding("error", "not_your_contract", f"{contract_id!r} is not one of your contracts",
                               fix="Send it for one of your contracts: " + _names(allowed)))
    period_text = received.period_id or cover.get("period")
    if period_text is None:
        match = _PERIOD_IN_TEXT.search(received.caption)
        period_text = match.group(0) if match else None
    if period_text is None:
        period_text = single_open_period(session, contract, local_date(received.received_at, zone), received.channel)
    try:
        period = parse_period(period_text, contract.year_start_month)
    except PeriodError as exc:
        raise Rejected(Finding("error", "bad_period", str(exc))) from None
    said = cover.get("period")
    if said and received.period_id:
        try:
            on_cover = parse_period(said, contract.year_start_month)
        except PeriodError:
            on_cover = None  # assessment reports the unreadable cover at its cell
        if on_cover is not None and on_cover != period:
            raise Rejected(Finding("error", "period_mismatch", f"{received.filename} is the workbook for "
                                   f"{on_cover.label}, not for {period.label}", where="Cover",
                                   fix=f"Send the workbook made for {period.id}, or send this one as the "
                                       f"{on_cover.id} return."))
    return contract, period


def named_in(caption: str, contracts: list[Contract]) -> list[Contract]:
    """The contracts a caption or subject names, by their name (as a person writes it) or their reference."""
    text = " ".join(caption.lower().split())
    words = set(re.findall(r"[a-z0-9][a-z0-9\-_]*", text))
    name = {c.id: " ".join(c.name.lower().split()) for c in contracts}
    named = [c for c in contracts if c.id in words or name[c.id] in text]
    # "Stop Smoking Service Plus" names that contract, not also "Stop Smoking Service" within it
    return [c for c in named if c.id in words or not any(
        name[c.id] != name[o.id] and name[c.id] in name[o.id] for o in named)]


def ask_contract(channel: str, contracts: list[Contract]) -> str:
    """How to say which contract a return is for, by the names a person knows (the reply reaches the provider
    whichever channel brought the file; `kpibot submit` tells its operator the references apart)."""
    if channel == "web":
        return WEB_AGAIN
    if channel == "cli":
        return "It is one of: " + _names(contracts)
    return f"Send it again with the contract's name in the {'caption' if channel == 'telegram' else 'subject'}: " \
        + _names(contracts)


def _names(contracts: list[Contract]) -> str:
    """`A.`, `A or B.`, `A, B or C.`: contracts by the names a person knows them by."""
    names = [c.name for c in contracts]
    return (", ".join(names[:-1]) + " or " if len(names) > 1 else "") + names[-1] + "."


def mismatch(received: Received, cover: dict[str, str], names: dict[str, str]) -> None:
    """Refuse a workbook sent as another contract's return than its cover says it is."""
    said, given = cover.get("contract"), received.contract_id
    if said and given and said != given:
        what = f"the {names[said]} ({said}) workbook" if said in names else f"a workbook for contract {said!r}"
        raise Rejected(Finding("error", "contract_mismatch", f"{received.filename} is {what}, not a return for "
                               f"{given!r}", where="Cover", fix=f"Send the return workbook made for {given}, or "
                               f"send this one as the return for {said} without naming another contract."))


def single_open_period(session: Session, contract: Contract, today: date, channel: str = "") -> str:
    open_ = session.exec(select(Obligation).where(
        Obligation.contract_id == contract.id, Obligation.period_end < today,
        Obligation.first_accepted_at == None)  # noqa: E711
        .order_by(col(Obligation.due_date))).all()
    if len(open_) == 1:
        return open_[0].period_id
    if not open_:
        raise Held(f"Which period is this return for? {contract.name} has no return outstanding; " + (
            WEB_AGAIN[0].lower() + WEB_AGAIN[1:] if channel == "web"
            else "write the period (e.g. 2025-26-Q1) in the caption or subject."), contract.id)
    raise Held(f"Which period is this return for? {contract.name} has {len(open_)} returns outstanding: "
               + ", ".join(o.period_id for o in open_[:8]) + ". " + (
                   WEB_AGAIN if channel == "web"
                   else "Send it again with the period in the caption or subject (e.g. 2025-26-Q1)."), contract.id)


def owed_return(session: Session, contract: Contract, period: Period, today: date) -> Obligation:
    """The return `contract` owes for `period`, or Rejected saying why there is none: the framework has no such
    return, the period has not begun (no obligation is ever made for it), or the contract does not cover it."""
    return_type = return_type_owed(contract, period, today)
    obligation = obligation_for(session, contract.id, return_type, period.id)
    if obligation is None:
        raise no_obligation(contract, return_type, period)
    return obligation


def return_type_owed(contract: Contract, period: Period, today: date) -> str:
    """The type of the return `contract` owes for `period`, or Rejected: the framework has no such return, or the
    period has not begun (no obligation is ever made for it)."""
    try:
        return_type = return_type_for(framework_for(contract, period), period)
    except ReturnTypeError as exc:
        raise Rejected(Finding("error", "no_such_return", str(exc))) from None
    if period.start > today:
        raise Rejected(Finding("error", "future_period", f"{period.label} has not started yet (today is "
                               f"{today:%d %B %Y})", fix="Check the period on the cover sheet or in your message."))
    return return_type


def no_obligation(contract: Contract, return_type: str, period: Period) -> Rejected:
    """The contract does not cover the period: it owes no such return."""
    return Rejected(Finding("error", "no_obligation", f"{contract.name} owes no {return_type} return for "
                            f"{period.label}", fix=f"The contract runs from {contract.start:%d %B %Y}"
                            + (f" to {contract.end:%d %B %Y}" if contract.end else "") + "; check the period."))
