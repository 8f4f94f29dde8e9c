"""What an operator names on the command line (`kpibot submit FILE --as EMAIL --contract ID --period P`), checked
before anything is stored.

A contract or period that does not exist, or a sender who is no one's contact, is the operator's typing mistake,
not the provider's: it is answered on the command line and nothing is recorded or sent, so no provider is told
their return was refused. The rules are the intake's own (authz for the sender's contracts, the contract's
calendar, `owed_return`), read in a transaction that is rolled back.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from bot import config
from bot.assessment.in_context import terms_of
from bot.authz.policy import visible_contracts
from bot.intake.resolve import Rejected, owed_return
from bot.storage.models import Contact, Contract
from bot.storage.sync import ensure_obligations
from kpi_core.calendar import PeriodError, parse_period


def operator_mistake(session: Session, settings: config.Settings, sender: str, contract_id: str | None,
                     period_id: str | None, today: date) -> str | None:
    """Why the sender, contract or period named on the command line cannot be a return, in one line; None when
    they can. The caller rolls `session` back (the obligations of periods begun by `today` are brought up to date
    in it, as the intake would, so a period just begun is not refused)."""
    contact = session.exec(select(Contact).where(Contact.email == sender.strip().lower(),
                                                 Contact.active == True)).first()  # noqa: E712
    if contact is None:
        return (f"--as {sender}: no contact in config.toml has this address (add them and run `kpibot init`, or "
                "check the spelling)")
    mine = visible_contracts(session, contact)
    if contract_id is not None:
        contract = session.get(Contract, contract_id)
        if contract is None:
            known = ", ".join(session.exec(select(Contract.id).order_by(Contract.id)).all()) or "none"
            return f"--contract {contract_id}: there is no such contract (configured: {known})"
        if contract.id not in {c.id for c in mine}:
            return (f"--contract {contract_id}: {contact.email} does not submit returns for it (theirs: "
                    f"{', '.join(c.id for c in mine) or 'none'})")
        mine = [contract]
    if period_id is None:
        return None
    if len(mine) != 1:  # the intake works out the contract from the file; the period must read in one of them
        problems = []
        for month in sorted({c.year_start_month for c in mine}):
            try:
                parse_period(period_id, month)
                return None
            except PeriodError as exc:
                problems.append(str(exc))
        return f"--period {period_id}: {problems[0]}" if problems else None
    contract = mine[0]
    try:
        period = parse_period(period_id, contract.year_start_month)
    except PeriodError as exc:
        return f"--period {period_id}: {exc}"
    ensure_obligations(session, contract, today, terms_of(settings, contract).returns)
    try:
        owed_return(session, contract, period, today)
    except Rejected as rejected:
        finding = rejected.findings[0]
        fix = f"; {finding.fix[0].lower()}{finding.fix[1:]}" if finding.code == "no_obligation" else ""
        return f"--period {period_id}: {finding.message}{fix}"
    return None
