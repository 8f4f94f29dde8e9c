"""Expressions compiled once into Python closures over a return's values.

A framework's indicators, thresholds and rules are evaluated for every return, and walking the parsed tree each
time (kpi_core/expressions.py `evaluate`) matches every node against every kind of node. Compiling turns each tree
into nested closures once per expression text, with each figure's key worked out in advance; they compute exactly
what `evaluate` computes (tests/test_expressions.py checks them against each other on generated expressions).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from fractions import Fraction
from functools import lru_cache

from kpi_core.expressions import COMPARATORS, FUNCTIONS, BinOp, Call, Compare, Neg, Node, Num, Ref, parse

Figures = Mapping[tuple[str, str], Fraction | None]
Evaluator = Callable[[Figures], Fraction | bool | None]


@lru_cache(maxsize=65536)
def compiled(text: str, allow_comparison: bool = False) -> Evaluator:
    """The expression (or, with allow_comparison, the rule) `text` as a function of a return's values:
    `compiled("quits / dates")(values)`. Raises ExpressionError as `parse` does."""
    return compile_node(parse(text, allow_comparison=allow_comparison))


@lru_cache(maxsize=65536)
def compile_node(node: Node) -> Evaluator:
    """A parsed expression as a function of `{(item, breakdown): value}`: None where an input is missing or a
    division by zero leaves the value undefined, exactly as `expressions.evaluate`."""
    match node:
        case Num(value):
            return lambda values: value
        case Ref():
            key = node.key
            return lambda values: values.get(key)
        case Neg(operand):
            inner = compile_node(operand)

            def negative(values: Figures) -> Fraction | bool | None:
                value = inner(values)
                return None if value is None else -value  # type: ignore[return-value]
            return negative
        case BinOp(op, left, right):
            return _binary(op, compile_node(left), compile_node(right))
        case Call(name, args):
            function, parts = FUNCTIONS[name], tuple(compile_node(a) for a in args)

            def call(values: Figures) -> Fraction | bool | None:
                found = [part(values) for part in parts]
                return None if any(v is None for v in found) else function(*found)
            return call
        case Compare(op, left, right):
            compare, first, second = COMPARATORS[op], compile_node(left), compile_node(right)

            def comparison(values: Figures) -> Fraction | bool | None:
                a, b = first(values), second(values)
                return None if a is None or b is None else compare(a, b)  # type: ignore[arg-type]
            return comparison
    raise TypeError(node)


def _binary(op: str, first: Evaluator, second: Evaluator) -> Evaluator:
    if op == "/":
        def divide(values: Figures) -> Fraction | bool | None:
            a, b = first(values), second(values)
            if a is None or b is None or b == 0:
                return None
            return (a if a.__class__ is Fraction else Fraction(a)) / b
        return divide
    operate = _ARITHMETIC[op]

    def arithmetic(values: Figures) -> Fraction | bool | None:
        a, b = first(values), second(values)
        return None if a is None or b is None else operate(a, b)  # type: ignore[arg-type]
    return arithmetic


_ARITHMETIC: dict[str, Callable[[Fraction, Fraction], Fraction]] = {"+": operator.add, "-": operator.sub,
                                                                     "*": operator.mul}
