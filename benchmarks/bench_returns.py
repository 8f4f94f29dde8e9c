"""Time parse + validate + score of return workbooks, beside pandas.read_excel on the same files.

Run: `.venv/bin/python benchmarks/bench_returns.py [--runs 60]`

For synthetic frameworks of 20, 60 and 200 data items (a fifth of them broken down by sex and age band, one
percentage indicator and one rule per pair of items) it builds the kpibot template, fills it in with openpyxl
and times, per file:
- kpibot: `read_return` (safety checks, sheet XML scan, calamine) + `assess` (validate and score);
- the same with the file read by `bot.workbooks.IsolatedReader` (a worker process with memory and time limits),
  as the bot's intake should;
- pandas: `pandas.read_excel(file, sheet_name=None)` with the openpyxl engine (pandas' default for xlsx) and
  with the calamine engine, reading only (no validation, no scoring).
It then measures the worst file the limits still admit (a sheet just under the cell limit), in a child process
so its peak memory is its own. The target: p95 under 100 ms for 60 items, and faster than pandas.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import pandas  # noqa: E402
from corpus.filling import consistent_values, fill  # noqa: E402
from corpus.hostile import minimal_workbook  # noqa: E402

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


def workbook(framework: Framework) -> bytes:
    template = build_template(framework, contract_id="bench", contract_name="Benchmark", provider_name="Provider",
                              period=PERIOD)
    return fill(template, consistent_values(framework, "quarterly"), framework)


def timings(action: object, runs: int) -> list[float]:
    for _ in range(3):
        action()  # type: ignore[operator]
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        action()  # type: ignore[operator]
        out.append((time.perf_counter() - start) * 1000)
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _cell(values: list[float]) -> str:
    return f"{statistics.median(values):>10.2f} {p95(values):>10.2f}".rjust(21)


def kpibot_once(framework: Framework, data: bytes) -> None:
    result = assess(framework, PERIOD, read_return(data, "return.xlsx"))
    assert result.accepted, [f.text() for f in result.errors][:3]


def worst_admitted(rows: int, cols: int) -> bytes:
    """A workbook whose one sheet is rows x cols numbers: just under the default cell limit."""
    from kpi_core.returns.layout import column_letter

    letters = [column_letter(c) for c in range(cols)]
    lines = [b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>']
    for r in range(1, rows + 1):
        cells = "".join(f'<c r="{letters[c]}{r}"><v>{(r * c) % 997}</v></c>' for c in range(cols))
        lines.append(f'<row r="{r}">{cells}</row>'.encode())
    lines.append(b"</sheetData></worksheet>")
    return minimal_workbook(b"".join(lines))


def child_worst(path: str) -> None:
    """In a child process: read the worst admitted file once; print seconds, peak memory and findings."""
    data = Path(path).read_bytes()
    start = time.perf_counter()
    parsed = read_return(data, "worst.xlsx")
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak, "findings": [f.code for f in parsed.findings][:3]}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--child-worst", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_worst:
        child_worst(args.child_worst)
        return
    print(f"{args.runs} runs each after 3 warm-up runs; times in ms\n")
    header = (f"{'items':>5} {'file KB':>8} {'values':>6} | {'kpibot: read+assess':>21} | "
              f"{'kpibot, isolated read':>21} | {'pandas.read_excel openpyxl':>26} | "
              f"{'pandas.read_excel calamine':>26}")
    print(f"{'':>22} | {'median':>10} {'p95':>10} | {'median':>10} {'p95':>10} | {'median':>15} {'p95':>10} | "
          f"{'median':>15} {'p95':>10}")
    print(header)
    print("-" * len(header))
    reader = IsolatedReader()
    for size in (20, 60, 200):
        framework = synthetic_framework(size)
        data = workbook(framework)
        values = len(consistent_values(framework, "quarterly"))
        ours = timings(lambda: kpibot_once(framework, data), args.runs)
        isolated = timings(lambda: assess(framework, PERIOD, reader.read(data, "return.xlsx")), args.runs)
        theirs = timings(lambda: pandas.read_excel(io.BytesIO(data), sheet_name=None, engine="openpyxl"), args.runs)
        fast = timings(lambda: pandas.read_excel(io.BytesIO(data), sheet_name=None, engine="calamine"), args.runs)
        print(f"{size:>5} {len(data) / 1024:>8.1f} {values:>6} | {_cell(ours)} | {_cell(isolated)} | "
              f"{_cell(theirs).rjust(26)} | {_cell(fast).rjust(26)}")
    reader.close()
    limit = Limits().max_cells
    rows, cols = 1000, limit // 1000 - 1
    worst = Path("/tmp/kpibot-bench-worst.xlsx")
    worst.write_bytes(worst_admitted(rows, cols))
    out = subprocess.run([sys.executable, __file__, "--child-worst", str(worst)], capture_output=True, text=True,
                         check=True)
    report = json.loads(out.stdout)
    print(f"\nWorst file the default limits admit: one sheet of {rows:,} x {cols:,} numbers "
          f"({rows * cols:,} cells, {worst.stat().st_size / 1024 / 1024:.1f} MB file): read in "
          f"{report['seconds']:.2f} s, peak memory {report['peak_mb']:.0f} MB (child process), "
          f"findings {report['findings']}")
    worst.unlink()


if __name__ == "__main__":
    main()
