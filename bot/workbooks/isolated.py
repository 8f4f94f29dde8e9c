"""Read received return files in a separate, long-lived process with a memory cap and a time limit per file.

The checks in kpi_core/returns/safety.py and sheetxml.py bound what calamine is given (true inflated sizes, the
grid it allocates, the strings it reserves room for), and the worst file they admit reads in about a second in
under 200 MB (benchmarks/bench_returns.py). Those bounds are reasoned, not enforced: calamine is native code, and
an allocation it cannot make aborts the whole process, whatever Python catches. A service that reads files from
strangers therefore reads them here: a worker process whose address space is capped (RLIMIT_AS), a timeout per
file, and a fresh worker after any failure. The worker lives across files, so the cost per file is about 1 ms
(one round trip of the bytes and the parsed return); starting it costs about 0.4 s, once.
"""

from __future__ import annotations

import multiprocessing
import resource
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType

from kpi_core.findings import Finding
from kpi_core.returns.model import ParsedReturn
from kpi_core.returns.reader import read_return
from kpi_core.returns.safety import Limits

GIB = 1024 * 1024 * 1024
STARTUP_SECONDS = 60.0


def _serve(conn: Connection, memory_bytes: int) -> None:
    """The worker: cap the address space, then read files until told to stop (None)."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    conn.send("ready")
    while True:
        try:
            request = conn.recv()
        except EOFError:  # the parent went away without saying goodbye
            return
        if request is None:
            return
        data, filename, limits = request
        try:
            conn.send(read_return(data, filename, limits=limits))
        except MemoryError:
            conn.send(_refusal(filename, "memory", "reading it needed more memory than kpibot allows for one file"))
        except Exception as exc:  # noqa: BLE001 - read_return answers with findings; a bug must not kill the worker
            conn.send(_refusal(filename, "error", f"kpibot could not read it ({type(exc).__name__}: {exc})"))


class IsolatedReader:
    """`read_return` in a worker process: `read(data, filename)` always answers with a ParsedReturn."""

    def __init__(self, *, limits: Limits | None = None, memory_bytes: int = 2 * GIB,
                 timeout_seconds: float = 30.0) -> None:
        self.limits = limits or Limits()
        self.memory_bytes = memory_bytes
        self.timeout_seconds = timeout_seconds
        # spawn, not fork: the bot has threads (scheduler, HTTP client), and forking a threaded process is unsafe.
        self._context = multiprocessing.get_context("spawn")
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None

    def read(self, data: bytes, filename: str) -> ParsedReturn:
        """Read one file; a worker that runs out of time or dies becomes a finding, and is replaced."""
        conn = self._worker()
        try:
            conn.send((data, filename, self.limits))
            if not conn.poll(self.timeout_seconds):
                self._stop(kill=True)
                return _refusal(filename, "time", f"reading it took longer than {self.timeout_seconds:g} seconds")
            return conn.recv()  # type: ignore[no-any-return]
        except (EOFError, OSError):  # the worker died: an allocation it could not make, or a crash
            self._stop(kill=True)
            return _refusal(filename, "memory", "reading it needed more memory than kpibot allows for one file")

    def close(self) -> None:
        self._stop(kill=False)

    def __enter__(self) -> "IsolatedReader":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def _worker(self) -> Connection:
        if self._process is None or not self._process.is_alive() or self._conn is None:
            self._stop(kill=True)
            parent, child = self._context.Pipe()
            self._process = self._context.Process(target=_serve, args=(child, self.memory_bytes), daemon=True,
                                                  name="kpibot-return-reader")
            self._process.start()
            child.close()
            # Starting takes about 0.4 s (imports): wait for it here, so a file's time limit is its own.
            if not parent.poll(STARTUP_SECONDS) or parent.recv() != "ready":
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
            self._process.join(timeout=5)
        self._process, self._conn = None, None


def _refusal(filename: str, what: str, why: str) -> ParsedReturn:
    code = {"time": "too_slow_to_read", "memory": "too_big_to_read"}.get(what, "unreadable")
    return ParsedReturn(source=filename, format="xlsx", findings=[Finding(
        "error", code, f"{filename} was refused: {why}",
        fix="Send the return workbook as kpibot made it (or a CSV file), without extra sheets or pictures.")])
