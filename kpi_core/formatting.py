"""Numbers as people read them in a KPI report: `1,807`, `52.5%`, `8.4`, `£9,000.00`, `12.3 per 100,000`.

A value judged against a threshold is never printed equal to it unless it is: 7 of 351 is 1.99%, and against a
target of 2% it prints `1.99%`, not `2%` (which would read as on target). `near` asks for that care.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

Number = Fraction | float | int
Near = Number | tuple[Number | None, ...] | None  # the threshold(s) a value is judged against
MAX_PLACES = 6  # enough to tell apart any two figures a return can produce


def _decimal(value: Number | Decimal, places: int) -> Decimal:
    if isinstance(value, Fraction):
        exact = Decimal(value.numerator) / Decimal(value.denominator)
    else:
        exact = Decimal(str(value))
    quantum = _QUANTA[places] if 0 <= places < len(_QUANTA) else Decimal(1).scaleb(-places)
    return exact.quantize(quantum, rounding=ROUND_HALF_UP)


_QUANTA = [Decimal(1).scaleb(-places) for places in range(12)]  # 1, 0.1, 0.01...: every figure printed uses one


def number(value: Number | None, places: int = 1, near: Near = None) -> str:
    """`1807`, `1,600`, `52.5`: whole numbers without decimals, others to `places`, trailing zeros dropped.

    With `near` (a threshold, or several), more places are shown when `value` differs from one but would print
    the same."""
    if value is None:
        return "–"
    if type(value) is int or (type(value) is Fraction and value.denominator == 1):
        return f"{int(value):,}"  # a whole number prints whole at any places, whatever it is near
    if near is not None:
        places = distinguishing_places(value, near, places)
    rounded = _decimal(value, places)
    if rounded == rounded.to_integral_value():
        return f"{int(rounded):,}"
    text = f"{rounded:,.{places}f}".rstrip("0").rstrip(".")
    return text


def distinguishing_places(value: Number, near: Near, places: int) -> int:
    """The fewest places, from `places`, at which `value` prints differently from each threshold it differs from."""
    for bound in near if isinstance(near, tuple) else (near,):
        if bound is None or Fraction(value) == Fraction(bound):
            continue
        while places < MAX_PLACES and _decimal(value, places) == _decimal(bound, places):
            places += 1
    return places


def money(value: Number | Decimal | None) -> str:
    if value is None:
        return "–"
    amount = _decimal(value, 2)  # a Decimal too: format() alone would round half to even
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.2f}"


def value(value: Number | None, kind: str, per: int | None = None, near: Near = None, unit: str = "") -> str:
    """An indicator value in its own unit (`6.9 out of 10`, `28.7 percentage points`); `near` is the threshold it
    is judged against, if any."""
    if value is None:
        return "no data"
    if kind == "percentage":
        return f"{number(value, near=near)}%"
    if kind == "rate":
        return f"{number(value, near=near)} per {number(per or 1)}"
    if kind in ("average", "ratio"):
        return with_unit(number(value, 2, near), unit)
    return with_unit(number(value, 0, near), unit)  # counts: a forecast of 1,654.7 people reads as 1,655


def with_unit(text: str, unit: str) -> str:
    return f"{text} {unit}" if unit else text


def gap(value: Number, kind: str, per: int | None = None, unit: str = "") -> str:
    """A distance from target in the indicator's unit: `1,807`, `2.5 percentage points`, `1.6 points` on a scale
    out of 10; a gap that is not zero never prints as `0` (`0.01 percentage points`)."""
    if kind == "percentage":
        amount = number(value, near=0)
        return f"{amount} percentage point" + ("" if amount == "1" else "s")
    if kind == "rate":
        return f"{number(value, near=0)} per {number(per or 1)}"
    # A score out of 10 is off by points; other units read as they are (`0.5 attempts per client`).
    unit = "points" if unit.startswith("out of ") else unit
    if kind in ("average", "ratio"):
        return with_unit(number(value, 2, near=0), unit)
    return with_unit(number(value, near=0), unit)


def share(value: Fraction) -> str:
    """`0.05` -> `5%`."""
    return f"{number(value * 100, 2)}%"


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """`1 error`, `3 errors`, `1,200 people` (with `plural_form`)."""
    return f"{count:,} {noun if count == 1 else (plural_form or noun + 's')}"


def ago(age: timedelta) -> str:
    """How long ago, in the largest unit that keeps it readable: `just now`, `12 minutes ago`, `3 days ago`."""
    seconds = int(age.total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 7200:
        return f"{plural(seconds // 60, 'minute')} ago"
    if seconds < 2 * 86400:
        return f"{plural(seconds // 3600, 'hour')} ago"
    return f"{plural(seconds // 86400, 'day')} ago"
