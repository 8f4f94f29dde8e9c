"""The house rules (docs/architecture.md): imports run down the layers, the domain reads no clock, modules stay small."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "jobs", "kpi_core")
MAX_LINES = 400


def sources(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts)


def test_the_import_contracts_hold() -> None:
    """Layers, independent channels, a pure domain and no circles (the contracts in pyproject.toml)."""
    linter = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "0 broken" in run.stdout


@pytest.mark.parametrize("path", sources(*PACKAGES), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_400_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines: split it where it holds two concerns"


# Ways of reading the clock; kpi_core is handed `now` and `today` instead.
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
               ("time", "time"), ("time", "monotonic"), ("time", "perf_counter")}


@pytest.mark.parametrize("path", sources("kpi_core"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_domain_never_reads_the_clock(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [node.func for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)]
    found = [f"{c.value.id}.{c.attr}() on line {c.lineno}" for c in calls  # type: ignore[attr-defined]
             if (c.value.id, c.attr) in CLOCK_CALLS]  # type: ignore[attr-defined]
    assert not found, f"{path.relative_to(ROOT)} reads the clock: {', '.join(found)}; take `now` as an argument"


def test_the_clock_check_finds_a_clock_read() -> None:
    """The check above is not vacuous: it finds `datetime.now()` where one is written."""
    tree = ast.parse("from datetime import datetime\nx = datetime.now()\n")
    calls = [n.func for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)]
    assert [(c.value.id, c.attr) for c in calls] == [("datetime", "now")]  # type: ignore[attr-defined]
