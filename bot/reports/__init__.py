"""Reports: return reports, exception reports and action plans as PDF (Jinja2 + WeasyPrint), chat summaries as text.

Build a context (`build_return_report`, `build_exception_report`), then render it; templates live in `templates/`.
"""

from bot.reports.context import ReturnMeta, ReturnReport, build_return_report
from bot.reports.exception_report import ContractPeriodStatus, DataKpi, ExceptionReport, build_exception_report
from bot.reports.render import render_action_plans, render_exception_report, render_return_report
from bot.reports.trends import TrendPoint, point_from_stored, trends_from_history

__all__ = [
    "ContractPeriodStatus", "DataKpi", "ExceptionReport", "ReturnMeta", "ReturnReport", "TrendPoint",
    "build_exception_report", "build_return_report", "render_action_plans", "render_exception_report",
    "point_from_stored", "render_return_report", "trends_from_history",
]
