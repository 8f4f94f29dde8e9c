"""The commissioner's benchmarks in the database: load a checked file whole, read those in force for a period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from fractions import Fraction

from sqlmodel import Session, select

from bot.storage.setup_models import BenchmarkRow
from kpi_core.calendar import Period
from kpi_core.comparators import Benchmark, in_force
from kpi_core.framework.model import Framework


def save_benchmarks(session: Session, benchmarks: Sequence[Benchmark], now: datetime, filename: str) -> tuple[int, int]:
    """Store benchmarks, replacing any loaded before for the same framework, period, item and breakdown.
    Returns (added, replaced)."""
    added = replaced = 0
    for b in benchmarks:
        row = session.exec(select(BenchmarkRow).where(
            BenchmarkRow.framework_id == b.framework_id, BenchmarkRow.period_id == b.period_id,
            BenchmarkRow.item_id == b.item, BenchmarkRow.breakdown == b.breakdown)).first()
        if row is None:
            row = BenchmarkRow(framework_id=b.framework_id, period_id=b.period_id, item_id=b.item,
                               breakdown=b.breakdown, exact="0", value=0, source="", loaded_at=now)
            added += 1
        else:
            replaced += 1
        row.exact, row.value = str(b.value), float(b.value)
        row.source, row.published, row.loaded_at, row.loaded_from = b.source, b.published, now, filename[:255]
        session.add(row)
    session.flush()
    return added, replaced


def stored_benchmarks(session: Session, framework_id: str) -> list[Benchmark]:
    rows = session.exec(select(BenchmarkRow).where(BenchmarkRow.framework_id == framework_id)
                        .order_by(BenchmarkRow.period_id, BenchmarkRow.item_id, BenchmarkRow.breakdown))
    return [Benchmark(r.framework_id, r.period_id, r.item_id, r.breakdown, Fraction(r.exact), r.source, r.published)
            for r in rows]


def benchmarks_for(session: Session, framework: Framework, period: Period, start_month: int) -> list[Benchmark]:
    """The benchmarks in force for `period`: for each item, the latest loaded for a period ending by its end."""
    return in_force(stored_benchmarks(session, framework.id), period, start_month)
