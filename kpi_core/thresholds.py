"""Thresholds as the contracts write them: `>= 50`, `< 15`, `> 55`, `>= national_rate[substance=opiate]`.

The comparison is part of the threshold because contracts differ on the boundary: "less than 40%" is missed at
exactly 40, "a minimum of 8.5" is met at exactly 8.5. The bound may be a number, an expression over data items (a
national benchmark the provider reports) or `previous` (the indicator's own value in the previous period, for
"quarter on quarter reduction").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from kpi_core import expressions

OPERATORS = (">=", "<=", ">", "<")
_THRESHOLD = re.compile(r"^\s*(>=|<=|>|<)\s*(.+?)\s*$")


@dataclass(frozen=True, slots=True)
class Threshold:
    """`value op bound` is the condition; e.g. Threshold('>=', 50) is met by 50 and above."""

    op: str
    bound: Fraction | None  # a fixed number, or None when `expression` or `previous` gives it
    expression: expressions.Node | None = None
    previous: bool = False
    text: str = ""

    @property
    def higher_is_better(self) -> bool:
        return self.op in (">=", ">")

    def met(self, value: Fraction, bound: Fraction) -> bool:
        return expressions.COMPARATORS[self.op](value, bound)

    def scaled(self, factor: Fraction) -> "Threshold":
        """The same threshold with a fixed bound multiplied (a share of an annual target)."""
        if self.bound is None or factor == 1:
            return self
        return Threshold(self.op, self.bound * factor, text=self.text)


def parse_threshold(text: object) -> Threshold:
    """Parse `>= 50`, `<15`, `> previous`; a bare number is not accepted (say which side is good)."""
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ValueError("a threshold is text such as '>= 50' or '< 15'")
    if not isinstance(text, str):
        raise ValueError(f"write {text!r} with its comparison, e.g. '>= {text}' or '< {text}'")
    match = _THRESHOLD.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a threshold; write a comparison and a bound, e.g. '>= 50' or '< 15'")
    op, rest = match.groups()
    rest = rest.rstrip("%").strip()
    if rest == "previous":
        return Threshold(op, None, previous=True, text=text.strip())
    try:
        return Threshold(op, Fraction(rest), text=text.strip())
    except (ValueError, ZeroDivisionError):
        pass
    try:
        node = expressions.parse(rest)
    except expressions.ExpressionError as exc:
        raise ValueError(f"bound of {text!r} is not a number, 'previous' or an expression: {exc}") from None
    return Threshold(op, None, expression=node, text=text.strip())
