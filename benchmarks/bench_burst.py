"""The quarter-end burst: 1,000 realistic returns through the intake, as the service receives them.

Run: `.venv/bin/python benchmarks/bench_burst.py [--returns 1000] [--databases sqlite,postgresql] [--processes 1,2]`

A deployment of many contracts (the four shipped frameworks in turn, 125 providers) receives, for each contract,
the 2025-26 quarterly returns as providers fill in kpibot's own workbooks (the demo's filling), one in ten sent
again corrected (a resubmission: a new version). Each file goes through `App.intake` as in `kpibot run`: read in
the worker process, identified by its cover, validated, scored against the stored history and saved, with the
text reply queued and the PDF left to the render queue. Printed per database and number of processes:
returns/s (wall), CPU ms per return, p50/p95 receipt-to-reply-queued, and peak RSS of a submitting process.
PostgreSQL is a throwaway cluster started from the machine's binaries (as the tests do).
"""

from __future__ import annotations

import argparse
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

from bot import config  # noqa: E402
from bot.app import App  # noqa: E402
from bot.intake.received import Received  # noqa: E402
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


def submit_all(config_path: Path, batch: list[Received], out: Path) -> None:
    """Submit a batch in this process; write per-return latencies and CPU time to `out`."""
    app = App(config.load(config_path))
    app.intake.read(b"warm-up", "warm.csv")  # start the reader's worker before the clock runs
    latencies = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for received in batch:
        started = time.perf_counter()
        app.intake.submit(received)
        latencies.append(time.perf_counter() - started)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.write_text(f"{cpu} {wall} {rss}\n" + "\n".join(map(str, latencies)))
    app.close()


def run(database_url: str, processes: int, count: int, cache: Path) -> str:
    folder = Path(tempfile.mkdtemp(prefix="kpibot-burst-"))
    try:
        config_path = deployment(folder, max(4, count // 4), database_url)
        settings = config.load(config_path)
        App(settings).init(RECEIVED)
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
        cpu, latencies, rss = 0.0, [], 0
        for index in range(processes):
            head, *rest = (folder / f"out{index}").read_text().splitlines()
            c, _, r = head.split()
            cpu, rss = cpu + float(c), max(rss, int(r))
            latencies += [float(x) for x in rest]
        latencies.sort()
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        return (f"{database_url.split(':')[0]:<10} {processes} proc  {len(batch) / wall:6.1f} returns/s  "
                f"CPU {1000 * cpu / len(batch):5.1f} ms/return  p50 {1000 * statistics.median(latencies):6.1f} ms  "
                f"p95 {1000 * p95:6.1f} ms  peak RSS {rss / 1024:.0f} MB")
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
