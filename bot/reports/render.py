"""The public rendering calls: a context in, PDF bytes out."""

from __future__ import annotations

from bot.reports.action_plans import FORM
from bot.reports.context import ReturnReport
from bot.reports.exception_report import ExceptionReport
from bot.reports.pdf import Drawings, TemplatesOnlyFetcher, html_to_pdf, render_text


def return_report_html(ctx: ReturnReport, *, action_plans: bool = True, drawings: Drawings | None = None) -> str:
    return render_text("reports/return_report.html", for_print=True, report=ctx, drawings=drawings or Drawings(),
                       with_plans=action_plans and bool(ctx.action_plans), **FORM)


def render_return_report(ctx: ReturnReport, *, action_plans: bool = True) -> bytes:
    """The return report as PDF, with a draft action plan for each red indicator as an appendix unless told not."""
    drawings = Drawings()
    html = return_report_html(ctx, action_plans=action_plans, drawings=drawings)
    return html_to_pdf(html, fetcher=TemplatesOnlyFetcher(drawings=drawings))


def render_action_plans(ctx: ReturnReport) -> bytes:
    """Only the draft action plans of the report (one page per red indicator) as PDF, for the provider."""
    drawings = Drawings()
    html = render_text("reports/action_plans.html", for_print=True, report=ctx, drawings=drawings, **FORM)
    return html_to_pdf(html, fetcher=TemplatesOnlyFetcher(drawings=drawings))


def render_exception_report(ctx: ExceptionReport) -> bytes:
    """The commissioners' exception report for one period as PDF."""
    return html_to_pdf(render_text("reports/exception_report.html", for_print=True, report=ctx))
