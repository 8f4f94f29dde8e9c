"""Work out which contract and period a received file is for, or what to ask the sender.

In order: what the sender said explicitly (command line), the workbook's cover sheet, the caption or subject,
the sender's only contract, and for the period the only return still open; otherwise ask.
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from bot.storage.models import Contact, Contract, Obligation
from bot.storage.queries import contracts_for
from bot.storage.sync import ensure_obligations
from bot.submission_kpis import local_date
from kpi_core.calendar import Period, PeriodError, parse_period
from kpi_core.findings import Finding

if TYPE_CHECKING:
    from bot.intake import Received

_PERIOD_IN_TEXT = re.compile(r"\b(?:\d{4}\s*[-/]\s*\d{2,4}\s*[-\s_]?\s*[QqMm]\d{1,2}|[QqMm]\d{1,2}\s*[-\s_]?\s*\d{4}"
                             r"(?:\s*[-/]\s*\d{2,4})?|\d{4}\s*[-/]\s*\d{2,4})\b")


class Held(Exception):
    """Processing cannot go on without more from the sender (e.g. which period); not a failure."""


class Rejected(Exception):
    """The submission is refused before it can be scored; the findings say why."""

    def __init__(self, *findings: Finding) -> None:
        super().__init__("; ".join(f.message for f in findings))
        self.findings = findings


def identify(session: Session, contact: Contact, received: Received, cover: dict[str, str],
         zone: str) -> tuple[Contract, Period]:
    allowed = contracts_for(session, contact)
    if not allowed:
        raise Rejected(Finding("error", "no_contracts", f"{contact.email} is not registered to submit returns "
                               "for any contract", fix="Ask the commissioning team to add you to the contract."))
    contract_id = received.contract_id or cover.get("contract")
    if contract_id is None:
        words = set(re.findall(r"[a-z0-9][a-z0-9\-_]*", received.caption.lower()))
        named = [c for c in allowed if c.id in words]
        if len(named) == 1:
            contract_id = named[0].id
        elif len(allowed) == 1:
            contract_id = allowed[0].id
        else:
            raise Held("Which contract is this return for? Send it again with the contract in the "
                       f"{'caption' if received.channel == 'telegram' else 'subject'}: "
                       + ", ".join(c.id for c in allowed))
    contract = next((c for c in allowed if c.id == contract_id), None)
    if contract is None:
        exists = session.get(Contract, contract_id) is not None
        raise Rejected(Finding("error", "not_your_contract" if exists else "unknown_contract",
                               f"{contact.email} may not submit returns for {contract_id!r}" if exists else
                               f"there is no contract {contract_id!r}",
                               fix="Your contracts: " + ", ".join(c.id for c in allowed) + "."))
    period_text = received.period_id or cover.get("period")
    if period_text is None:
        match = _PERIOD_IN_TEXT.search(received.caption)
        period_text = match.group(0) if match else None
    if period_text is None:
        period_text = single_open_period(session, contract, local_date(received.received_at, zone))
    try:
        period = parse_period(period_text, contract.year_start_month)
    except PeriodError as exc:
        raise Rejected(Finding("error", "bad_period", str(exc))) from None
    return contract, period

def single_open_period(session: Session, contract: Contract, today: date) -> str:
    ensure_obligations(session, contract, today)
    open_ = session.exec(select(Obligation).where(
        Obligation.contract_id == contract.id, Obligation.period_end < today,
        Obligation.first_accepted_at == None)  # noqa: E711
        .order_by(Obligation.due_date)).all()  # type: ignore[arg-type]
    if len(open_) == 1:
        return open_[0].period_id
    if not open_:
        raise Held(f"Which period is this return for? {contract.name} has no return outstanding; write the "
                   "period (e.g. 2025-26-Q1) in the caption or subject.")
    raise Held(f"Which period is this return for? {contract.name} has {len(open_)} returns outstanding: "
               + ", ".join(o.period_id for o in open_[:8]) + ". Send it again with the period in the "
               "caption or subject (e.g. 2025-26-Q1).")
