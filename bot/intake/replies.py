"""Replies the intake sends back on the channel a return came in on: the scored summary (its PDF report follows
from the render queue), or why the file could not be scored."""

from __future__ import annotations

from dataclasses import dataclass

from bot.reports.chat import email_texts, named_in_summary, telegram_text
from bot.reports.context import ReturnMeta, ReturnReport, build_return_report
from kpi_core.assess import Assessment
from kpi_core.findings import Finding

MAX_FINDINGS = 25


@dataclass(frozen=True)
class Reply:
    subject: str
    text: str
    fallback_text: str | None = None  # the same without promising the PDF, if drawing it fails for good
    attachment_name: str | None = None  # the PDF report's name, when one will be drawn
    summary: str = ""  # the return as the council's reviewers see it in Telegram, critical failures first


def report_name(contract_id: str, period_id: str, version: str) -> str:
    return f"{contract_id}-{period_id}-v{version}.pdf"


def assessed(channel: str, report: ReturnReport, with_pdf: bool = True, review_note: str = "") -> Reply:
    """The reply to a return that was read and scored: the channel's summary, saying whether the PDF report
    comes with it (email) or after it (Telegram: the document follows the summary), and what the council's
    review of it means (`review_note`). Its `summary` is the council's copy, for review."""
    name = report_name(report.contract_id, report.period_id, report.version) if with_pdf else None
    summary = review_summary(report)
    if channel == "telegram":
        return Reply("", telegram_text(report, review_note), None, name, summary)
    subject, attached, plain = email_texts(report, review_note)
    # With the PDF, the body without it is the fallback, if drawing it fails for good.
    return Reply(subject, attached, plain, name, summary) if with_pdf else Reply(subject, plain, None, name, summary)


def for_return(channel: str, meta: ReturnMeta, assessment: Assessment, zone: str, with_pdf: bool,
               review_note: str = "") -> Reply:
    """The reply to a scored return, from its assessment (see `assessed`)."""
    # The summary shows no charts and prints the rows of only some indicators: no trend is scored and no other
    # row built on the submit path (the PDF, drawn later, has them all).
    report = build_return_report(assessment, meta, timezone=zone, charts=False, only=named_in_summary)
    return assessed(channel, report, with_pdf, review_note)


def review_summary(report: ReturnReport) -> str:
    """The return as a commissioner reviews it in Telegram: its critical failures first, then the summary."""
    critical = [f"⛔ Critical failure: {row.ref} {row.name}: {row.judged}" for section in report.sections
                for row in section.rows if row.critical_failure]
    return "\n".join([*critical, *([""] if critical else []), telegram_text(report)])


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


def report_missing(contract_name: str, period_label: str) -> str:
    return (f"The PDF report for {contract_name}, {period_label} could not be drawn; the summary above stands. "
            "kpibot's administrators have been told.")


def already_received(filename: str, version: int, received_at_text: str) -> str:
    return (f"{filename} is identical to version {version} of this return, received {received_at_text}: it was "
            "already received and checked, so nothing has changed. Send a corrected file to make a new version.")


def overtaken(filename: str, received_at: str, what: str, newer_at: str, newer_version: int,
              in_force: tuple[int, str] | None) -> str:
    """A return that finished after a later one of the same return was saved: not applied (versions follow the
    order kpibot received them in), and which version stands."""
    standing = (f"Version {in_force[0]}, received {in_force[1]}, is the one in force." if in_force else
                f"No version of it is in force: version {newer_version} was not accepted.")
    return (f"{filename}, received {received_at}, was not applied: a newer return for {what} arrived after it "
            f"({newer_at}) and was saved first, as version {newer_version}. {standing} Nothing in this file was "
            "counted. If it holds the figures you mean, send it again: it will then be the newest version.")


def fetch_later(filename: str) -> str:
    return (f"{filename} could not be downloaded from Telegram yet. It is recorded: kpibot keeps trying, and answers "
            "as soon as it has the file. You do not need to send it again.")


def still_processing(filename: str) -> str:
    return f"{filename} is already being checked; the answer will follow shortly."


def failure(filename: str) -> str:
    return (f"⚠️ {filename} was received and kept safely, but kpibot could not process it because of a fault on our "
            "side. The fault is recorded for the kpibot administrators; you do not need to send it again.")
