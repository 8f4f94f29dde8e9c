"""Read a figure the way a person typed it: `1,600`, ` 52.5% `, `'1600`, `(12)`, `£3,000`, `68.0`.

Blank stays blank (None): an empty cell is "not given", never zero.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import NamedTuple

_SPACES = re.compile(r"[\s\u00a0\u2007\u202f]+")
_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_PLAIN = re.compile(r"^(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}


class NumberError(ValueError):
    """The text is not a number; the message says what was found and what to write instead."""


class Figure(NamedTuple):
    """A figure read (a named tuple: one is made for every cell of every return)."""

    value: Fraction
    percent: bool = False  # typed with a % sign


def parse_number(raw: object) -> Figure | None:
    """Parse one cell or CSV field; None when blank; NumberError when it is not a number."""
    if raw.__class__ is float and raw.is_integer() and abs(raw) <= 10**15:
        # Most cells: workbooks store 68 as 68.0. (Fraction(n, 1) skips the ABC checks Fraction(n) makes.)
        return Figure(Fraction(int(raw), 1))
    if raw is None:
        return None
    if isinstance(raw, bool):
        return Figure(Fraction(int(raw)))
    if isinstance(raw, int):
        return Figure(_in_range(Fraction(raw), raw))
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise NumberError("the cell holds an error value, not a number")
        if raw.is_integer() and abs(raw) <= 10**15:  # most cells: workbooks store 68 as 68.0
            return Figure(Fraction(int(raw)))
        return Figure(_in_range(Fraction(Decimal(repr(raw))), raw))  # shortest repr: 0.1 stays 1/10
    if isinstance(raw, (date, datetime)):
        raise NumberError(f"found a date ({raw:%d/%m/%Y}), not a number; the cell may be formatted as a date")
    text = _SPACES.sub("", str(raw)).replace("\u2212", "-").replace("\u2013", "-")
    if text.startswith("'"):
        text = text[1:]
    if not text:
        return None
    if text.startswith("#"):
        raise NumberError(f"found the spreadsheet error {text!r}; correct the formula or type the figure")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.startswith("-"):
        negative, text = not negative, text[1:]
    elif text.startswith("+"):
        text = text[1:]
    text = text.lstrip("£$€")
    percent = text.endswith("%")
    if percent:
        text = text[:-1]
    if _GROUPED.match(text):
        text = text.replace(",", "")
    if not _PLAIN.match(text):
        shown = str(raw).strip()
        if len(shown) > 40:
            shown = shown[:37] + "..."
        raise NumberError(f"{shown!r} is not a number; type digits only, e.g. 1600 or 52.5")
    try:
        value = Fraction(Decimal(text))
    except (InvalidOperation, ValueError):  # pragma: no cover - the pattern above admits only valid decimals
        raise NumberError(f"{raw!r} is not a number") from None
    value = _in_range(value, raw)
    return Figure(-value if negative else value, percent)


DECIMALS = 10  # finer than any monitoring figure; a spreadsheet's 128/3 arrives as 42.666666666666664


def _in_range(value: Fraction, raw: object) -> Fraction:
    """Refuse figures no monitoring return holds (over 10^15), and round the tail of a computed figure (an
    average worked out by a formula) to 10 decimals, as the spreadsheet showed it, instead of refusing it."""
    if abs(value) > 10**15:
        raise NumberError(f"{str(raw).strip()[:40]!r} is too large for a monitoring figure")
    if value.denominator > 10**DECIMALS:
        value = Fraction(round(value * 10**DECIMALS), 10**DECIMALS)
    return value


def parse_yes_no(raw: object) -> Fraction | None:
    """`Yes`/`No` (or 1/0) as 1/0; None when blank; NumberError otherwise."""
    if raw is None:
        return None
    if isinstance(raw, (bool, int, float)) and not isinstance(raw, bool) and raw in (0, 1):
        return Fraction(int(raw))
    text = str(raw).strip().lower()
    if not text:
        return None
    if text in YES or raw is True:
        return Fraction(1)
    if text in NO or raw is False:
        return Fraction(0)
    raise NumberError(f"{str(raw).strip()[:40]!r} is not Yes or No")
