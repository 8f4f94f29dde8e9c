"""Lay out PDFs in worker processes (bot/reports/render_worker.py): each report bounded in time and memory, and
several at once on a machine with several cores, so the render queue keeps up with a quarter-end burst."""

from __future__ import annotations

import queue

from bot.processes.isolation import IsolatedWorker


class RenderError(RuntimeError):
    """A report could not be laid out: too slow, too big, or a fault in the layout."""


class RenderPool:
    def __init__(self, workers: int = 2, memory_bytes: int = 1536 * 1024 * 1024,
                 timeout_seconds: float = 120.0) -> None:
        self.size = workers
        self.timeout_seconds = timeout_seconds
        self._all = [IsolatedWorker("bot.reports.render_worker", memory_bytes=memory_bytes,
                                    timeout_seconds=timeout_seconds) for _ in range(workers)]
        self._free: queue.Queue[IsolatedWorker] = queue.Queue()
        for worker in self._all:
            self._free.put(worker)

    def render(self, html: str, drawings: dict[str, bytes]) -> bytes:
        """The PDF of `html` (with its drawings, served by URL); waits for a free worker."""
        worker = self._free.get()
        try:
            outcome, answer = worker.call((html, drawings))
        finally:
            self._free.put(worker)
        if outcome == "time":
            raise RenderError(f"laying out the report took longer than {self.timeout_seconds:g} seconds")
        if outcome == "died":
            raise RenderError("laying out the report needed more memory than kpibot allows for one report")
        assert isinstance(answer, tuple) and len(answer) == 2  # render_worker.handle's answer
        kind, value = answer
        if kind != "pdf":
            raise RenderError(str(value))
        assert isinstance(value, bytes)
        return value

    def close(self) -> None:
        for worker in self._all:
            worker.close()
