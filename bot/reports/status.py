"""How a status is shown: a word and a shape for print and black-and-white, a colour-blind-safe colour, an emoji.

The colours are the Okabe-Ito palette (bluish green, orange, vermillion), chosen to stay apart for the common
forms of colour blindness; the word and the shape carry the meaning on their own.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StatusView:
    key: str  # css class: green, part, amber, red, info, no_data
    word: str  # GREEN, PART PAYMENT, AMBER, RED, INFO, NO DATA
    symbol: str  # a shape that differs per status
    emoji: str  # for chat messages
    colour: str  # strong colour, for chart markers and symbols
    tint: str  # light background, readable with dark text when printed in grey

    @property
    def label(self) -> str:
        """`■ RED`: the shape and the word together."""
        return f"{self.symbol} {self.word}"


STATUSES: dict[str, StatusView] = {
    "red": StatusView("red", "RED", "■", "🔴", "#D55E00", "#F7DACB"),
    "amber": StatusView("amber", "AMBER", "▲", "🟠", "#E69F00", "#FBEBC7"),
    # A payment-by-results tier: past the minimum, short of the stretch target, paid in part (reddish purple).
    "part": StatusView("part", "PART PAYMENT", "◐", "🟣", "#CC79A7", "#F5E1EC"),
    "green": StatusView("green", "GREEN", "●", "🟢", "#009E73", "#D5F0E7"),
    "no_data": StatusView("no_data", "NO DATA", "○", "⚪", "#8C8C8C", "#EEEEEE"),
    "info": StatusView("info", "INFO", "◇", "🔵", "#0072B2", "#D6E8F5"),
}
# Red first: the order in which a reader wants to see things.
ATTENTION_ORDER = ("red", "amber", "no_data")


def status_view(status: str) -> StatusView:
    """The display of a kpi_core status (`red`, `amber`, `part`, `green`, `info`, `no_data`)."""
    return STATUSES[status]
