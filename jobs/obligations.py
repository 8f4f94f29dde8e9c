"""Keep obligations coming: every period that has started has its row, so its reminders can be found.

`kpibot init` creates the obligations up to the day it runs and the intake those of a sender's contracts; a
long-running service must also create each new period's as it starts, for contracts nobody has sent anything for.
One grouped query finds the return types whose latest obligation has ended; only those contracts are brought up to
date (with the same `ensure_obligations` init uses). The sweep does this first, every time.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot import config
from bot.assessment.in_context import terms_of
from bot.storage.db import retrying, write_session
from bot.storage.models import Contract, Obligation
from bot.storage.sync import ensure_obligations


def contracts_behind(session: Session, today: date, settings: config.Settings) -> list[str]:
    """Contracts owing a return (under their terms) for a period that has started and has no obligation yet."""
    latest = {(c, r): end for c, r, end in session.exec(
        select(Obligation.contract_id, Obligation.return_type, func.max(Obligation.period_end))
        .group_by(Obligation.contract_id, Obligation.return_type)).all()}
    behind = []
    for contract in session.exec(select(Contract)).all():
        horizon = min(today, contract.end) if contract.end else today
        if contract.start <= horizon and any(latest.get((contract.id, r), date.min) < horizon
                                             for r in terms_of(settings, contract).returns):
            behind.append(contract.id)
    return behind


_checked: dict[str, date] = {}  # database -> the last day this process brought it up to date


def ensure_current(engine: sa.Engine, today: date, settings: config.Settings) -> int:
    """Create the obligations of every period started by `today`; return how many were created. Periods start at
    midnight, so once a day per process is enough (the check reads every obligation: a fifth of a sweep's time)."""
    url = engine.url.render_as_string(hide_password=True)
    if _checked.get(url) == today:
        return 0

    def work() -> int:
        with Session(engine) as session:
            behind = contracts_behind(session, today, settings)
        if not behind:
            return 0
        with write_session(engine) as session:
            created = 0
            for contract in session.exec(select(Contract).where(col(Contract.id).in_(behind))):
                created += ensure_obligations(session, contract, today, terms_of(settings, contract).returns)
            session.commit()
            return created
    try:
        created = retrying(work)
    except sa.exc.IntegrityError:  # another process created them at the same moment: they are there now
        return 0
    _checked[url] = today
    return created
