"""The canonical figures of one return: `{(item, breakdown): value}`.

`breakdown` is '' for the item's total, or `dimension=category` text (`sex=female`, several joined by commas in
sorted order). A key that is absent means "not given"; 0 is a figure like any other.
"""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from functools import lru_cache

Key = tuple[str, str]
Values = Mapping[Key, Fraction]


def breakdown_key(text: str) -> str:
    """Normalise breakdown text: `Sex = Female ; age_band=18_24` -> `age_band=18_24,sex=female`.

    Raises ValueError if a part is not `dimension=category`.
    """
    if not text:
        return ""
    # Every return of a framework repeats the same few dozen breakdowns: each is normalised once.
    return _breakdown_key(text) if len(text) <= 200 else _breakdown_key.__wrapped__(text)


@lru_cache(maxsize=4096)
def _breakdown_key(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    pairs = []
    for part in text.replace(";", ",").split(","):
        if not part.strip():
            continue
        if "=" not in part:
            raise ValueError(f"breakdown {part.strip()!r} should be written dimension=category, e.g. sex=female")
        dim, cat = (s.strip().lower().replace(" ", "_").replace("-", "_") for s in part.split("=", 1))
        if not dim or not cat:
            raise ValueError(f"breakdown {part.strip()!r} should be written dimension=category, e.g. sex=female")
        pairs.append((dim, cat))
    return ",".join(f"{d}={c}" for d, c in sorted(pairs))


def total(values: Values, item: str) -> Fraction | None:
    return values.get((item, ""))


def to_number(value: Fraction) -> int | float:
    """A JSON- and display-friendly number: an int when whole."""
    return int(value) if value.denominator == 1 else float(value)
