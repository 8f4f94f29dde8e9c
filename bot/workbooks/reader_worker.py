"""The return reader's worker process: `python -m bot.workbooks.reader_worker FD MEMORY_BYTES`.

bot/workbooks/isolated.py starts it with one end of a socket pair as FD. It imports only what reading a return
needs (not the command line, SQLAlchemy or WeasyPrint), so it starts in a fraction of a second and small.
"""

from __future__ import annotations

import resource
import sys
from multiprocessing.connection import Connection

from kpi_core.findings import Finding
from kpi_core.returns.model import ParsedReturn
from kpi_core.returns.reader import read_return

REFUSAL_FIX = "Send the return workbook as kpibot made it (or a CSV file), without extra sheets or pictures."


def refusal(filename: str, what: str, why: str) -> ParsedReturn:
    """The answer for a file the worker could not read: `what` is `time`, `memory` or anything else."""
    code = {"time": "too_slow_to_read", "memory": "too_big_to_read"}.get(what, "unreadable")
    return ParsedReturn(source=filename, format="xlsx", findings=[Finding(
        "error", code, f"{filename} was refused: {why}", fix=REFUSAL_FIX)])


def serve(conn: Connection, memory_bytes: int) -> None:
    """Cap the address space, then read files until told to stop (None) or the parent goes away."""
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
        data, filename, limits = request
        try:
            conn.send(read_return(data, filename, limits=limits))
        except MemoryError:
            conn.send(refusal(filename, "memory", "reading it needed more memory than kpibot allows for one file"))
        except Exception as exc:  # noqa: BLE001 - read_return answers with findings; a bug must not kill the worker
            conn.send(refusal(filename, "error", f"kpibot could not read it ({type(exc).__name__}: {exc})"))


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), int(sys.argv[2]))
