"""Adaptive Cards for Teams from a notice's Card (bot/outbox/card.py), in the message a Workflows webhook takes.

- The card declares schema 1.5 (what Teams renders; tests validate every card against the published 1.5 schema)
  and uses only elements Teams has shown since 1.2: RichTextBlock, Container, ColumnSet, Action.OpenUrl.
- Every text is a TextRun, which Teams never reads as Markdown: a name holding `*`, `_` or `[x](y)` shows as
  written and cannot become a link.
- Status counts are a shape and a word (`■ RED 3`), with Teams' attention/warning/good colours as a hint only.
- Teams takes at most 28 KB in one message. `fitted` shortens a card that would be longer: every section keeps as
  many of its first lines as fit, the rest counted (`... and 12 more`), and the card ends with its link or, with
  no link, a line saying the rest is in kpibot. It never fails for being long.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from bot.outbox.card import CARD, Card, Section
from bot.outbox.transport import Outbound

VERSION = "1.5"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_BYTES = 28_000  # Teams' limit is 28 KB for the whole message: the POST body is kept within it
MAX_TITLE = 300
MAX_LINE = 1_000
COLOURS = {"red": "attention", "amber": "warning", "green": "good"}
CUT_SHORT = "The rest is too long for a Teams message: see the report in kpibot."  # when there is no link
CUT_LINKED = "The rest is too long for a Teams message: see all of it in kpibot (the button below)."
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def card_of(message: Outbound) -> Card:
    """The card queued with an outbox message, or (a message queued without one) its subject and text."""
    stored = message.headers.get(CARD)
    if stored:
        try:
            return Card.from_json(stored)
        except ValueError:
            pass  # shown as text below: a message is never lost for its card
    lines = [line for line in message.text.splitlines() if line.strip()]
    title = message.subject or (lines.pop(0) if lines else "kpibot")
    return Card(title, sections=(Section("", tuple(lines)),) if lines else ())


def adaptive_card(card: Card) -> dict[str, Any]:
    """The Adaptive Card showing `card`."""
    head = [_text(card.title, MAX_TITLE, size="large", weight="bolder")]
    if card.summary:
        head.append(_text(card.summary))
    body: list[dict[str, Any]] = [_container(head, card.tone or "emphasis")]
    if card.counts:
        runs: list[dict[str, Any]] = []
        for count in card.counts:
            if runs:
                runs.append(_run("   "))
            runs.append(_run(f"{count.label} {count.count:,}", weight="bolder", color=COLOURS.get(count.status)))
        body.append({"type": "RichTextBlock", "inlines": runs, "spacing": "medium"})
    for label, value in card.facts:
        body.append({"type": "ColumnSet", "spacing": "small", "columns": [
            {"type": "Column", "width": "auto", "items": [_text(f"{label}:", weight="bolder")]},
            {"type": "Column", "width": "stretch", "items": [_text(value)]}]})
    for section in card.sections:
        items = [_text(section.heading, weight="bolder")] if section.heading else []
        items += [_text(f"• {line}" if section.heading else line, spacing="small") for line in section.lines]
        body.append({**_container(items, section.tone or None), "separator": True, "spacing": "medium"})
    if card.note:
        body.append(_text(card.note, spacing="medium", italic=True, subtle=True))
    content: dict[str, Any] = {"$schema": SCHEMA, "type": "AdaptiveCard", "version": VERSION, "lang": "en",
                               "fallbackText": _clip(" ".join(x for x in (card.title, card.summary) if x), 600),
                               "body": body}
    if card.link and card.link.startswith(("https://", "http://")):
        content["actions"] = [{"type": "Action.OpenUrl", "title": _clip(card.link_title, 80), "url": card.link}]
    return content


def message(card: Card) -> dict[str, Any]:
    """What the Workflows trigger "Post to a channel when a webhook request is received" takes: a message with
    the card as its one attachment."""
    return {"type": "message", "attachments": [{"contentType": CONTENT_TYPE, "contentUrl": None,
                                                "content": adaptive_card(card)}]}


def encoded(payload: dict[str, Any]) -> bytes:
    """The POST body, as sent and as measured against Teams' limit (UTF-8, no spaces)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def fitted(card: Card, limit: int = MAX_BYTES) -> tuple[bytes, bool]:
    """The POST body for `card` within `limit` bytes, and whether it had to be shortened."""
    body = encoded(message(card))
    if len(body) <= limit:
        return body, False
    most = max((len(s.lines) for s in card.sections), default=0)
    low, high = 0, most - 1  # the most lines per section that fit: a binary search
    best = encoded(message(shortest(card)))
    while low <= high:
        keep = (low + high) // 2
        candidate = encoded(message(shortened(card, keep)))
        if len(candidate) <= limit:
            best, low = candidate, keep + 1
        else:
            high = keep - 1
    return best, True


def shortened(card: Card, keep: int) -> Card:
    """`card` with at most `keep` lines in each section, the others counted, and a closing line saying where
    the rest is."""
    sections = []
    for section in card.sections:
        dropped = len(section.lines) - keep
        lines = section.lines[:keep] + ((f"... and {dropped:,} more",) if dropped > 0 else ())
        sections.append(replace(section, lines=lines))
    return replace(card, sections=tuple(sections), note=_cut_short(card))


def shortest(card: Card) -> Card:
    """`card` as short as it gets: its title, summary, counts and link, and where the rest is."""
    return replace(card, facts=(), sections=(), note=_cut_short(card))


def _cut_short(card: Card) -> str:
    return CUT_LINKED if card.link else CUT_SHORT


def _clip(text: str, limit: int) -> str:
    text = _CONTROL.sub(" ", text)
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _run(text: str, limit: int = MAX_LINE, **style: Any) -> dict[str, Any]:
    run: dict[str, Any] = {"type": "TextRun", "text": _clip(text, limit)}
    if style.pop("italic", False):
        run["italic"] = True
    if style.pop("subtle", False):
        run["isSubtle"] = True
    run.update({k: v for k, v in style.items() if v})
    return run


def _text(text: str, limit: int = MAX_LINE, spacing: str | None = None, **style: Any) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "RichTextBlock", "inlines": [_run(text, limit, **style)]}
    if spacing:
        block["spacing"] = spacing
    return block


def _container(items: list[dict[str, Any]], style: str | None) -> dict[str, Any]:
    container: dict[str, Any] = {"type": "Container", "items": items}
    if style:
        container["style"] = style
    return container
