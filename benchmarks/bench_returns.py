"""CPU time of read + validate + score of return workbooks, interleaved in one run with calamine alone and with
pandas.read_excel (openpyxl), on the same files.

Run: `.venv/bin/python benchmarks/bench_returns.py [--runs 30] [--batch 5]`

For synthetic frameworks of 20, 60 and 200 data items (a fifth of them broken down by sex and age band, one
percentage indicator and one rule per pair of items) it builds the kpibot template, fills it in with openpyxl
and measures, round after round so that the machine's load falls on every column alike (each column reading the
file a few times in a row in each round), the CPU time of:
- calamine alone: python-calamine opening the file and copying every sheet out (the floor: no checks at all);
- pandas: `pandas.read_excel(file, sheet_name=None)` with openpyxl (pandas' default for xlsx), reading only;
- kpibot in this process: `read_return(capped=True)` (the worker's reading: zip checks, declared bounds, calamine,
  the personal-data check) + `assess` (validate and score);
- kpibot through the worker: `IsolatedReader.read` + `assess`, counting the worker process's CPU as well;
- kpibot walking every sheet's XML first (`read_return()`, as `kpibot score` reads outside a cap) + `assess`.
Then it times 40 returns through the worker one after another and with `read_ahead` (each file read while the one
before is assessed), and the worst file the default limits admit, read through the worker.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import pandas  # noqa: E402
import python_calamine  # noqa: E402
from corpus.filling import consistent_values, fill  # noqa: E402
from corpus.hostile import minimal_workbook  # noqa: E402
from process_cpu import cpu_seconds  # noqa: E402

from bot.workbooks.isolated import IsolatedReader  # noqa: E402
from bot.workbooks.template import build_template
from kpi_core.assess import assess  # noqa: E402
from kpi_core.calendar import parse_period  # noqa: E402
from kpi_core.framework.model import Framework  # noqa: E402
from kpi_core.returns.reader import read_return  # noqa: E402
from kpi_core.returns.safety import Limits  # noqa: E402

PERIOD = parse_period("2025-26-Q2", 4)


def synthetic_framework(items: int) -> Framework:
    """`items` count items in pairs (a subset and its whole), a fifth broken down, one indicator per pair."""
    data: dict[str, object] = {
        "schema": 1, "id": f"bench-{items}", "name": f"Benchmark {items}",
        "returns": {"quarterly": {"label": "Quarterly return", "frequency": "quarterly",
                                  "due": {"rule": "day_of_next_month", "day": 15}}},
        "disaggregations": {
            "sex": {"label": "Sex", "categories": {"female": "Female", "male": "Male", "other": "Other",
                                                   "not_known": "Not known"}},
            "age_band": {"label": "Age band", "categories": {f"a{n}": f"Band {n}" for n in range(8)}},
        },
    }
    items_: list[dict[str, object]] = []
    indicators: list[dict[str, object]] = []
    rules: list[dict[str, object]] = []
    data.update(items=items_, indicators=indicators, rules=rules)
    for n in range(items):
        item: dict[str, object] = {"id": f"item_{n:03d}", "label": f"Data item number {n}",
                                   "guidance": "Count everyone seen in the period."}
        if n % 5 == 0:
            item["breakdowns"] = ["sex", "age_band"]
        items_.append(item)
    for n in range(0, items - 1, 2):
        part, whole = f"item_{n + 1:03d}", f"item_{n:03d}"
        indicators.append({"ref": f"{n // 2 + 1}", "name": f"Share {n}", "kind": "percentage",
                           "numerator": part, "denominator": whole, "target": ">= 50"})
        rules.append({"id": f"rule_{n}", "check": f"{part} <= {whole}", "message": "A part cannot exceed its whole"})
    return Framework.model_validate(data)


def workbook(framework: Framework, provider: int = 0) -> bytes:
    """The template filled in consistently; each `provider` gets its own file (its name is on the cover)."""
    template = build_template(framework, contract_id="bench", contract_name="Benchmark",
                              provider_name=f"Provider {provider}", period=PERIOD)
    return fill(template, consistent_values(framework, "quarterly"), framework)


def worker_cpu(reader: IsolatedReader) -> float:
    """Seconds of CPU the reader's worker process has used."""
    return cpu_seconds(reader._worker.pid)


def calamine_alone(data: bytes) -> None:
    book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    for name in book.sheet_names:
        book.get_sheet_by_name(name).to_python(skip_empty_area=False)


def interleaved(columns: dict[str, Callable[[], float]], runs: int, batch: int) -> dict[str, list[float]]:
    """Each column's CPU milliseconds per file, `runs` rounds in which the columns take turns, each reading the
    file `batch` times in a row (as a service reads one return after another)."""
    for measure in columns.values():
        for _ in range(3):
            measure()  # warm: imports, caches, the worker
    found: dict[str, list[float]] = {name: [] for name in columns}
    for _ in range(runs):
        for name, measure in columns.items():
            found[name].append(sum(measure() for _ in range(batch)) * 1000 / batch)
    return found


def cpu_of(action: Callable[[], object]) -> Callable[[], float]:
    def measure() -> float:
        start = time.process_time()
        action()
        return time.process_time() - start
    return measure


def through_worker(reader: IsolatedReader, framework: Framework, data: bytes) -> Callable[[], float]:
    def measure() -> float:
        worker = worker_cpu(reader)
        start = time.process_time()
        result = assess(framework, PERIOD, reader.read(data, "return.xlsx"))
        spent = time.process_time() - start
        assert result.accepted
        return spent + worker_cpu(reader) - worker
    return measure


def kpibot(framework: Framework, data: bytes, capped: bool) -> Callable[[], object]:
    def action() -> None:
        result = assess(framework, PERIOD, read_return(data, "return.xlsx", capped=capped))
        assert result.accepted, [f.text() for f in result.errors][:3]
    return action


def pipeline(reader: IsolatedReader, framework: Framework, files: list[bytes], ahead: bool) -> tuple[float, float]:
    """Wall and CPU seconds (this process and the worker) to read and assess `files` one after another; with
    `ahead`, each next file is handed to the worker before the current one is assessed."""
    worker, cpu, wall = worker_cpu(reader), time.process_time(), time.perf_counter()
    for n, data in enumerate(files):
        parsed = reader.read(data, f"r{n}.xlsx")
        if ahead and n + 1 < len(files):
            reader.read_ahead(files[n + 1], f"r{n + 1}.xlsx")
        assess(framework, PERIOD, parsed)
    return time.perf_counter() - wall, time.process_time() - cpu + worker_cpu(reader) - worker


def worst_admitted(rows: int, cols: int) -> bytes:
    """A workbook whose one sheet is rows x cols numbers, declaring its extent: just under the default cell limit."""
    from kpi_core.returns.layout import column_letter

    letters = [column_letter(c) for c in range(cols)]
    lines = [b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">',
             f'<dimension ref="A1:{letters[-1]}{rows}"/><sheetData>'.encode()]
    for r in range(1, rows + 1):
        cells = "".join(f'<c r="{letters[c]}{r}"><v>{(r * c) % 997}</v></c>' for c in range(cols))
        lines.append(f'<row r="{r}">{cells}</row>'.encode())
    lines.append(b"</sheetData></worksheet>")
    return minimal_workbook(b"".join(lines))


def peak_mb(reader: IsolatedReader) -> float:
    status = Path(f"/proc/{reader._worker.pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--batch", type=int, default=5, help="files read in a row by each column in each round")
    args = parser.parse_args()
    print(f"load average at start: {', '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores)")
    print(f"CPU milliseconds per file, median of {args.runs} interleaved rounds of {args.batch} files each "
          "(p95 of the rounds in brackets)\n")
    head = (f"{'items':>5} {'KB':>5} | {'calamine alone':>14} | {'pandas+openpyxl':>15} | {'kpibot':>13} | "
            f"{'kpibot, worker':>14} | {'kpibot, walked':>14} | {'pandas/kpibot':>13} {'(worker)':>8}")
    print(head)
    print("-" * len(head))
    with IsolatedReader() as reader:
        for size in (20, 60, 200):
            framework = synthetic_framework(size)
            data = workbook(framework)
            found = interleaved({
                "calamine": cpu_of(lambda data=data: calamine_alone(data)),  # type: ignore[misc]
                "pandas": cpu_of(lambda data=data: pandas.read_excel(  # type: ignore[misc]
                    io.BytesIO(data), sheet_name=None, engine="openpyxl")),
                "kpibot": cpu_of(kpibot(framework, data, capped=True)),
                "worker": through_worker(reader, framework, data),
                "walked": cpu_of(kpibot(framework, data, capped=False)),
            }, args.runs, args.batch)
            m = {name: statistics.median(values) for name, values in found.items()}
            p95 = {name: statistics.quantiles(values, n=20, method="inclusive")[-1] for name, values in found.items()}
            cell = {name: f"{m[name]:.2f} ({p95[name]:.1f})" for name in m}
            print(f"{size:>5} {len(data) / 1024:>5.1f} | {cell['calamine']:>14} | {cell['pandas']:>15} | "
                  f"{cell['kpibot']:>13} | {cell['worker']:>14} | {cell['walked']:>14} | "
                  f"{m['pandas'] / m['kpibot']:>12.1f}x {m['pandas'] / m['worker']:>7.1f}x")

        framework = synthetic_framework(60)
        files = [workbook(framework, provider=n) for n in range(40)]
        pipeline(reader, framework, files[:5], ahead=True)
        rounds = {False: [], True: []}  # type: dict[bool, list[tuple[float, float]]]
        for _ in range(3):
            for ahead in (False, True):
                rounds[ahead].append(pipeline(reader, framework, files, ahead))
        (plain_wall, plain_cpu), (ahead_wall, ahead_cpu) = (min(rounds[a]) for a in (False, True))
        print(f"\n40 returns of 60 items through the worker, read + assess (best of 3): one after another "
              f"{plain_wall * 1000 / 40:.2f} ms wall ({plain_cpu * 1000 / 40:.2f} ms CPU) a return; reading each "
              f"next file while assessing the one before {ahead_wall * 1000 / 40:.2f} ms wall "
              f"({ahead_cpu * 1000 / 40:.2f} ms CPU)")

    limit = Limits().max_cells
    rows, cols = 1000, limit // 1000 - 1
    worst = worst_admitted(rows, cols)
    with IsolatedReader() as reader:
        reader.start()
        before, start = worker_cpu(reader), time.perf_counter()
        parsed = reader.read(worst, "worst.xlsx")
        wall, cpu = time.perf_counter() - start, worker_cpu(reader) - before
        print(f"\nWorst file the default limits admit: one sheet of {rows:,} x {cols:,} numbers ({rows * cols:,} "
              f"cells, {len(worst) / 1024 / 1024:.1f} MB file), through the worker: {cpu:.2f} s CPU ({wall:.2f} s "
              f"wall), worker peak {peak_mb(reader):.0f} MB, findings {[f.code for f in parsed.findings][:3]}")
    print(f"load average at end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
