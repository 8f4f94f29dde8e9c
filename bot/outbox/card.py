"""A notice as a card: what a channel that shows structure (Microsoft Teams) posts, before any channel's format.

Jobs build a `Card` from the same values as the email and Telegram texts (formatted once, by the report and
message helpers) and queue it with the outbox row, as JSON under the row's `card` header. The Teams transport
turns it into an Adaptive Card when it sends (bot/channels/teams/cards.py), shortening it there if it is too long;
`plain()` is the row's text, the card's fallback and what the local channel shows.

Everything in a card is read by everyone in a channel: no personal data (names, addresses), no file contents, no
internal identifiers and no command lines. Later notices (awaiting review, with a link to the web workspace) fill
in `facts` and `link`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any, Literal

CARD = "card"  # OutboxMessage.headers key holding the card's JSON
Tone = Literal["", "attention", "warning", "good"]  # a colour hint only: words and shapes carry the meaning
SEE_REPORT = "See the report in kpibot."


@dataclass(frozen=True)
class Count:
    """A status count: `■ RED` and 3 (the shape and word come from bot.reports.status)."""

    status: str  # red | amber | green | no_data | info
    label: str  # `■ RED`
    count: int


@dataclass(frozen=True)
class Section:
    """A heading and its lines, e.g. `Critical performance failures (1)` and one line per failure."""

    heading: str
    lines: tuple[str, ...]
    tone: Tone = ""


@dataclass(frozen=True)
class Card:
    title: str
    summary: str = ""
    counts: tuple[Count, ...] = ()  # red first, as the reports order them
    facts: tuple[tuple[str, str], ...] = ()  # (label, value) pairs, e.g. ("Due", "15 October 2025")
    sections: tuple[Section, ...] = ()  # in the order a reader needs them: critical failures first
    note: str = ""  # a closing line, e.g. SEE_REPORT
    link: str | None = None  # the web workspace's page about it, when there is one
    link_title: str = "Open in kpibot"
    tone: Tone = ""  # of the card's heading

    def counts_line(self) -> str:
        """`■ RED 3 · ▲ AMBER 1 · ● GREEN 12`."""
        return " · ".join(f"{c.label} {c.count:,}" for c in self.counts)

    def plain(self) -> str:
        """The card as plain text: its title, summary, counts, facts, sections and closing line."""
        head = [self.title, self.summary, self.counts_line()]
        blocks = ["\n".join(line for line in head if line)]
        if self.facts:
            blocks.append("\n".join(f"{label}: {value}" for label, value in self.facts))
        for section in self.sections:
            lines = [f"- {line}" for line in section.lines] if section.heading else list(section.lines)
            blocks.append("\n".join([section.heading, *lines] if section.heading else lines))
        if self.link:
            blocks.append(f"{self.link_title}: {self.link}")
        if self.note:
            blocks.append(self.note)
        return "\n\n".join(block for block in blocks if block) + "\n"

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Card:
        """The card `to_json` wrote; ValueError when `text` is not one."""
        try:
            data: dict[str, Any] = json.loads(text)
            return cls(**{**data, "counts": tuple(Count(**c) for c in data.get("counts", ())),
                          "facts": tuple((str(k), str(v)) for k, v in data.get("facts", ())),
                          "sections": tuple(Section(s["heading"], tuple(s["lines"]), s.get("tone", ""))
                                            for s in data.get("sections", ()))})
        except (TypeError, KeyError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a stored card: {exc}") from None


def section(heading: str, lines: list[str] | tuple[str, ...], tone: Tone = "", counted: bool = True
            ) -> tuple[Section, ...]:
    """A section of `lines` under `heading` (with the number of lines when `counted`), or none without lines."""
    if not lines:
        return ()
    title = f"{heading} ({len(lines):,})" if counted and heading else heading
    return (Section(title, tuple(lines), tone),)
