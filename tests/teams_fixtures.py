"""Checks every Teams test applies to a card: the Adaptive Card 1.5 schema, and the rules for what people read.

The schema is Microsoft's published Adaptive Card schema for version 1.5 (draft-06), kept in
tests/schemas/adaptive-card-1.5.json (see tests/schemas/README.md for where the copy comes from). Its enum
patterns are lenient (they accept any string starting with a valid word), so the style words a card uses are also
checked against the exact lists.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from bot import config
from kpi_core import loader

SCHEMA = Path(__file__).parent / "schemas" / "adaptive-card-1.5.json"
EXACT = {  # the enums of schema 1.5, as Teams documents them (lower case is the canonical form)
    "style": {"default", "emphasis", "good", "attention", "warning", "accent"},
    "color": {"default", "dark", "light", "accent", "good", "warning", "attention"},
    "size": {"default", "small", "medium", "large", "extraLarge"},
    "weight": {"default", "lighter", "bolder"},
    "spacing": {"default", "none", "small", "medium", "large", "extraLarge", "padding"},
}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
COMMAND = re.compile(r"`|\bkpibot (init|run|status|outbox|submit|template|score|invite|report|exceptions|demo)\b|"
                     r"(^|\s)/(template|check|start|help)\b")


class FakeTime:
    """A monotonic clock for the transport's pacing that moves only when slept on: no test waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


@cache
def validator() -> jsonschema.Draft6Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft6Validator.check_schema(schema)
    return jsonschema.Draft6Validator(schema)


def assert_valid_message(body: bytes | dict[str, Any]) -> dict[str, Any]:
    """Check a Workflows message (the POST body): one Adaptive Card attachment, valid against schema 1.5 and
    using only exact enum words; return the card."""
    payload = json.loads(body) if isinstance(body, bytes) else body
    assert payload["type"] == "message"
    [attachment] = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    errors = sorted(validator().iter_errors(card), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message[:200]}" for e in errors]
    assert card["version"] == "1.5"
    for key, value in _walk(card):
        if key in EXACT:
            assert value in EXACT[key], f"{key} = {value!r}"
    return card


def texts(card: dict[str, Any]) -> list[str]:
    """Every text a reader sees on the card (and the fallback text a client without cards shows)."""
    found = [card.get("fallbackText", "")]
    found += [v for k, v in _walk(card) if k in ("text", "title") and isinstance(v, str)]
    return found


def assert_plain_language(text: str, settings: config.Settings, people: tuple[str, ...] = ()) -> None:
    """Nothing a channel's readers see holds an internal identifier, a command line, an address or a person:
    contract, organisation and channel ids, the frameworks' item and payment ids, email addresses, the contacts'
    names (and `people`), file names, webhook URLs."""
    ids = {c.id for c in settings.contracts} | {o.id for o in settings.organisations} | {t.name for t in settings.teams}
    for framework_id in loader.shipped():
        framework = loader.get(framework_id)
        ids |= {i.id for i in framework.items if "_" in i.id} | {p.id for p in framework.payments if "_" in p.id}
    ids -= {"council"}  # a channel of that name in the tests' config.toml is also a plain word ("the council's review")
    words = set(re.findall(r"[A-Za-z0-9][A-Za-z0-9_\-\[\]=]*", text))
    assert not ids & words, f"internal identifiers: {sorted(ids & words)}"
    assert not EMAIL.search(text), EMAIL.search(text)
    assert not COMMAND.search(text), COMMAND.search(text)
    names = {c.name for c in settings.contacts} | set(people)
    assert not {n for n in names if re.search(rf"\b{re.escape(n)}\b", text)}, names
    for leak in ("http://", "sig=", ".csv", ".xlsx", ".pdf", "Dear "):
        assert leak not in text, leak


def _walk(node: Any) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found.append((key, value))
            found += _walk(value)
    elif isinstance(node, list):
        for value in node:
            found += _walk(value)
    return found
