"""CPU time of starting `kpibot score FILE`, with the database's history and without, interleaved in one run with
the floor: a Python that only imports click (what any command line pays).

Run: `.venv/bin/python benchmarks/bench_start.py [--runs 15]`

It sets up a throwaway deployment (the shipped config.toml on a SQLite file in a temporary folder, `kpibot init`,
three quarters of the City and Hackney stop smoking service submitted with `kpibot submit`), then, round after
round so that the machine's load falls on every column alike, runs each command in a fresh process and reads the
child's user + system CPU from the operating system:
- floor: `python -c "import click"`;
- `kpibot --help` (the command line's own start: no command module is imported);
- `kpibot score Q4.csv --no-history` (reading, checking and scoring the file alone);
- `kpibot score Q4.csv` judged with the accepted Q1-Q3 from the database, as `kpibot submit` would judge it;
- the same with nothing kept (`KPIBOT_CACHE_DIR=""`): every framework file and config.toml checked in full.
Each command runs once first, unmeasured, so Python's compiled modules exist and the checked frameworks and the
validated settings are kept (in the temporary folder), as after any first run; it prints the median and the 90th
percentile of each, and each one's ratio to the floor.

Where `kpibot score` with history goes (CPU timed inside one process at load 5, 0.30 s in all): Python's start and
click 0.06 s (the floor); importing pydantic 0.08 s, which the framework and settings models need (their pickles too);
defining the 27 framework models 0.025 s and the settings models with bot/config.py 0.03 s (their validators are
deferred and never built when both come from the cache); the loader, terms, reader and assessing modules 0.06 s
(about sixty dataclasses); the kept settings 0.01 s and the one framework 0.005 s read back; reading the history and
assessing 0.03 s, of which parsing the return's 367 rules and indicators 0.01 s.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kpi_core import loader, samples  # noqa: E402  (after the path is set, like the other benchmarks)

KPIBOT = str(Path(sys.executable).with_name("kpibot"))
# Python's default is to keep compiled modules (__pycache__); a machine whose environment turns that off
# (PYTHONDONTWRITEBYTECODE, set on the team's sandbox) recompiles kpibot's own modules on every start, 0.3 s here.
ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
CONTRACT, SUBMITTER = "ch-stop-smoking", "returns@breathe-easy.example"


def child_cpu(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Run `args` to the end and return its user + system CPU seconds (its own, as the kernel counted them)."""
    process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 2):  # 2: the return was scored and rejected, which is still a full run
        raise SystemExit(f"{' '.join(args)} failed: {process.stderr.read().decode() if process.stderr else ''}")
    return usage.ru_utime + usage.ru_stime


def deployment(folder: Path) -> Path:
    """The shipped example deployment on a SQLite file in `folder`, with Q1-Q3 of 2025-26 accepted."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = re.sub(r'^database_url = .*$', f'database_url = "sqlite:///{folder / "kpibot.db"}"', text, flags=re.M)
    text = re.sub(r'^files_dir = .*$', f'files_dir = "{folder / "files"}"', text, flags=re.M)
    text = re.sub(r'^outbox_dir = .*$', f'outbox_dir = "{folder / "outbox"}"', text, flags=re.M)
    config = folder / "config.toml"
    config.write_text(text, encoding="utf-8")
    subprocess.run([KPIBOT, "--config", str(config), "init"], cwd=folder, check=True, capture_output=True)
    framework = loader.get(CONTRACT)  # the contract of this id runs the framework of the same id
    for quarter in (1, 2, 3, 4):
        path = folder / f"q{quarter}.csv"
        path.write_text(samples.to_csv(samples.sample_values(framework, "quarterly", seed=quarter)), encoding="utf-8")
        if quarter < 4:
            subprocess.run([KPIBOT, "--config", str(config), "submit", str(path), "--as", SUBMITTER, "--contract",
                            CONTRACT, "--period", f"2025-26-Q{quarter}"], cwd=folder, check=True, capture_output=True)
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        config = str(deployment(folder))
        score = [KPIBOT, "--config", config, "score", str(folder / "q4.csv"), "--contract", CONTRACT, "--period",
                 "2025-26-Q4"]
        cached = {**ENVIRONMENT, "KPIBOT_CACHE_DIR": str(folder / "cache")}
        columns = {
            "floor: python -c 'import click'": ([sys.executable, "-c", "import click"], cached),
            "kpibot --help": ([KPIBOT, "--help"], cached),
            "kpibot score --no-history": ([*score, "--no-history"], cached),
            "kpibot score, with Q1-Q3 from the database": (score, cached),
            "the same, nothing kept between runs": (score, {**ENVIRONMENT, "KPIBOT_CACHE_DIR": ""}),
        }
        times: dict[str, list[float]] = {label: [] for label in columns}
        for args, env in columns.values():  # warm-up: Python compiles the modules once, as after any install
            child_cpu(args, folder, env)
        for _ in range(runs):
            for label, (args, env) in columns.items():
                times[label].append(child_cpu(args, folder, env))
    floor = statistics.median(next(iter(times.values())))
    print(f"CPU per run (user + system), {runs} interleaved rounds, load {os.getloadavg()[0]:.1f} at the end:")
    for label, seconds in times.items():
        ordered = sorted(seconds)
        p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
        median = statistics.median(seconds)
        print(f"  {label:<46} median {median * 1000:6.0f} ms   p90 {p90 * 1000:6.0f} ms   {median / floor:5.1f}× floor")


if __name__ == "__main__":
    main()
