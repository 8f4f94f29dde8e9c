"""Chat summaries of a scored return: Telegram (emoji and word, red first, within 4096) and plain-text email."""

from __future__ import annotations

from decimal import Decimal
from functools import cache

import pytest

from bot.reports.chat import (
    TELEGRAM_LIMIT,
    chat_summary,
    email_text,
    email_texts,
    length,
    split_message,
    telegram_messages,
)
from bot.reports.context import ReturnMeta, ReturnReport, build_return_report
from bot.reports.samples import sample_year
from kpi_core import loader
from kpi_core.assess import assess
from kpi_core.calendar import ReportingYear, parse_period
from kpi_core.returns.csv_long import parse_csv

FRAMEWORKS = sorted(loader.shipped())


@cache
def report_for(framework_id: str, level: float = 0.6) -> ReturnReport:
    framework = loader.get(framework_id)
    spec = next(r for r in framework.returns.values() if r.frequency != "annual")
    period = ReportingYear.starting(2025, framework.calendar.year_start_month).periods(spec.frequency)[1]
    data, history = sample_year(framework, period, level=level)
    result = assess(framework, period, parse_csv(data, "return.csv"), history=history, contract_value=Decimal(500000))
    return build_return_report(result, ReturnMeta(framework_id, framework.name, "Breathe Easy CIC", on_time=True))


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_the_telegram_summary_lists_red_before_amber_with_emoji_and_word(framework_id: str) -> None:
    report = report_for(framework_id)
    text = "\n".join(telegram_messages(report))
    attention = chat_summary(report).attention
    assert [r.ref for r in attention] == [r.ref for r in report.attention if r.status.key in ("red", "amber")]
    positions = {row.ref: text.index(f"{row.status.emoji} {row.status.word}{' (?)' if row.low_confidence else ''} "
                                     f"{row.ref} ") for row in attention}
    reds = [positions[r.ref] for r in attention if r.status.key == "red"]
    ambers = [positions[r.ref] for r in attention if r.status.key == "amber"]
    assert reds and (not ambers or max(reds) < min(ambers))
    for row in attention:
        assert f"{row.judged}" in text and row.gap in text
    no_data = [r.ref for r in report.attention if r.status.key == "no_data"]
    if no_data:
        assert f"⚪ No data: {', '.join(no_data)}" in text


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_every_telegram_message_fits_the_4096_limit(framework_id: str) -> None:
    messages = telegram_messages(report_for(framework_id))
    assert all(length(m) <= TELEGRAM_LIMIT for m in messages)
    heading = messages[0].splitlines()[0 if len(messages) == 1 else 1]
    assert heading == f"✅ {loader.get(framework_id).name}"


def test_a_long_summary_is_split_into_numbered_messages_that_keep_every_line() -> None:
    report = report_for("lifestyle", level=0.3)
    whole = "\n".join(telegram_messages(report, limit=100_000))
    messages = telegram_messages(report, limit=1500)
    assert len(messages) > 1
    assert all(length(m) <= 1500 for m in messages)
    assert [m.splitlines()[0] for m in messages] == [f"({i}/{len(messages)})" for i in range(1, len(messages) + 1)]
    rejoined = [line for m in messages for line in m.splitlines()[1:] if line]
    assert rejoined == [line for line in whole.splitlines() if line]
    # An indicator's two lines stay together in one message.
    for row in chat_summary(report).attention:
        holder = next(m for m in messages if f" {row.ref} {row.name}" in m)
        assert row.gap in holder


def test_counts_in_the_summary_match_the_scorecard() -> None:
    report = report_for("ch-stop-smoking")
    first_lines = telegram_messages(report)[0].splitlines()[:5]
    counts = " · ".join(f"{c.status.emoji} {c.count} {c.status.word.lower()}" for c in report.counts)
    assert counts in first_lines


@pytest.mark.parametrize(("text", "limit", "parts"), [
    ("short", 4096, 1),
    ("\n\n".join(f"paragraph {i} " + "x" * 80 for i in range(100)), 4096, 3),
    ("\n".join(f"line {i} " + "y" * 50 for i in range(200)), 1000, 13),  # one paragraph: cut between lines
    (" ".join(["word"] * 3000), 4096, 4),  # one line: cut between words
    ("z" * 9000, 4096, 3),  # one word: cut where it must be
    ("🔴" * 3000, 4096, 2),  # an emoji counts as two UTF-16 units, as Telegram counts it
])
def test_split_message_keeps_each_part_within_the_limit(text: str, limit: int, parts: int) -> None:
    messages = split_message(text, limit)
    assert len(messages) == parts
    assert all(length(m) <= limit for m in messages)
    if parts > 1:
        bodies = [m.split("\n", 1)[1] for m in messages]
        assert "".join(bodies).replace("\n", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")


def test_a_paragraph_is_never_split_when_it_fits_a_message() -> None:
    paragraphs = [f"🔴 RED {i} indicator\n    value, target: gap" for i in range(300)]
    for message in split_message("\n\n".join(paragraphs), 4096):
        body = message.split("\n", 1)[1]
        assert all(p in paragraphs for p in body.split("\n\n"))


def test_the_email_is_plain_text_with_shapes_and_words_and_a_subject() -> None:
    report = report_for("ch-stop-smoking", level=0.4)  # a weak quarter: reds and ambers both
    subject, body = email_text(report)
    reds = sum(1 for r in report.attention if r.status.key == "red")
    assert reds
    assert subject.startswith(f"{loader.get('ch-stop-smoking').name}: quarterly monitoring return for")
    assert subject.endswith(f", {reds} red")
    assert "\n" not in subject
    assert "🔴" not in body and "■ RED" in body and "NEEDS ATTENTION (red first)" in body
    assert "▲ AMBER" not in body  # no amber band in this schedule: a near miss is red with its gap
    for payment in report.payments:
        assert f"{payment.name}: {payment.summary}" in body


def test_provider_text_reaches_chat_verbatim_as_plain_text() -> None:
    framework = loader.get("ch-stop-smoking")
    data = b'item,breakdown,value\n"<b>bold</b> & <a href=""x"">",,5\nquit_dates,,400\nquits_4wk,,210\n'
    result = assess(framework, parse_period("2025-26-Q1", 4), parse_csv(data, "q1.csv"))
    report = build_return_report(result, ReturnMeta("c", framework.name, "P"))
    text = "\n".join(telegram_messages(report))
    assert "'<b>bold</b> & <a href=\"x\">' is not a data item" in text  # not escaped: sent with no parse mode
    assert "❌ To fix before the return can be accepted:" in text
    _, body = email_text(report)
    assert "'<b>bold</b> & <a href=\"x\">' is not a data item" in body


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
@pytest.mark.parametrize("level", [0.4, 0.9])
def test_the_email_rendered_once_for_a_reply_is_the_email_with_and_without_the_pdf(framework_id: str,
                                                                                   level: float) -> None:
    report = report_for(framework_id, level)
    note = "It now waits for the council's review."
    subject, attached, plain = email_texts(report, note)
    assert (subject, attached) == email_text(report, attached=True, review_note=note)
    assert (subject, plain) == email_text(report, attached=False, review_note=note)
    assert attached != plain and attached.endswith("is in the attached PDF.\n")
