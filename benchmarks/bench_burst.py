"""The quarter-end burst: 1,000 realistic returns through the intake, as the service receives them.

Run: `.venv/bin/python benchmarks/bench_burst.py [--returns 1000] [--databases sqlite,postgresql] [--processes 1,2]`

A deployment of many contracts (the four shipped frameworks in turn, 125 providers) receives, for each contract,
the 2025-26 quarterly returns as providers fill in kpibot's own workbooks (the demo's filling), one in ten sent
again corrected (a resubmission: a new version). Each file goes through `App.intake` as in `kpibot run`: read in
the worker process, identified by its cover, validated, scored against the stored history and saved, with the
text reply queued and the PDF left to the render queue. Printed per database and number of processes:
returns/s (wall), CPU ms per return (the submitting process and its reader worker process, which reads each file),
p50/p95 receipt-to-reply-queued, peak RSS of a submitting process, and SQL statements, transactions and commits per
return after the receipt (the receipt is its own commit, counted apart).

Beside it, the floor, measured interleaved in the same processes (each return's floor right before the return):
python-calamine reading the same file, every numeric cell inserted (Core, plain tuples) with one outbox-like row in
one transaction, on the same database. The ratio is how far the intake is from doing nothing but read and store.
PostgreSQL is a throwaway cluster started from the machine's binaries (as the tests do).
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import python_calamine  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from process_cpu import cpu_seconds  # noqa: E402

from bot import config  # noqa: E402
from bot.app import App  # noqa: E402
from bot.intake.received import Received  # noqa: E402
from bot.storage.db import make_engine  # noqa: E402
from bot.workbooks.fill import fill  # noqa: E402
from bot.workbooks.template import build_template  # noqa: E402
from kpi_core import loader, samples  # noqa: E402
from kpi_core.calendar import parse_period  # noqa: E402

FRAMEWORKS = ("ch-stop-smoking", "solihull-stop-smoking", "ch-substance-misuse", "lifestyle")
QUARTERS = ("2025-26-Q1", "2025-26-Q2", "2025-26-Q3", "2025-26-Q4")
RECEIVED = datetime(2026, 6, 1, 9, tzinfo=UTC)  # after every quarter of the year has ended


def deployment(folder: Path, contracts: int, database_url: str) -> Path:
    lines = ['timezone = "Europe/London"', "[storage]", f'database_url = "{database_url}"',
             f'files_dir = "{folder / "files"}"', f'outbox_dir = "{folder / "outbox"}"', "[reports]",
             "attach_pdf = true",
             '[[organisations]]\nid = "council"\nname = "Council"\nkind = "council"']
    for n in range(contracts):
        framework = FRAMEWORKS[n % len(FRAMEWORKS)]
        lines += [f'[[organisations]]\nid = "p{n}"\nname = "Provider {n}"\nkind = "provider"',
                  f'[[contracts]]\nid = "c{n}"\nname = "Contract {n}"\nframework = "{framework}"\nprovider = "p{n}"\n'
                  f'commissioner = "council"\nvalue = 500000\n'
                  f'start = {"2025-11-01" if framework == "lifestyle" else "2025-04-01"}',
                  f'[[contacts]]\nemail = "data@p{n}.example"\nname = "Data {n}"\norganisation = "p{n}"\n'
                  'role = "provider_submitter"']
    path = folder / "config.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def returns(settings: config.Settings, count: int, cache: Path) -> list[Received]:
    """`count` filled workbooks: each contract's quarters in order, every tenth sent again corrected."""
    made: list[Received] = []
    n = 0
    for contract in settings.contracts:
        framework = loader.get(contract.framework)
        quarters = QUARTERS[2:] if contract.framework == "lifestyle" else QUARTERS  # lifestyle's year is Nov-Oct
        for q, period_id in enumerate(quarters):
            if contract.framework == "lifestyle":
                period_id = f"2025-26-Q{q + 1}"
            for version in (0, 1) if n % 10 == 9 else (0,):
                if len(made) >= count:
                    return made
                key = cache / f"{contract.id}-{period_id}-{version}.xlsx"
                if not key.exists():
                    period = parse_period(period_id, contract.start_month)
                    book = build_template(framework, contract_id=contract.id, contract_name=contract.name,
                                          provider_name=contract.provider, period=period)
                    values = samples.sample_values(framework, "quarterly", seed=n + version, level=0.8)
                    key.write_bytes(fill(book, values, framework))
                made.append(Received(channel="email", message_id=f"<{key.stem}@bench>",
                                     sender=f"data@{contract.provider}.example", filename=key.name,
                                     data=key.read_bytes(), received_at=RECEIVED + timedelta(seconds=len(made))))
            n += 1
    return made


class Counter:
    """SQL statements, transactions and commits an engine issues (SQLite's own BEGIN is counted as a transaction,
    not a statement)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.statements = self.transactions = self.commits = 0
        sa.event.listen(engine, "before_cursor_execute", self._statement)
        sa.event.listen(engine, "begin", self._begin)
        sa.event.listen(engine, "commit", self._commit)

    def _statement(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.startswith("BEGIN"):
            self.statements += 1

    def _begin(self, _conn: object) -> None:
        self.transactions += 1

    def _commit(self, _conn: object) -> None:
        self.commits += 1

    def snapshot(self) -> tuple[int, int, int]:
        return self.statements, self.transactions, self.commits


FLOOR_TABLES = sa.MetaData()
FLOOR_VALUES = sa.Table("bench_floor_value", FLOOR_TABLES, sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("file", sa.String), sa.Column("sheet", sa.String), sa.Column("cell", sa.String),
                        sa.Column("value", sa.String))
FLOOR_OUTBOX = sa.Table("bench_floor_outbox", FLOOR_TABLES, sa.Column("id", sa.Integer, primary_key=True),
                        sa.Column("file", sa.String), sa.Column("address", sa.String), sa.Column("body", sa.Text))


def floor(engine: sa.Engine, received: Received) -> None:
    """The least an intake can do: read the file with calamine and store its values and one reply in one
    transaction."""
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(received.data))
    rows = [(received.filename, name, f"{r}:{c}", str(v))
            for name in book.sheet_names
            for r, line in enumerate(book.get_sheet_by_name(name).to_python(skip_empty_area=False))
            for c, v in enumerate(line) if isinstance(v, (int, float)) and not isinstance(v, bool)]
    with engine.begin() as conn:
        conn.execute(FLOOR_VALUES.insert(), [dict(file=f, sheet=s, cell=c, value=v) for f, s, c, v in rows])
        conn.execute(FLOOR_OUTBOX.insert(), dict(file=received.filename, address=received.sender,
                                                 body=f"{len(rows)} values received"))


def worker_cpu(app: App) -> float:
    """Seconds of CPU the reader's worker process has used so far (none started yet: 0)."""
    return cpu_seconds(app.reader._worker.pid if "reader" in app.__dict__ else None)


def submit_all(config_path: Path, batch: list[Received], out: Path) -> None:
    """Submit a batch in this process, each return right after its floor; write per-return latencies, CPU time
    (this process and its reader worker, and the floor's) and statement counts to `out`."""
    app = App(config.load(config_path))
    app.intake.read(b"warm-up", "warm.csv")  # start the reader's worker before the clock runs
    floor_engine = make_engine(app.settings.storage.database_url)
    counter = Counter(app.engine)
    latencies = []
    cpu = worker = floor_cpu = 0.0
    receipt = [0, 0, 0]
    after = [0, 0, 0]
    for received in batch:
        started_cpu = time.process_time()
        floor(floor_engine, received)
        floor_cpu += time.process_time() - started_cpu
        started, started_cpu, started_worker = time.perf_counter(), time.process_time(), worker_cpu(app)
        before = counter.snapshot()
        step = app.intake.record(received)
        recorded = counter.snapshot()
        if isinstance(step, int):
            app.intake.process(step, received)
        done = counter.snapshot()
        latencies.append(time.perf_counter() - started)
        cpu += time.process_time() - started_cpu
        worker += worker_cpu(app) - started_worker
        for n in range(3):
            receipt[n] += recorded[n] - before[n]
            after[n] += done[n] - recorded[n]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.write_text(" ".join(map(str, [cpu, worker, floor_cpu, rss, *receipt, *after])) + "\n"
                   + "\n".join(map(str, latencies)))
    floor_engine.dispose()
    app.close()


def run(database_url: str, processes: int, count: int, cache: Path) -> str:
    folder = Path(tempfile.mkdtemp(prefix="kpibot-burst-"))
    try:
        config_path = deployment(folder, max(4, count // 4), database_url)
        settings = config.load(config_path)
        App(settings).init(RECEIVED)
        floor_engine = make_engine(database_url)
        FLOOR_TABLES.create_all(floor_engine)
        floor_engine.dispose()
        batch = returns(settings, count, cache)
        # Each process takes whole contracts (as each provider's mail arrives at one place).
        shares: list[list[Received]] = [[] for _ in range(processes)]
        for received in batch:
            shares[int(received.sender.split("@p")[1].split(".")[0]) % processes].append(received)
        wall0 = time.perf_counter()
        pids = []
        for index, share in enumerate(shares):
            pid = os.fork()
            if pid == 0:
                try:
                    submit_all(config_path, share, folder / f"out{index}")
                finally:
                    os._exit(0)
            pids.append(pid)
        for pid in pids:
            os.waitpid(pid, 0)
        wall = time.perf_counter() - wall0
        totals = [0.0] * 10
        latencies = []
        for index in range(processes):
            head, *rest = (folder / f"out{index}").read_text().splitlines()
            for n, field in enumerate(head.split()):
                totals[n] = max(totals[n], float(field)) if n == 3 else totals[n] + float(field)
            latencies += [float(x) for x in rest]
        cpu, worker, floor_cpu, rss = totals[:4]
        statements, transactions, commits = (x / len(batch) for x in totals[7:])
        receipt_statements, _, receipt_commits = (x / len(batch) for x in totals[4:7])
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        per = 1000 / len(batch)
        return (f"{database_url.split(':')[0].split('+')[0]:<10} {processes} proc  {len(batch) / wall:6.1f} returns/s  "
                f"CPU {per * (cpu + worker):5.1f} ms/return ({per * cpu:.1f} process + {per * worker:.1f} reader "
                f"worker)  floor {per * floor_cpu:.1f} ms ({(cpu + worker) / floor_cpu:.0f}x)  "
                f"p50 {1000 * statistics.median(latencies):6.1f} ms  p95 {1000 * p95:6.1f} ms  "
                f"peak RSS {rss / 1024:.0f} MB\n"
                f"{'':<18}after the receipt: {statements:.1f} statements, {transactions:.1f} transactions, "
                f"{commits:.2f} commits per return  (the receipt: {receipt_statements:.1f} statements, "
                f"{receipt_commits:.2f} commits)")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--returns", type=int, default=1000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--processes", default="1,2")
    args = parser.parse_args()
    cache = ROOT / "var" / "bench-burst"
    cache.mkdir(parents=True, exist_ok=True)
    print(f"Preparing {args.returns} filled workbooks (cached in {cache})...", flush=True)
    postgres = None
    for database in args.databases.split(","):
        for processes in (int(p) for p in args.processes.split(",")):
            if database == "sqlite":
                folder = Path(tempfile.mkdtemp(prefix="kpibot-burst-db-"))
                url = f"sqlite:///{folder / 'kpibot.db'}"
            else:
                from db_fixtures import fresh_postgres_url
                from services import start_postgres
                postgres = postgres or start_postgres()
                url = fresh_postgres_url(postgres, template=None)
            print(run(url, processes, args.returns, cache), flush=True)
    if postgres is not None:
        postgres.stop()


if __name__ == "__main__":
    main()
