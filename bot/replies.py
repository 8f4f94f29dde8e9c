"""Replies the intake sends back on the channel a return came in on: the scored summary with its PDF report, or
why the file could not be scored."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.reports import ReturnReport, render_return_report
from bot.reports.chat import email_text, telegram_text
from kpi_core.findings import Finding

log = logging.getLogger(__name__)

MAX_FINDINGS = 25


@dataclass(frozen=True)
class Reply:
    subject: str
    text: str
    attachment: bytes | None = None
    attachment_name: str | None = None


def assessed(channel: str, report: ReturnReport, attach_pdf: bool = True) -> Reply:
    """The reply to a return that was read and scored: the channel's summary and (unless turned off) the PDF.

    A report that fails to render must not lose the reply: the summary goes out alone and the fault is logged.
    """
    pdf: bytes | None = None
    try:
        pdf = render_return_report(report) if attach_pdf else None
    except Exception:  # noqa: BLE001 - WeasyPrint faults are not the provider's problem
        log.exception("rendering the return report for %s %s failed", report.contract_id, report.period_id)
    name = f"{report.contract_id}-{report.period_id}-v{report.version}.pdf"
    if channel == "telegram":
        return Reply("", telegram_text(report), pdf, name)
    subject, body = email_text(report, attached=pdf is not None)
    return Reply(subject, body, pdf, name)


def _findings(findings: list[Finding] | tuple[Finding, ...]) -> list[str]:
    ordered = sorted(findings, key=lambda f: not f.is_error)
    lines = [f"- {f.text()}" for f in ordered[:MAX_FINDINGS]]
    if len(ordered) > MAX_FINDINGS:
        lines.append(f"- ... and {len(ordered) - MAX_FINDINGS} more.")
    return lines


def refusal(filename: str, findings: list[Finding]) -> str:
    return "\n".join([f"❌ {filename} was not accepted:"] + _findings(findings))


def unknown_sender(channel: str, sender: str) -> str:
    where = "Telegram chat id" if channel == "telegram" else "address"
    return (f"Your {where} ({sender}) is not registered with kpibot, so your file was kept but not processed. "
            "Ask your commissioner to add you as a contact, then send it again.")


def failure(filename: str) -> str:
    return (f"⚠️ {filename} was received and kept safely, but kpibot could not process it because of a fault on our "
            "side. The fault is recorded for the kpibot administrators; you do not need to send it again.")
