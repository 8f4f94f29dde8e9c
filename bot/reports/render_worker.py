"""The PDF renderer's worker process (see bot/processes/isolation.py): `python -m bot.reports.render_worker FD MEMORY`.

WeasyPrint lays out one report at a time here, with the report's own drawings; only templates/ can be fetched.
"""

from __future__ import annotations


def handle(request: object) -> tuple[str, object]:
    """(html, drawings by URL) -> ("pdf", bytes) or ("error", why)."""
    from bot.reports.pdf import Drawings, TemplatesOnlyFetcher, html_to_pdf

    assert isinstance(request, tuple) and len(request) == 2
    html, served = request
    drawings = Drawings()
    drawings.served = dict(served)
    try:
        return "pdf", html_to_pdf(html, fetcher=TemplatesOnlyFetcher(drawings=drawings))
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - a layout fault is the job's, not the worker's
        return "error", f"{type(exc).__name__}: {exc}"


if __name__ == "__main__":
    import weasyprint  # noqa: F401 - loaded before "ready", so a report's time limit is its own

    from bot.processes.isolation import serve_forever

    serve_forever(handle)
