"""CPU time and peak memory of reading and assessing the small files that once made unbounded work (issue 14).

Run: `.venv/bin/python benchmarks/bench_hostile_files.py [--root /path/to/another/checkout] [--runs 3]`

Each file (tests/corpus/hostile.py) is read with `read_return` and assessed as a ch-stop-smoking 2025-26-Q1 return
(`assess`, then `cap_findings` where the checkout has it) in a fresh child process, which reports its own CPU time
and peak resident memory (ru_maxrss): the figures are the child's alone. `--root` imports kpi_core from another
checkout, to compare before and after on the same files; runs of the two are best interleaved by hand on a shared
machine. Rendering the report is not included (the lead's render queue bounds it). Then those files, and the
corpus's bombs and lying files, are read through the reader's worker process as the service reads them.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(ROOT / "tests")]

from corpus.hostile import narrow_workbook, unknown_items_csv  # noqa: E402

FILES = {
    "unknown-items-26KB.csv": lambda: unknown_items_csv(26 * 1024),
    "unknown-items-5MB.csv": lambda: unknown_items_csv(5 * 1024 * 1024),
    "narrow-100k-rows.xlsx": lambda: narrow_workbook(100_000),
    "narrow-9999-rows.xlsx": lambda: narrow_workbook(9_999),
}


def child(root: str, path: str) -> None:
    """In a child process: read and assess one file; print CPU seconds, peak MB and what came of it."""
    sys.path.insert(0, root)
    from kpi_core import findings as findings_module
    from kpi_core import loader
    from kpi_core.assess import assess
    from kpi_core.calendar import parse_period
    from kpi_core.returns.reader import read_return

    framework, period = loader.get("ch-stop-smoking"), parse_period("2025-26-Q1", 4)
    data = Path(path).read_bytes()
    before = resource.getrusage(resource.RUSAGE_SELF)
    parsed = read_return(data, Path(path).name)
    found = list(parsed.findings) if parsed.unreadable else list(assess(framework, period, parsed).findings)
    cap = getattr(findings_module, "cap_findings", None)
    shown = cap(found) if cap else found
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(json.dumps({"cpu": cpu, "peak_mb": after.ru_maxrss / 1024, "entries": len(parsed.entries),
                      "findings": len(found), "shown": len(shown), "first": shown[0].code if shown else ""}))


CORPUS_FILES = ("zip_bomb.xlsx", "zip_bomb_ratio.xlsx", "zip_lying_sizes.xlsx", "shared_strings_bomb.xlsx",
                "far_cell.xlsx", "far_cell_quoted.xlsx", "dimension_lies.xlsx", "macro_enabled.xlsm", "encrypted.xlsx",
                "formula_no_value.xlsx", "xml_encoding_unknown.xlsx", "client_list_hidden.xlsx")


def through_worker(made: dict[str, bytes]) -> None:
    """Each file read by the reader's worker process (capped reading, kpi_core/returns/bounds.py), a fresh worker
    per file: its CPU time and peak memory (from /proc), and whether the cap stopped it and a fresh worker answered."""
    sys.path.insert(0, str(ROOT))
    from bot.workbooks import IsolatedReader

    def cpu(pid: int | None) -> float:
        return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9 if pid else 0.0

    def peak(pid: int | None) -> float:
        status = Path(f"/proc/{pid}/status").read_text() if pid else ""
        return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0.0)

    files = {**made, **{name: (HERE.parent / "tests" / "corpus" / name).read_bytes() for name in CORPUS_FILES}}
    print("\nThrough the reader's worker (2 GiB and 30 s cap; CPU s and peak MB of the worker that answered)\n")
    print(f"{'file':26} {'KB':>7} | {'CPU s':>7} {'peak MB':>8} {'wall s':>7} | answer")
    for name, data in files.items():
        with IsolatedReader() as reader:
            reader.start()
            first = reader._worker.pid
            before, start = cpu(first), time.perf_counter()
            parsed = reader.read(data, name)
            wall = time.perf_counter() - start
            pid = reader._worker.pid
            again = "" if pid == first else " (the worker died at its cap; a fresh one walked it, CPU from its start)"
            spent = cpu(pid) - (before if pid == first else 0.0)
            codes = ",".join(dict.fromkeys(f.code for f in parsed.findings)) or f"{len(parsed.entries)} figures"
            print(f"{name:26} {len(data) / 1024:>7,.0f} | {spent:>7.2f} {peak(pid):>8.0f} {wall:>7.2f} | "
                  f"{codes[:60]}{again}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=str(ROOT), help="the checkout whose kpi_core is measured")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"kpi_core from {args.root}; median of {args.runs} child processes (CPU s, peak MB)\n")
    print(f"{'file':24} {'KB':>7} | {'CPU s':>7} {'peak MB':>8} | {'entries':>8} {'findings':>9} {'shown':>6}  first")
    with tempfile.TemporaryDirectory() as folder:
        for name, make in FILES.items():
            path = Path(folder) / name
            path.write_bytes(make())
            runs = []
            for _ in range(args.runs):
                try:
                    out = subprocess.run([sys.executable, __file__, "--child", args.root, str(path)],
                                         capture_output=True, text=True, check=True, timeout=args.timeout)
                except subprocess.TimeoutExpired:
                    runs = []
                    break
                runs.append(json.loads(out.stdout))
            size = path.stat().st_size / 1024
            if not runs:
                print(f"{name:24} {size:>7,.0f} | over {args.timeout:.0f} s (stopped)")
                continue
            last = runs[-1]
            print(f"{name:24} {size:>7,.0f} | {statistics.median(r['cpu'] for r in runs):>7.2f} "
                  f"{statistics.median(r['peak_mb'] for r in runs):>8.0f} | {last['entries']:>8,} "
                  f"{last['findings']:>9,} {last['shown']:>6,}  {last['first']}")
        if args.root == str(ROOT):
            through_worker({name: make() for name, make in FILES.items()})


if __name__ == "__main__":
    main()
