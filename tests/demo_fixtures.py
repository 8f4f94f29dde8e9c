"""The whole demo year, replayed once per test session and shared by the test workers.

`kpibot demo` replays a year and draws its PDFs: the longest single piece of work in the suite. The year's
decisions (tests/test_demo.py) and the reading of every message and page it writes (tests/test_demo_reading.py)
look at the same output, so the first worker to need it replays it under a file lock and the others read what it
left. A test that changes anything works on its own copy (`copy_of`).
"""

from __future__ import annotations

import fcntl
import pickle
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from bot import config
from bot.assessment.contract_status import ContractStatus
from bot.demo import replay as demo


@dataclass(frozen=True)
class WholeDemo:
    folder: Path  # as `kpibot demo` leaves it: the outbox with replies and PDFs, the reports, the database
    steps: list[demo.Step]
    statuses: list[ContractStatus]

    def copy_of(self, into: Path) -> Path:
        """A copy of the demo folder that a test may open and change."""
        target = into / "demo"
        shutil.copytree(self.folder, target)
        return target


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file closes, or when a killed worker's process ends
        yield


@pytest.fixture(scope="session")
def whole_demo(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> WholeDemo:
    """The demo on the shipped config.toml, as `kpibot demo` runs it, replayed once for all workers."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if worker_id != "master" else base) / "whole-demo"  # the workers' common parent
    shared.mkdir(exist_ok=True)
    results = shared / "results.pickle"
    with _locked(shared / "lock"):
        if not results.exists():  # written last: a worker killed mid-replay leaves none, and the next replays
            steps, statuses = demo.run(config.load(REPO_ROOT / "config.toml", environ={}), shared / "demo")
            partial = shared / "results.partial"
            partial.write_bytes(pickle.dumps((steps, statuses)))
            partial.replace(results)
        steps, statuses = pickle.loads(results.read_bytes())  # noqa: S301 (written by this session)
    return WholeDemo(shared / "demo", steps, statuses)
