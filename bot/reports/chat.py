"""Short, scannable summaries of a scored return for Telegram and plain-text email.

Both are rendered from the same values as the PDF (a `ReturnReport`): a status is an emoji and a word in Telegram,
a shape and a word in email. Critical failures (and indicators at risk of an annual one) are named first, in the
subject too; then red, then amber. A rejected return is not judged: no colour, count or payment. Telegram refuses
messages over 4096 characters, so a long summary is split between paragraphs, else between lines. Messages are
plain text (send without a parse mode), so nothing a provider wrote can turn into markup.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.reports import display
from bot.reports.context import FindingView, IndicatorRow, ReturnReport
from bot.reports.payment_view import PaymentView
from bot.reports.status import StatusView
from bot.reports.templating import render_text
from kpi_core.results import IndicatorResult

TELEGRAM_LIMIT = 4096
PART_MARK = "({index}/{count})\n"
MAX_CHAT_WARNINGS = 5  # a chat stays scannable; the email and the PDF list every warning


@dataclass(frozen=True)
class ChatCount:
    status: StatusView
    count: int


@dataclass(frozen=True)
class ChatSummary:
    contract_name: str
    return_label: str
    period_label: str
    accepted: bool
    has_figures: bool  # False: nothing could be read, so nothing is judged or paid
    verdict: str
    verdict_detail: str
    timeliness: str  # `On time`, `Late: 3 days after the due date`, or '' when not judged
    counts: tuple[ChatCount, ...]
    critical: tuple[str, ...]  # each critical failure, said first (`IndicatorRow.critical_text`)
    at_risk: tuple[str, ...]  # each indicator heading past an annual critical failure level
    headline: str  # `1 critical failure, 8 red`, for the subject ('' when nothing is judged)
    attention: tuple[IndicatorRow, ...]  # red, then amber
    no_data: str  # refs that could not be judged, `1.3R, 2.1` or ''
    on_target: str  # `1.1, 1.4, 2.1` or ''
    part_payment: tuple[IndicatorRow, ...]  # payment tiers: past the minimum, short of the stretch target
    payments: tuple[PaymentView, ...]
    errors: tuple[FindingView, ...]  # every one: the provider must fix them all
    warnings: tuple[FindingView, ...]
    chat_warnings: tuple[FindingView, ...]  # the first few, for a chat message
    more_warnings: int  # how many the chat message leaves to the report
    uncertain: bool  # some colour is too uncertain to call (marked `(?)`)
    version_note: str  # `Version 2: it replaces the version sent before.`, or '' for a first version
    not_applicable: str  # indicators the contract's terms leave out, or ''
    review_note: str = ""  # what the council's review of it means now (bot/review/hooks.py), or ''


def named_in_summary(result: IndicatorResult) -> bool:
    """Does a summary print this indicator's row? Every one but those only reported (INFO) and those on target
    (GREEN, named by their ref alone), unless one is a critical failure or at risk of one (said first)."""
    return result.status not in ("info", "green") or result.judgement.critical_failure or result.judgement.at_risk


def chat_summary(report: ReturnReport, review_note: str = "") -> ChatSummary:
    """The values the message templates print; `review_note` says what the council's review of it means."""
    warnings = tuple(f for f in report.findings if not f.is_error)
    attention = tuple(r for r in report.attention if r.status.key in ("red", "amber"))
    return ChatSummary(
        contract_name=report.contract_name,
        return_label=report.return_label,
        period_label=report.period_label,
        accepted=report.accepted,
        has_figures=report.has_figures,
        verdict=report.verdict,
        verdict_detail=report.verdict_detail,
        timeliness="" if report.timeliness == display.lateness(None, None, None) else report.timeliness,
        counts=tuple(ChatCount(c.status, c.count) for c in report.counts),
        critical=tuple(r.critical_text for r in report.critical),
        at_risk=tuple(r.critical_text for r in report.at_risk),
        headline=headline(report),
        attention=attention,
        no_data=", ".join(r.ref for r in report.attention if r.status.key == "no_data"),
        on_target=", ".join(report.on_target_refs),
        part_payment=tuple(r for section in report.sections for r in section.rows if r.status.key == "part"),
        payments=report.payments,
        errors=tuple(f for f in report.findings if f.is_error),
        warnings=warnings,
        chat_warnings=warnings[:MAX_CHAT_WARNINGS],
        more_warnings=max(0, len(warnings) - MAX_CHAT_WARNINGS),
        uncertain=any(r.low_confidence for r in attention),
        version_note=_version_note(report),
        not_applicable=report.not_applicable,
        review_note=review_note,
    )


def headline(report: ReturnReport) -> str:
    """What a subject line says of the results: critical failures first, then those at risk, then reds; nothing
    for a rejected return, on which nothing is judged."""
    if not report.accepted:
        return ""
    red = sum(c.count for c in report.counts if c.status.key == "red")
    parts = [display.plural(len(report.critical), "critical failure") if report.critical else "",
             f"{len(report.at_risk)} at risk of critical failure" if report.at_risk else "",
             f"{red} red" if red else ""]
    return ", ".join(p for p in parts if p)


def _version_note(report: ReturnReport) -> str:
    if not report.version.isdigit() or report.version == "1":
        return ""
    if report.accepted:
        return f"Version {report.version}: it replaces the version sent before."
    return f"Version {report.version}: the version accepted before stays in force."


def telegram_text(report: ReturnReport, review_note: str = "") -> str:
    """The whole Telegram summary, before splitting."""
    return render_text("messages/return_summary.telegram.txt", s=chat_summary(report, review_note)).strip()


def telegram_messages(report: ReturnReport, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """The Telegram summary, split into messages of at most `limit` characters."""
    return split_message(telegram_text(report), limit)


def email_text(report: ReturnReport, attached: bool = True, review_note: str = "") -> tuple[str, str]:
    """(subject, plain-text body) of the summary email; `attached` says the PDF report goes with it."""
    subject, with_pdf, plain = email_texts(report, review_note)
    return subject, with_pdf if attached else plain


def email_texts(report: ReturnReport, review_note: str = "") -> tuple[str, str, str]:
    """(subject, body saying the PDF report is attached, the same body without it), the summary rendered once
    (the reply to a return sends the first and keeps the second in case the PDF cannot be drawn). The attached
    body is the other with its last paragraph (return_summary.email-attached.txt) added."""
    summary = chat_summary(report, review_note)
    subject = render_text("messages/return_summary.email-subject.txt", s=summary)
    plain = render_text("messages/return_summary.email.txt", s=summary).strip() + "\n"
    attached = plain + "\n" + render_text("messages/return_summary.email-attached.txt").strip() + "\n"
    return " ".join(subject.split()), attached, plain


def length(text: str) -> int:
    """Telegram's length of a text: UTF-16 code units, so an emoji outside the BMP counts twice."""
    return len(text.encode("utf-16-le")) // 2


def split_message(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split `text` into parts of at most `limit` (UTF-16 units): between paragraphs if possible, else between
    lines, else between words. Parts are numbered `(1/3)` when there is more than one."""
    if length(text) <= limit:
        return [text]
    room = limit - length(PART_MARK.format(index=99, count=99))
    parts: list[str] = []
    for piece in _pieces(text, room):
        candidate = f"{parts[-1]}\n\n{piece}" if parts else piece
        if parts and length(candidate) <= room:
            parts[-1] = candidate
        else:
            parts.append(piece)
    return [PART_MARK.format(index=i, count=len(parts)) + part for i, part in enumerate(parts, start=1)]


def _pieces(text: str, room: int) -> list[str]:
    """Paragraphs no longer than `room`; a longer paragraph is cut between lines, a longer line between words."""
    pieces: list[str] = []
    for paragraph in text.split("\n\n"):
        if length(paragraph) <= room:
            pieces.append(paragraph)
            continue
        block = ""
        for line in paragraph.split("\n"):
            for chunk in _cut_line(line, room):
                candidate = f"{block}\n{chunk}" if block else chunk
                if length(candidate) <= room:
                    block = candidate
                else:
                    pieces.append(block)
                    block = chunk
        if block:
            pieces.append(block)
    return [p for p in pieces if p.strip()]


def _cut_line(line: str, room: int) -> list[str]:
    if length(line) <= room:
        return [line]
    chunks, current = [], ""
    for word in line.split(" "):
        while length(word) > room:  # a single word longer than a message: cut it
            head, word = _take(word, room)
            if current:
                chunks.append(current)
                current = ""
            chunks.append(head)
        candidate = f"{current} {word}" if current else word
        if length(candidate) <= room:
            current = candidate
        else:
            chunks.append(current)
            current = word
    if current:
        chunks.append(current)
    return chunks


def _take(word: str, room: int) -> tuple[str, str]:
    """The longest head of `word` within `room` UTF-16 units, and the rest."""
    end = len(word)
    while length(word[:end]) > room:
        end -= 1
    return word[:end], word[end:]
