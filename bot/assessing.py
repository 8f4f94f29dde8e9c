"""Assess a return in the context storage gives it: the year's accepted history and the submission log.

The intake uses this when a file arrives, and reports use it to rebuild a stored submission's assessment from its
raw file, so both judge a return the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from sqlmodel import Session

from bot.storage.models import Contract
from bot.storage.queries import accepted_versions, history_periods, values_of_versions
from bot.submission_kpis import local_date, submission_kpis
from kpi_core import loader
from kpi_core.assess import Assessment, assess, return_type_for
from kpi_core.calendar import Period
from kpi_core.returns.model import ParsedReturn
from kpi_core.values import Key


@dataclass(frozen=True)
class Assessed:
    assessment: Assessment
    history: dict[str, dict[Key, Fraction]]  # the accepted earlier periods it was judged with
    history_versions: dict[str, int]  # which version of each earlier period: period id -> submission id


def assess_in_context(session: Session, contract: Contract, period: Period, parsed: ParsedReturn,
                      received_at: datetime, zone: str, history_versions: dict[str, int] | None = None) -> Assessed:
    """Interpret, validate and score `parsed` as of `received_at`, with stored history and system figures.

    `history_versions` pins the earlier periods' versions (to draw a report exactly as the reply judged it);
    by default the versions in force now are used.
    """
    framework = loader.get(contract.framework_id)
    return_type = return_type_for(framework, period)
    today = local_date(received_at, zone)
    kpis = submission_kpis(session, contract.id, today, zone)
    system_items = {i.id for i in framework.items if i.source == "system"}
    system = {k: v for k, v in kpis.system_values().items() if k[0] in system_items}
    if history_versions is None:
        history_versions = accepted_versions(session, contract.id, return_type, history_periods(period))
    history = values_of_versions(session, history_versions)
    assessment = assess(framework, period, parsed, history=history, contract_value=contract.value, today=today,
                        extra_values=system, expected_contract=contract.id)
    return Assessed(assessment, history, history_versions)
