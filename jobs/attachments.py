"""The return workbook a reminder attaches: built once per contract, period and content, then reused.

Building a workbook takes tens of milliseconds, and a return gets several reminders, so each one built is kept in
the file store and recorded as a rendered report of kind `template` under a key of everything it shows (framework
version, names, period, the accepted figures of earlier periods it carries for reference). The file is written
before the transaction that records it; a workbook whose notice is not recorded is harmless and found again.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from bot.storage.files import FileStore
from bot.storage.models import RenderedReport, StoredFile
from bot.storage.queries import accepted_versions, values_of_versions
from jobs.owed import Owed
from kpi_core import loader
from kpi_core.calendar import parse_period
from kpi_core.returns import layout


@dataclass(frozen=True)
class Workbook:
    sha256: str
    name: str
    rows: tuple[tuple[type[SQLModel], dict[str, Any]], ...] = ()  # to record with the notice, when built just now


def workbook_for(session: Session, files: FileStore, owed: Owed, provider_name: str, now: datetime) -> Workbook:
    """The template workbook of `owed`, from the store when it was built before with the same content."""
    framework = loader.get(owed.framework_id)
    period = parse_period(owed.period_id, owed.year_start_month)
    versions = accepted_versions(session, owed.contract_id, owed.return_type, period.earlier_in_year())
    key = hashlib.sha256(json.dumps({
        "framework": [framework.id, framework.version], "layout": layout.TEMPLATE_VERSION,
        "contract": [owed.contract_id, owed.contract_name, provider_name], "period": owed.period_id,
        "due": owed.due.isoformat(), "earlier": versions}, sort_keys=True).encode()).hexdigest()
    name = f"{owed.contract_id}-{owed.period_id}.xlsx"
    kept = session.exec(select(RenderedReport.sha256).where(col(RenderedReport.cache_key) == key)).first()
    if kept is not None and files.exists(kept):
        return Workbook(kept, name)
    earlier = values_of_versions(session, versions)
    from bot.workbooks.template import build_template  # openpyxl loads only when a workbook is made

    data = build_template(framework, contract_id=owed.contract_id, contract_name=owed.contract_name,
                          provider_name=provider_name, period=period,
                          earlier={p.id: earlier[p.id] for p in period.earlier_in_year() if p.id in earlier})
    digest = files.put(data)
    return Workbook(digest, name, (
        (StoredFile, dict(sha256=digest, size=len(data), first_seen_at=now, restricted=False)),
        (RenderedReport, dict(kind="template", contract_id=owed.contract_id, period_id=owed.period_id,
                              submission_id=None, sha256=digest, created_at=now, cache_key=key))))
