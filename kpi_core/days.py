"""Dates as people in England write them in the files they send: `2026-11-20`, `20/11/2026` (what Excel saves
in a UK locale), `20.11.26`, `20 November 2026`, `20 Nov 2026`.

Day first, as in the UK: `05/11/2026` is 5 November. A date that only reads month first (`11/20/2026`) is refused
with an answer saying so, never turned into another day.
"""

from __future__ import annotations

import re
from datetime import date, datetime

_NUMERIC = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2}|\d{4})$")
_WORDS = ("%d %B %Y", "%d %b %Y", "%d %B %y", "%d %b %y")


class DayError(ValueError):
    """The text is not a date kpibot can read; the message says how to write it."""


def parse_day(text: str) -> date:
    """The date `text` names (ISO, or day first as in the UK); raises DayError saying how to write it."""
    cleaned = " ".join(text.replace(",", " ").split())
    try:
        return date.fromisoformat(cleaned)
    except ValueError:
        pass
    match = _NUMERIC.match(cleaned)
    if match:
        day, month, year = (int(g) for g in match.groups())
        if len(match.group(3)) == 2:
            year += 2000
        try:
            return date(year, month, day)
        except ValueError:
            if month > 12 and day <= 12:
                raise DayError(f"{text!r} reads month first; kpibot reads dates day first, as in the UK: write "
                               f"{month}/{day}/{year} or {year}-{day:02d}-{month:02d}") from None
            raise DayError(f"{text!r} is not a day of the calendar") from None
    for pattern in _WORDS:
        try:
            return datetime.strptime(cleaned, pattern).date()
        except ValueError:
            continue
    raise DayError(f"{text!r} is not a date; write it as 20/11/2026 (day first) or 2026-11-20")
