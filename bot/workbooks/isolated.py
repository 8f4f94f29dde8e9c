"""Read received return files in a separate, long-lived process with a memory cap and a time limit per file.

The checks in kpi_core/returns/safety.py and sheetxml.py bound what calamine is given (true inflated sizes, the
grid it allocates, the strings it reserves room for), and the worst file they admit reads in about a second in
under 200 MB (benchmarks/bench_returns.py). Those bounds are reasoned, not enforced: calamine is native code, and
an allocation it cannot make aborts the whole process, whatever Python catches. A service that reads files from
strangers therefore reads them here: a worker process whose address space is capped (RLIMIT_AS), a timeout per
file, and a fresh worker after any failure. The worker lives across files, so the cost per file is about 1 ms
(one round trip of the bytes and the parsed return); starting it (a fresh interpreter running bot/workbooks/reader_worker.py) costs about 0.2 s, once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType

from bot.workbooks.reader_worker import refusal
from kpi_core.returns.model import ParsedReturn
from kpi_core.returns.safety import Limits

GIB = 1024 * 1024 * 1024
STARTUP_SECONDS = 60.0
PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the folder holding `bot/` and `kpi_core/`


class IsolatedReader:
    """`read_return` in a worker process: `read(data, filename)` always answers with a ParsedReturn."""

    def __init__(self, *, limits: Limits | None = None, memory_bytes: int = 2 * GIB,
                 timeout_seconds: float = 30.0) -> None:
        self.limits = limits or Limits()
        self.memory_bytes = memory_bytes
        self.timeout_seconds = timeout_seconds
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None

    def read(self, data: bytes, filename: str) -> ParsedReturn:
        """Read one file; a worker that runs out of time or dies becomes a finding, and is replaced."""
        conn = self._worker()
        try:
            conn.send((data, filename, self.limits))
            if not conn.poll(self.timeout_seconds):
                self._stop(kill=True)
                return refusal(filename, "time", f"reading it took longer than {self.timeout_seconds:g} seconds")
            return conn.recv()  # type: ignore[no-any-return]
        except (EOFError, OSError):  # the worker died: an allocation it could not make, or a crash
            self._stop(kill=True)
            return refusal(filename, "memory", "reading it needed more memory than kpibot allows for one file")

    def close(self) -> None:
        self._stop(kill=False)

    def __enter__(self) -> "IsolatedReader":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def _worker(self) -> Connection:
        if self._process is None or self._process.poll() is not None or self._conn is None:
            self._stop(kill=True)
            # A fresh interpreter running a small module (not fork: the bot has threads, and forking a threaded
            # process is unsafe; not multiprocessing's spawn, which would import the whole command line again).
            parent, child = Pipe()
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(
                [str(PACKAGE_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
            self._process = subprocess.Popen(
                [sys.executable, "-m", "bot.workbooks.reader_worker", str(child.fileno()), str(self.memory_bytes)],
                pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, env=env)
            child.close()
            # Starting takes about 0.2 s (imports): wait for it here, so a file's time limit is its own.
            try:
                ready = parent.poll(STARTUP_SECONDS) and parent.recv() == "ready"
            except (EOFError, OSError):
                ready = False
            if not ready:
                parent.close()
                self._stop(kill=True)
                raise RuntimeError("the return reader process did not start")
            self._conn = parent
        return self._conn

    def _stop(self, kill: bool) -> None:
        if self._conn is not None:
            try:
                if not kill:
                    self._conn.send(None)
            except OSError:
                pass
            self._conn.close()
        if self._process is not None:
            if kill:
                self._process.kill()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process, self._conn = None, None

