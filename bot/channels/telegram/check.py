"""`/check`: score a file exactly as the intake would, but store nothing (no submission, no file, no reply row).

The steps are the intake's own decisions, called in the intake's order (bot/intake/service.py): refuse what may
hold personal data, refuse what is not a return, work out the contract and period (bot/intake/resolve.py, within what
bot/authz lets the contact see), then assess against the stored history. Only the orchestration is here.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from bot import config
from bot.assessment.in_context import assess_in_context
from bot.channels.telegram.texts import CHECK_PROMPT
from bot.intake import replies
from bot.intake.endings import PERSONAL_DATA
from bot.intake.received import Received, normalised
from bot.intake.resolve import Held, Rejected, identify
from bot.intake.service import Reader
from bot.reports.chat import telegram_text
from bot.reports.context import ReturnMeta, build_return_report
from bot.reports.stored import provider_name
from bot.reports.trends import trends_from_history
from bot.storage.models import Contact
from kpi_core.assess import ReturnTypeError
from kpi_core.findings import Finding

NOTHING_STORED = "nothing was stored and it does not count as your return"


def check(engine: sa.Engine, settings: config.Settings, read: Reader, contact_id: int, received: Received,
          now: datetime) -> str:
    """The chat answer to a dry run of `received` for the contact."""
    received = normalised(received)
    parsed = read(received.data, received.filename)
    personal = [f for f in parsed.findings if f.code == PERSONAL_DATA]
    if personal:
        return _refused(received, personal)
    if parsed.unreadable:
        return _refused(received, list(parsed.findings))
    if parsed.action_plan is not None:  # checked only when it is sent: completing a plan is not a dry run
        return f"{CHECK_PROMPT} {NOTHING_STORED}.\n\nThis is an action-plan workbook, not a return: send it " \
            "without /check and kpibot sends the plan to the council."
    with Session(engine) as session:
        contact = session.get(Contact, contact_id)
        assert contact is not None
        try:
            contract, period = identify(session, contact, received, parsed.cover, settings.timezone)
        except Held as held:
            return f"{CHECK_PROMPT} {held}"
        except Rejected as rejected:
            return _refused(received, list(rejected.findings))
        try:
            assessed = assess_in_context(session, contract, period, parsed, now, settings.timezone)
        except ReturnTypeError as exc:
            return _refused(received, [Finding("error", "no_such_return", str(exc))])
        meta = ReturnMeta(contract.id, contract.name, provider_name(session, contract), source=received.filename)
        report = build_return_report(assessed.assessment, meta,
                                     trends_from_history(assessed.assessment, assessed.history),
                                     generated_at=now, timezone=settings.timezone)
    return f"{CHECK_PROMPT} {NOTHING_STORED}.\n\n{telegram_text(report)}"


def _refused(received: Received, findings: list[Finding]) -> str:
    return f"{CHECK_PROMPT} {NOTHING_STORED}.\n\n{replies.refusal(received.filename, findings)}"
