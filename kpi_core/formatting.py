"""Numbers as people read them in a KPI report: `1,807`, `52.5%`, `8.4`, `£9,000.00`, `12.3 per 100,000`."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

Number = Fraction | float | int


def _decimal(value: Number | Decimal, places: int) -> Decimal:
    if isinstance(value, Fraction):
        exact = Decimal(value.numerator) / Decimal(value.denominator)
    else:
        exact = Decimal(str(value))
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def number(value: Number | None, places: int = 1) -> str:
    """`1807`, `1,600`, `52.5`: whole numbers without decimals, others to `places`, trailing zeros dropped."""
    if value is None:
        return "–"
    rounded = _decimal(value, places)
    if rounded == rounded.to_integral_value():
        return f"{int(rounded):,}"
    text = f"{rounded:,.{places}f}".rstrip("0").rstrip(".")
    return text


def money(value: Number | Decimal | None) -> str:
    if value is None:
        return "–"
    amount = _decimal(value, 2)  # a Decimal too: format() alone would round half to even
    sign = "-" if amount < 0 else ""
    return f"{sign}£{abs(amount):,.2f}"


def value(value: Number | None, kind: str, per: int | None = None) -> str:
    """An indicator value in its own unit."""
    if value is None:
        return "no data"
    if kind == "percentage":
        return f"{number(value)}%"
    if kind == "rate":
        return f"{number(value)} per {number(per or 1)}"
    if kind in ("average", "ratio"):
        return number(value, 2)
    return number(value, 0)  # counts: a forecast of 1,654.7 people reads as 1,655


def gap(value: Number, kind: str, per: int | None = None) -> str:
    """A distance from target in the indicator's unit: `1,807`, `2.5 percentage points`."""
    if kind == "percentage":
        amount = number(value)
        return f"{amount} percentage point" + ("" if amount == "1" else "s")
    if kind == "rate":
        return f"{number(value)} per {number(per or 1)}"
    if kind in ("average", "ratio"):
        return number(value, 2)
    return number(value)


def share(value: Fraction) -> str:
    """`0.05` -> `5%`."""
    return f"{number(value * 100, 2)}%"
