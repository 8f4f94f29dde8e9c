"""Work done in a separate, long-lived worker process with a memory cap and a time limit per request.

Reading a stranger's workbook (calamine, native code) and laying out a PDF (WeasyPrint) can each take more memory
or time than any check can promise in advance. Both run here: a fresh interpreter running a small module (not
fork: the service has threads, and forking a threaded process is unsafe; not multiprocessing's spawn, which would
import the whole command line again), its address space capped (RLIMIT_AS), no core files, one request at a time
over a pipe, and a fresh worker after any failure. The worker lives across requests, so a request costs one round
trip of its bytes; starting costs a fraction of a second, once.

A worker module defines `handle(request) -> answer` and ends with `if __name__ == "__main__": serve_forever(handle)`.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Literal

GIB = 1024 * 1024 * 1024
STARTUP_SECONDS = 60.0
PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # the folder holding `bot/` and `kpi_core/`
Outcome = Literal["ok", "time", "died"]


class IsolatedWorker:
    """Requests to a worker process, one at a time (callers in several threads take turns)."""

    def __init__(self, module: str, *, memory_bytes: int, timeout_seconds: float) -> None:
        self.module = module
        self.memory_bytes = memory_bytes
        self.timeout_seconds = timeout_seconds
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def call(self, request: object) -> tuple[Outcome, object]:
        """("ok", answer); ("time", None) when it took too long; ("died", None) when the worker died (an
        allocation beyond the cap, a crash). Either fault replaces the worker."""
        with self._lock:
            deadline = self.send(request)
            return self.receive(deadline) if deadline is not None else ("died", None)

    @property
    def pid(self) -> int | None:
        """The worker's process id while it runs (benchmarks read its CPU time from /proc)."""
        return self._process.pid if self._process is not None and self._process.poll() is None else None

    @property
    def lock(self) -> threading.Lock:
        """Held around `send` and `receive` by a caller that pipelines requests (one in the worker at a time)."""
        return self._lock

    def send(self, request: object) -> float | None:
        """Hand the worker a request and return the monotonic time by which its answer is due, or None when the
        worker died taking it (it is replaced). The caller holds `lock` and calls `receive` before sending again."""
        conn = self._worker()
        try:
            conn.send(request)
        except OSError:
            self._stop(kill=True)
            return None
        return time.monotonic() + self.timeout_seconds

    def receive(self, deadline: float) -> tuple[Outcome, object]:
        """The answer to the request sent last, waiting at most until `deadline` (see `call`)."""
        conn = self._conn
        if conn is None:
            return "died", None
        try:
            if not conn.poll(max(0.0, deadline - time.monotonic())):
                self._stop(kill=True)
                return "time", None
            return "ok", conn.recv()
        except (EOFError, OSError):
            self._stop(kill=True)
            return "died", None

    def start(self) -> None:
        """Start the worker now (it otherwise starts with the first request), so the first file waits for nothing."""
        with self._lock:
            self._worker()

    def close(self) -> None:
        with self._lock:
            self._stop(kill=False)

    def _worker(self) -> Connection:
        if self._process is None or self._process.poll() is not None or self._conn is None:
            self._stop(kill=True)
            parent, child = Pipe()
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(
                [str(PACKAGE_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
            self._process = subprocess.Popen(
                [sys.executable, "-m", self.module, str(child.fileno()), str(self.memory_bytes)],
                pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, env=env)
            child.close()
            # Wait for its imports here, so a request's time limit is its own.
            try:
                ready = parent.poll(STARTUP_SECONDS) and parent.recv() == "ready"
            except (EOFError, OSError):
                ready = False
            if not ready:
                parent.close()
                self._stop(kill=True)
                raise RuntimeError(f"the worker process {self.module} did not start")
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


def serve_forever(handle: Callable[[object], object]) -> None:
    """The worker's side (`python -m MODULE FD MEMORY_BYTES`): cap the address space, then answer requests until
    told to stop (None) or the parent goes away. `handle` answers each request; its faults are its own to turn
    into answers, except running out of memory, which ends the worker."""
    conn, memory_bytes = Connection(int(sys.argv[1])), int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # A worker that dies of a failed allocation must not leave a core file of its whole address space behind
    # (writing one took 40 s where core dumps are on).
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    conn.send("ready")
    while True:
        try:
            request = conn.recv()
        except EOFError:  # the parent went away without saying goodbye
            return
        if request is None:
            return
        try:
            answer = handle(request)
        except MemoryError:
            return  # the parent sees the worker die and starts a fresh one
        conn.send(answer)
