"""Cards without a network: the stored card and its text, the Adaptive Card drawn from it, and how a long one is
shortened to fit Teams' 28 KB, checked against the Adaptive Card 1.5 schema."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fuzzing import fuzz
from hypothesis import given
from hypothesis import strategies as st
from teams_fixtures import assert_valid_message, texts

from bot.channels.teams import cards
from bot.outbox.card import CARD, SEE_REPORT, Card, Count, Section, section
from bot.outbox.transport import Outbound
from jobs.cards import BUILDERS

FULL = Card("Exception report: quarterly returns due 15 October 2025 (1 late, 2 red)",
            "2 red or amber indicators · 1 missing or late return · 1 critical failure",
            counts=(Count("red", "■ RED", 2), Count("amber", "▲ AMBER", 1), Count("green", "● GREEN", 1_204)),
            facts=(("Due", "15 October 2025"),),
            sections=(Section("Critical performance failures (1)", ("Lifestyle: SS.7 Satisfaction: 6.98",),
                              "attention"), Section("", ("A line with no heading",))),
            note=SEE_REPORT, link="https://kpibot.example-council.gov.uk/reports/12", tone="attention")


def test_a_card_survives_the_outbox_row_and_reads_as_text() -> None:
    assert Card.from_json(FULL.to_json()) == FULL
    assert FULL.plain() == (
        "Exception report: quarterly returns due 15 October 2025 (1 late, 2 red)\n"
        "2 red or amber indicators · 1 missing or late return · 1 critical failure\n"
        "■ RED 2 · ▲ AMBER 1 · ● GREEN 1,204\n\n"
        "Due: 15 October 2025\n\n"
        "Critical performance failures (1)\n- Lifestyle: SS.7 Satisfaction: 6.98\n\n"
        "A line with no heading\n\n"
        "Open in kpibot: https://kpibot.example-council.gov.uk/reports/12\n\n"
        "See the report in kpibot.\n")
    with pytest.raises(ValueError, match="not a stored card"):
        Card.from_json('{"title": "x", "sections": [{"lines": []}]}')


def test_a_section_appears_only_with_lines_and_counts_them() -> None:
    assert section("Late returns", []) == ()
    assert section("Late returns", ["a", "b"], "warning") == (Section("Late returns (2)", ("a", "b"), "warning"),)
    assert section("The contract", ["x"], counted=False) == (Section("The contract", ("x",)),)


def test_every_part_of_a_card_is_drawn_and_valid() -> None:
    card = assert_valid_message(cards.message(FULL))
    assert card["version"] == "1.5" and card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["fallbackText"].startswith("Exception report: quarterly returns due 15 October 2025")
    assert card["body"][0]["style"] == "attention"  # the heading's tone
    assert [r["text"] for r in card["body"][1]["inlines"]] == ["■ RED 2", "   ", "▲ AMBER 1", "   ", "● GREEN 1,204"]
    assert [r.get("color") for r in card["body"][1]["inlines"] if r["text"].strip()] == ["attention", "warning", "good"]
    assert "Due:" in texts(card) and "15 October 2025" in texts(card)
    assert "• Lifestyle: SS.7 Satisfaction: 6.98" in texts(card) and "A line with no heading" in texts(card)
    assert card["actions"][0]["url"] == FULL.link


def test_a_stored_card_that_cannot_be_read_goes_as_the_rows_text() -> None:
    message = Outbound("council", "Weekly digest", "Weekly digest\nLate returns (1)\n- One",
                       headers={CARD: '{"title": 3'})
    seen = texts(assert_valid_message(cards.message(cards.card_of(message))))
    assert "Weekly digest" in seen and "- One" in seen


def test_a_link_that_is_not_a_web_address_is_left_out() -> None:
    card = assert_valid_message(cards.message(Card("T", link="javascript:alert(1)")))
    assert "actions" not in card


def test_control_characters_and_overlong_text_are_tamed() -> None:
    card = assert_valid_message(cards.message(Card("A\x00title\x1b" + "x" * 1000, sections=(
        Section("", ("y" * 5000,)),))))
    title, line = texts(card)[1], texts(card)[2]
    assert "\x00" not in title and "\x1b" not in title and len(title) == cards.MAX_TITLE and title.endswith("…")
    assert len(line) == cards.MAX_LINE


def late_lines(n: int) -> tuple[str, ...]:
    return tuple(f"Contract {i}: quarterly monitoring return for Q{i % 4 + 1} 2025-26, due 15 October 2025, "
                 f"{i} days overdue; escalation level 1" for i in range(n))


@pytest.mark.parametrize("lines", [0, 10, 200, 2_000])
def test_a_card_always_fits_28_kb_and_keeps_its_first_lines(lines: int) -> None:
    card = Card("Weekly digest, week of 23 February 2026: many late returns", "What needs attention this week.",
                counts=(Count("red", "■ RED", 29),),
                sections=(Section("Critical performance failures (1)", ("The one failure",), "attention"),
                          Section(f"Late returns ({lines})", late_lines(lines), "warning")))
    body, shortened = cards.fitted(card)
    assert len(body) <= cards.MAX_BYTES
    seen = texts(assert_valid_message(body))
    assert "■ RED 29" in seen and "• The one failure" in seen
    assert shortened == (len(cards.encoded(cards.message(card))) > cards.MAX_BYTES) == (lines >= 200)
    if shortened:
        kept = [t for t in seen if t.startswith("• Contract ")]
        assert kept == [f"• {line}" for line in late_lines(lines)[:len(kept)]] and len(kept) > 20
        assert f"• ... and {lines - len(kept):,} more" in seen
        assert seen[-1] == "The rest is too long for a Teams message: see the report in kpibot."
        # as many lines as fit: one more in each section would not
        assert len(cards.encoded(cards.message(cards.shortened(card, len(kept) + 1)))) > cards.MAX_BYTES


@fuzz(30)
@given(st.lists(st.tuples(st.text(max_size=60), st.lists(st.text(max_size=400), max_size=120)), max_size=6),
       st.text(max_size=400), st.integers(min_value=2_000, max_value=40_000))
def test_any_card_fits_any_limit_it_can_and_stays_valid(sections: list[tuple[str, list[str]]], title: str,
                                                         limit: int) -> None:
    card = Card(title or "T", sections=tuple(Section(h, tuple(lines)) for h, lines in sections))
    body, _ = cards.fitted(card, limit)
    shortest = len(cards.encoded(cards.message(cards.shortest(card))))
    assert len(body) <= max(limit, shortest)
    assert_valid_message(json.loads(body))


def test_markdown_and_markup_stay_text() -> None:
    card = assert_valid_message(cards.message(Card("**Bold** _Ltd_", sections=(
        Section("[x](https://evil.example)", ("<at>everyone</at> &amp; 1. not a list",)),))))
    written = {"**Bold** _Ltd_", "[x](https://evil.example)", "• <at>everyone</at> &amp; 1. not a list"}
    assert written <= set(texts(card))
    assert not re.search(r'"type": ?"TextBlock"', json.dumps(card))


def test_every_notice_the_scheduler_sends_has_a_card() -> None:
    """A new notice must get a card before it can go to a Teams channel (jobs/messages.render raises otherwise)."""
    jobs = Path(__file__).resolve().parent.parent / "jobs"
    rendered = set(re.findall(r'render\(\s*"([a-z_]+)"', "".join(p.read_text() for p in jobs.glob("*.py"))))
    rendered |= set(re.findall(r'"(query_[a-z_]+)"', (jobs / "queries.py").read_text()))  # render(kind, ...)
    assert rendered == set(BUILDERS) == {"reminder", "overdue", "warning", "service_failure", "exception_report",
                                         "digest", "query_reminder", "query_overdue"}
