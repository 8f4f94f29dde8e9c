"""The return reader's worker process (see bot/processes/isolation.py): `python -m bot.workbooks.reader_worker FD MEMORY`.

It imports only what reading a return needs (not the command line, SQLAlchemy or WeasyPrint), so it starts in a
fraction of a second and small.
"""

from __future__ import annotations

from kpi_core.findings import Finding
from kpi_core.returns.model import ParsedReturn
from kpi_core.returns.reader import read_return

REFUSAL_FIX = "Send the return workbook as kpibot made it (or a CSV file), without extra sheets or pictures."


def refusal(filename: str, what: str, why: str) -> ParsedReturn:
    """The answer for a file the worker could not read: `what` is `time`, `memory` or anything else."""
    code = {"time": "too_slow_to_read", "memory": "too_big_to_read"}.get(what, "unreadable")
    return ParsedReturn(source=filename, format="xlsx", findings=[Finding(
        "error", code, f"{filename} was refused: {why}", fix=REFUSAL_FIX)])


def handle(request: object) -> ParsedReturn:
    """(data, filename, limits), as IsolatedReader.read sends them -> the return as read."""
    assert isinstance(request, tuple) and len(request) == 3
    data, filename, limits = request
    try:
        return read_return(data, filename, limits=limits)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - read_return answers with findings; a bug must not kill the worker
        return refusal(filename, "error", f"kpibot could not read it ({type(exc).__name__}: {exc})")


if __name__ == "__main__":
    from bot.processes.isolation import serve_forever

    serve_forever(handle)
