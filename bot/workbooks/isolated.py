"""Read received return files in a worker process with a memory cap and a time limit per file (bot/processes/isolation.py).

calamine is native code: an allocation it cannot make aborts the whole process, whatever Python catches. A service
that reads files from strangers therefore reads them in bot/workbooks/reader_worker.py, and because the worker's
memory and time are capped there, it reads with cheap bounds (kpi_core/returns/bounds.py): the zip directory's
sizes and ratios, every part's true size, and the extent each sheet declares, checked again against the grid
calamine built. The worst file those bounds admit reads in about a second in under 200 MB
(benchmarks/bench_returns.py).

A sheet can declare a small extent and hold a cell far beyond it. calamine then asks for more memory than the cap
allows and the worker dies; the file is read once more, in a fresh worker, walking every sheet's XML first (as
outside a cap), which names the sheet and cell at fault (tests/corpus/far_cell_quoted.xlsx). Only when that fails
too is the answer that the file needed more memory, or time, than kpibot allows.

`read_ahead` lets a caller that already holds the next file have it read while it saves the current one: the
worker reads it on its own core, and `read` collects the answer.
"""

from __future__ import annotations

from collections import deque
from types import TracebackType

from bot.processes.isolation import GIB, IsolatedWorker, Outcome
from bot.workbooks.reader_worker import refusal
from bot.workbooks.wire import unpack
from kpi_core.returns.model import ParsedReturn
from kpi_core.returns.safety import Limits

Answer = tuple[Outcome, object]


class IsolatedReader:
    """`read_return` in a worker process: `read(data, filename)` always answers with a ParsedReturn, and may be
    called from several threads (they take turns)."""

    def __init__(self, *, limits: Limits | None = None, memory_bytes: int = 2 * GIB,
                 timeout_seconds: float = 30.0, ahead: int = 4) -> None:
        self.limits = limits or Limits()
        self.timeout_seconds = timeout_seconds
        self.ahead = ahead
        self._worker = IsolatedWorker("bot.workbooks.reader_worker", memory_bytes=memory_bytes,
                                      timeout_seconds=timeout_seconds)
        self._waiting: deque[tuple[bytes, str]] = deque()  # asked for ahead, not yet sent
        self._reading: tuple[bytes, str, float] | None = None  # in the worker now, with its deadline
        self._done: deque[tuple[bytes, str, Answer]] = deque()  # answered ahead, not yet collected

    def start(self) -> None:
        """Start the worker now rather than with the first file (a service calls this as it starts)."""
        self._worker.start()

    def read(self, data: bytes, filename: str) -> ParsedReturn:
        """Read one file; a worker that runs out of time or dies becomes a finding, and is replaced."""
        with self._worker.lock:
            outcome, answer = self._answer(data, filename)
            if outcome == "died":  # the cheap bounds let it through and the cap stopped it: walk it to say why
                outcome, answer = self._ask(data, filename, capped=False)
            self._next()  # the next file asked for ahead is read while the caller saves this one
        if outcome == "time":
            return refusal(filename, "time", f"reading it took longer than {self.timeout_seconds:g} seconds")
        if outcome == "died":
            return refusal(filename, "memory", "reading it needed more memory than kpibot allows for one file")
        return unpack(answer)  # type: ignore[arg-type]

    def read_ahead(self, data: bytes, filename: str) -> None:
        """Start reading a file that `read(data, filename)` will be asked for next (pass the same name), so the
        worker reads it while this process saves the one before. At most `ahead` files wait; beyond that this
        does nothing and `read` reads the file when asked."""
        with self._worker.lock:
            if len(self._waiting) + len(self._done) + (self._reading is not None) >= self.ahead:
                return
            self._waiting.append((data, filename))
            self._next()

    def close(self) -> None:
        with self._worker.lock:
            self._waiting.clear()
            self._done.clear()
            self._reading = None
        self._worker.close()

    def __enter__(self) -> "IsolatedReader":
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # -- with the worker's lock held -------------------------------------------------------------------------

    def _answer(self, data: bytes, filename: str) -> Answer:
        """The capped read of this file: answered ahead, in the worker now, or asked for now."""
        while True:
            for n, (done_data, done_name, answer) in enumerate(self._done):
                if _same(done_data, done_name, data, filename):
                    del self._done[n]
                    return answer
            if self._reading is None:
                break
            reading_data, reading_name, deadline = self._reading
            self._reading = None
            answer = self._worker.receive(deadline)
            if _same(reading_data, reading_name, data, filename):
                return answer
            self._done.append((reading_data, reading_name, answer))
            while len(self._done) > self.ahead:  # answers nobody asked for after all
                self._done.popleft()
        for n, (waiting_data, waiting_name) in enumerate(self._waiting):
            if _same(waiting_data, waiting_name, data, filename):
                del self._waiting[n]
                break
        return self._ask(data, filename, capped=True)

    def _ask(self, data: bytes, filename: str, capped: bool) -> Answer:
        deadline = self._worker.send(self._request(data, filename, capped))
        return ("died", None) if deadline is None else self._worker.receive(deadline)

    def _next(self) -> None:
        """Send the next file waiting, if the worker is idle."""
        if self._reading is not None or not self._waiting:
            return
        data, filename = self._waiting.popleft()
        deadline = self._worker.send(self._request(data, filename, capped=True))
        if deadline is None:
            self._done.append((data, filename, ("died", None)))
        else:
            self._reading = (data, filename, deadline)

    def _request(self, data: bytes, filename: str, capped: bool) -> tuple[bytes, str, Limits, bool]:
        return data, filename, self.limits, capped


def _same(data: bytes, filename: str, other_data: bytes, other_filename: str) -> bool:
    return filename == other_filename and (data is other_data or data == other_data)

