"""Read received return files in a worker process with a memory cap and a time limit per file (bot/processes/isolation.py).

The checks in kpi_core/returns/safety.py and sheetxml.py bound what calamine is given (true inflated sizes, the
grid it allocates, the strings it reserves room for), and the worst file they admit reads in about a second in
under 200 MB (benchmarks/bench_returns.py). Those bounds are reasoned, not enforced: calamine is native code, and
an allocation it cannot make aborts the whole process, whatever Python catches. A service that reads files from
strangers therefore reads them in bot/workbooks/reader_worker.py.
"""

from __future__ import annotations

from types import TracebackType

from bot.processes.isolation import GIB, IsolatedWorker
from bot.workbooks.reader_worker import refusal
from kpi_core.returns.model import ParsedReturn
from kpi_core.returns.safety import Limits


class IsolatedReader:
    """`read_return` in a worker process: `read(data, filename)` always answers with a ParsedReturn, and may be
    called from several threads (they take turns)."""

    def __init__(self, *, limits: Limits | None = None, memory_bytes: int = 2 * GIB,
                 timeout_seconds: float = 30.0) -> None:
        self.limits = limits or Limits()
        self.timeout_seconds = timeout_seconds
        self._worker = IsolatedWorker("bot.workbooks.reader_worker", memory_bytes=memory_bytes,
                                      timeout_seconds=timeout_seconds)

    def read(self, data: bytes, filename: str) -> ParsedReturn:
        """Read one file; a worker that runs out of time or dies becomes a finding, and is replaced."""
        outcome, answer = self._worker.call((data, filename, self.limits))
        if outcome == "time":
            return refusal(filename, "time", f"reading it took longer than {self.timeout_seconds:g} seconds")
        if outcome == "died":
            return refusal(filename, "memory", "reading it needed more memory than kpibot allows for one file")
        assert isinstance(answer, ParsedReturn)
        return answer

    def close(self) -> None:
        self._worker.close()

    def __enter__(self) -> "IsolatedReader":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
