"""Time the scheduler's sweep over 1,000, 10,000 and 50,000 contracts with a year of history.

Run: `.venv/bin/python benchmarks/bench_sweep.py [--contracts 1000,10000,50000] [--postgres] [--runs 7]`

For each contract count, a fresh database (a SQLite file, or with --postgres a throwaway PostgreSQL server started
as the tests do) holds 50 councils, N/2 providers (a submitter and a manager each) and N contracts on the four
shipped frameworks (April and November years), with every obligation since April 2025 and its submissions: 85% of
returns accepted on time, 10% late, 5% never sent, each accepted return with two indicator results (a fifth red).

Measured, CPU time of this process and wall time (PostgreSQL's own CPU is not in the CPU figure):
1. the first sweep on this history (a scheduler started for the first time, or after a long outage: every ladder
   decision of the year and the latest overdue notice of each missing return are caught up at once);
2. the steady sweep that runs every few minutes (nothing new is due), beside the floor measured interleaved with
   it: a session and one indexed select that finds nothing;
3. the sweep on a reminder day (every April-start contract's 14-day reminder at once), and the steady sweep after
   it, while every one of those reminders' returns is still owed (the backlog that made a sweep grow with it);
   then the first sweep of a restarted process, which looks again at every return that may need a notice;
4. the sweep on the working day after a deadline (every April-start return's ladder decision, overdue notices and
   warnings), and the steady sweep after it;
5. the cost per reminder of building the workbook an emailed reminder attaches (built once per contract and
   period, then reused), from a sample. The busy sweeps above send by Telegram, which attaches no workbook.
A table of the steady figures by contract count closes the run.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import sqlalchemy as sa  # noqa: E402
from sqlmodel import Session, col, func, select  # noqa: E402

from bot import config  # noqa: E402
from bot.storage import db  # noqa: E402
from bot.storage.files import FileStore  # noqa: E402
from bot.storage.models import (  # noqa: E402
    Contact,
    Contract,
    IndicatorResultRow,
    Obligation,
    Organisation,
    OutboxMessage,
    Submission,
)
from jobs import next_notice  # noqa: E402
from jobs.sweep import sweep  # noqa: E402
from kpi_core import loader  # noqa: E402
from kpi_core.calendar import ReportingYear  # noqa: E402
from kpi_core.duedates import due_date  # noqa: E402

LONDON = ZoneInfo("Europe/London")
FRAMEWORKS = ("ch-stop-smoking", "solihull-stop-smoking", "ch-substance-misuse", "lifestyle")
HISTORY_UNTIL = date(2026, 5, 5)  # returns arrive up to here; the sweeps are measured from the next day


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, dtime(hour, minute), LONDON).astimezone(UTC)


def populate(engine: sa.Engine, contracts: int, seed: int = 1) -> dict[str, int]:
    """Councils, providers, contacts, contracts, obligations and submissions, inserted in bulk."""
    rng = random.Random(seed)
    councils = [f"council-{n}" for n in range(50)]
    providers = [f"provider-{n}" for n in range(contracts // 2)]
    orgs = [dict(id=c, name=f"Council {c}", kind="council") for c in councils]
    orgs += [dict(id=p, name=f"Provider {p}", kind="provider") for p in providers]
    contacts = [dict(email=f"commissioner@{c}.example", name=f"Commissioner {c}", organisation_id=c,
                     role="commissioner", telegram_chat_id=None, active=True, email_disabled=False,
                     telegram_disabled=False) for c in councils]
    chat = 10_000
    for p in providers:  # submitters and managers on Telegram: no workbook to build in the busy sweeps
        for role in ("provider_submitter", "provider_manager"):
            chat += 1
            contacts.append(dict(email=f"{role}@{p}.example", name=f"{role} {p}", organisation_id=p, role=role,
                                 telegram_chat_id=chat, active=True, email_disabled=False, telegram_disabled=False))
    rows_contracts, rows_obligations = [], []
    for n in range(contracts):
        framework = loader.get(FRAMEWORKS[n % len(FRAMEWORKS)])
        month = framework.calendar.year_start_month
        start = date(2025, 4, 1) if month == 4 else date(2024, 11, 1)
        cid = f"c{n:05d}"
        rows_contracts.append(dict(id=cid, name=f"Contract {n}", framework_id=framework.id,
                                   framework_version=framework.version, provider_id=providers[n % len(providers)],
                                   commissioner_id=councils[n % len(councils)], value=100000, start=start, end=None,
                                   year_start_month=month))
        year = ReportingYear.containing(start, month)
        while year.start <= HISTORY_UNTIL:
            for return_type, spec in framework.returns.items():
                for period in year.periods(spec.frequency):
                    if period.start <= HISTORY_UNTIL and period.end >= start:
                        due = due_date(period, spec.due)
                        roll = rng.random()
                        received = None if due > HISTORY_UNTIL or roll < 0.05 else (
                            at(due - timedelta(days=2) if roll >= 0.15 else due + timedelta(days=5), 11))
                        rows_obligations.append(dict(contract_id=cid, return_type=return_type, period_id=period.id,
                                                     period_start=period.start, period_end=period.end,
                                                     due_date=due, first_accepted_at=received, escalation_level=0))
            year = year.next()
    with Session(engine) as session:
        session.execute(sa.insert(Organisation), orgs)
        session.execute(sa.insert(Contact), contacts)
        session.execute(sa.insert(Contract), rows_contracts)
        session.execute(sa.insert(Obligation), rows_obligations)
        session.commit()
        owed = session.exec(select(Obligation.id, Obligation.contract_id, Obligation.period_id,
                                   Obligation.first_accepted_at, Obligation.due_date)
                            .where(Obligation.first_accepted_at != None)).all()  # noqa: E711
        subs = [dict(idempotency_key=f"bench:{oid}", channel="email", channel_message_id=str(oid),
                     sender_address="bench", received_at=received, filename="r.xlsx", size=1, contract_id=cid,
                     obligation_id=oid, period_id=pid, version=1, status="accepted",
                     on_time=received.astimezone(LONDON).date() <= due, error_count=0, warning_count=0, reason="",
                     caption="", on_behalf=False) for oid, cid, pid, received, due in owed]
        session.execute(sa.insert(Submission), subs)
        ids = session.exec(select(Submission.id)).all()
        results = [dict(submission_id=sid, ref=ref, status="red" if rng.random() < 0.2 else "green", value=1.0,
                        critical_failure=False, detail={"name": f"Indicator {ref}", "display_value": "1",
                                                        "target": "2"})
                   for sid in ids for ref in ("1.1", "1.2")]
        session.execute(sa.insert(IndicatorResultRow), results)
        session.commit()
        return {"contracts": contracts, "obligations": len(rows_obligations), "submissions": len(subs),
                "indicator results": len(results), "contacts": len(contacts)}


def timed(work) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    cpu, wall = time.process_time(), time.perf_counter()
    found = work()
    return time.process_time() - cpu, time.perf_counter() - wall, found


def floor(engine: sa.Engine) -> int:
    """The least a sweep can do: open a session and run one indexed select that finds nothing."""
    with Session(engine) as session:
        return len(session.exec(select(Obligation.id).where(
            col(Obligation.next_notice_on) < date(1900, 1, 1))).all())


def measure(engine: sa.Engine, settings: config.Settings, files: FileStore, runs: int) -> dict[str, str]:
    """Print each figure; return the table's cells (steady sweeps, each beside its floor)."""
    cells: dict[str, str] = {}

    def once(moment: datetime) -> tuple[float, float, int]:
        return timed(lambda: sweep(engine, settings, files, moment))

    def steady(day: date, label: str, cell: str) -> None:
        figures, floors = [], []
        for n in range(runs):  # interleaved, so both see the same load
            floors.append(timed(lambda: floor(engine)))
            figures.append(once(at(day, 9, 5 + n)))
        assert all(f[2] == 0 for f in figures), "a steady sweep found work"
        cpu = statistics.median(f[0] for f in figures)
        wall = statistics.median(f[1] for f in figures)
        base = statistics.median(f[0] for f in floors)
        print(f"  {label}: median of {runs}: {cpu * 1000:.1f} ms CPU, {wall * 1000:.1f} ms wall "
              f"(min {min(f[1] for f in figures) * 1000:.1f}, max {max(f[1] for f in figures) * 1000:.1f} ms wall); "
              f"floor {base * 1000:.2f} ms CPU")
        cells[cell] = f"{cpu * 1000:.1f} ms"
        cells["floor"] = f"{base * 1000:.2f} ms"

    def busy(moment: datetime, label: str, cell: str = "") -> None:
        cpu, wall, found = once(moment)
        print(f"  {label}: {found} messages queued in {cpu:.2f} s CPU, {wall:.2f} s wall"
              + (f" ({wall / found * 1000:.2f} ms each)" if found else ""))
        if cell:
            cells[cell] = f"{cpu:.2f} s" if cpu >= 1 else f"{cpu * 1000:.0f} ms"

    first = date(2026, 5, 6)
    busy(at(first, 9), "1. first sweep on a year of history (catch-up)", "catch-up")
    steady(first, "2. steady sweep, nothing new", "steady")
    reminder_day = date(2026, 7, 1)  # 14 days before 15 July: every April-start contract's Q1 reminder
    busy(at(reminder_day, 9), "3. reminder day (14-day reminders)", "reminder day")
    steady(reminder_day, "   steady sweep after it, its reminders pending", "steady after")
    next_notice._swept.clear()  # as a restarted process starts
    busy(at(reminder_day, 11), "   a restarted process's first sweep (looks at every return that may need a notice)",
         "restart")
    after_deadline = date(2026, 7, 16)
    with Session(engine) as session:  # 90% of the April-start Q1 returns arrive on time, the rest do not
        q1 = session.exec(select(Obligation.id).where(Obligation.period_id == "2026-27-Q1")).all()
        for oid in q1[: int(len(q1) * 0.9)]:
            session.execute(sa.update(Obligation).where(col(Obligation.id) == oid)
                            .values(first_accepted_at=at(date(2026, 7, 10), 11)))
        session.commit()
    busy(at(after_deadline, 9), "4. the working day after a deadline (ladder, overdue, warnings)")
    steady(after_deadline, "   steady sweep after it", "steady after deadline")
    return cells


def workbook_cost(settings: config.Settings, engine: sa.Engine, files: FileStore) -> None:
    from jobs.attachments import workbook_for
    from jobs.owed import Owed

    with Session(engine) as session:
        rows = session.exec(select(Obligation, Contract).join(Contract, Contract.id == Obligation.contract_id)
                            .where(Obligation.period_id.in_(("2026-27-Q1", "2025-26-Q3")))  # type: ignore[attr-defined]
                            .limit(40)).all()
        built = []
        for o, c in rows:
            owed = Owed(o.id, c.id, o.return_type, o.period_id, o.due_date, None, 0, c.name, c.framework_id,
                        c.provider_id, c.commissioner_id, c.year_start_month)
            built.append(timed(lambda: workbook_for(session, files, owed, "Provider", at(date(2026, 7, 1), 9))
                               and 1))
    print(f"5. workbook for an emailed reminder: median {statistics.median(b[0] for b in built) * 1000:.0f} ms CPU "
          f"to build (once per contract and period; later reminders reuse it), over {len(built)} contracts")


def run(contracts: int, runs: int, postgres: bool) -> dict[str, str]:
    """Build a database of `contracts` contracts, measure its sweeps, and return the table's cells."""
    folder = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    server = None
    try:
        if postgres:
            from services import start_postgres

            server = start_postgres()
            admin = sa.create_engine(server.database_url("postgres"), isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(sa.text("CREATE DATABASE bench"))
            admin.dispose()
            url = server.database_url("bench")
        else:
            url = f"sqlite:///{folder / 'bench.db'}"
        engine = db.make_engine(url)
        db.upgrade(engine)
        started = time.perf_counter()
        sizes = populate(engine, contracts)
        print(f"{engine.dialect.name}: {', '.join(f'{v:,} {k}' for k, v in sizes.items())} "
              f"(built in {time.perf_counter() - started:.0f} s)")
        # The weekly digest goes on Fridays here, so no measured day (Wednesdays and a Thursday) builds it.
        defaults = config.Settings()
        settings = defaults.model_copy(update={"telegram_token": "bench", "scheduler": defaults.scheduler.model_copy(
            update={"digest_weekday": "friday"})})
        files = FileStore(folder / "files")
        next_notice._swept.clear()
        cells = measure(engine, settings, files, runs)
        with Session(engine) as session:
            total = session.exec(select(func.count()).select_from(OutboxMessage)).one()
        print(f"   ({total:,} messages queued in all)")
        workbook_cost(settings, engine, files)
        engine.dispose()
        return cells
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contracts", default="1000,10000,50000", help="contract counts, comma-separated")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL (a throwaway server) instead of SQLite")
    args = parser.parse_args()
    counts = [int(n) for n in args.contracts.split(",")]
    table = {n: run(n, args.runs, args.postgres) for n in counts}
    columns = ("catch-up", "steady", "reminder day", "steady after", "restart", "steady after deadline", "floor")
    print("\nCPU time of this process, by contracts (steady: median; floor: a session and one select of nothing)")
    print(f"{'contracts':>10} " + " ".join(f"{c:>22}" for c in columns))
    for n, cells in table.items():
        print(f"{n:>10,} " + " ".join(f"{cells.get(c, ''):>22}" for c in columns))


if __name__ == "__main__":
    main()
