"""The return reader's worker process (see bot/processes/isolation.py): `python -m bot.workbooks.reader_worker FD MEMORY`.

It imports only what reading a return needs (not the command line, SQLAlchemy or WeasyPrint), so it starts in a
fraction of a second and small, and it stays up between files: its caches (the sheets and cell formats of the
templates it has seen, the labels it has looked at for personal data) make every file after the first cheaper.
It reads inside the cap, so it trusts the extents sheets declare (`capped=True`, kpi_core/returns/bounds.py) unless
asked to walk every sheet first, and answers with plain tuples (bot/workbooks/wire.py).
"""

from __future__ import annotations

from bot.workbooks.wire import Packed, pack
from kpi_core.findings import Finding
from kpi_core.returns.model import ParsedReturn
from kpi_core.returns.reader import read_return

REFUSAL_FIX = "Send the return workbook as kpibot made it (or a CSV file), without extra sheets or pictures."


def refusal(filename: str, what: str, why: str) -> ParsedReturn:
    """The answer for a file the worker could not read: `what` is `time`, `memory` or anything else."""
    code = {"time": "too_slow_to_read", "memory": "too_big_to_read"}.get(what, "unreadable")
    return ParsedReturn(source=filename, format="xlsx", findings=[Finding(
        "error", code, f"{filename} was refused: {why}", fix=REFUSAL_FIX)])


def handle(request: object) -> Packed:
    """Answer `(data, filename, limits, capped)`, as IsolatedReader.read sends them, with the packed ParsedReturn."""
    assert isinstance(request, tuple) and len(request) == 4
    data, filename, limits, capped = request
    try:
        return pack(read_return(data, filename, limits=limits, capped=capped))
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - read_return answers with findings; a bug must not kill the worker
        return pack(refusal(filename, "error", f"kpibot could not read it ({type(exc).__name__}: {exc})"))


if __name__ == "__main__":
    from bot.processes.isolation import serve_forever

    serve_forever(handle)
