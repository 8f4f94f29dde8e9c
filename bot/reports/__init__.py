"""Reports: return reports, exception reports and action plans as PDF (Jinja2 + WeasyPrint), chat summaries as text.

Build a context (`build_return_report`, `build_exception_report`), then render it; templates live in `templates/`.
The names below load on first use (PEP 562), so a command that only builds or prints a context never imports
WeasyPrint, which takes longer to import than the rest of kpibot together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.lazy import exports

_HOMES = {
    "ReturnMeta": "context", "ReturnReport": "context", "build_return_report": "context",
    "ContractPeriodStatus": "exception_report", "DataKpi": "exception_report", "ExceptionReport": "exception_report",
    "build_exception_report": "exception_report", "OverdueReturn": "exception_report",
    "render_action_plans": "render", "render_exception_report": "render", "render_return_report": "render",
    "TrendPoint": "trends", "point_from_stored": "trends", "trends_from_history": "trends",
}

if TYPE_CHECKING:
    from bot.reports.context import ReturnMeta, ReturnReport, build_return_report
    from bot.reports.exception_report import (
        ContractPeriodStatus,
        DataKpi,
        ExceptionReport,
        OverdueReturn,
        build_exception_report,
    )
    from bot.reports.render import (
        render_action_plans,
        render_exception_report,
        render_return_report,
    )
    from bot.reports.trends import TrendPoint, point_from_stored, trends_from_history


__getattr__ = exports(__name__, _HOMES)

__all__ = sorted(_HOMES)
