"""A small, safe arithmetic language for indicators, thresholds and validation rules.

Frameworks are data written by people, so their formulas are parsed by this module and never handed to
`eval`. The grammar is deliberately tiny:

    rule     := sum (("==" | "!=" | "<=" | ">=" | "<" | ">") sum)?
    sum      := term (("+" | "-") term)*
    term     := unary (("*" | "/") unary)*
    unary    := "-" unary | primary
    primary  := NUMBER | call | ref | "(" sum ")"
    call     := ("min" | "max" | "abs") "(" sum ("," sum)* ")"
    ref      := NAME ("[" NAME "=" NAME ("," NAME "=" NAME)* "]")?

`quit_dates[area=city]` is the City breakdown of the item `quit_dates`. Arithmetic is exact (Fraction), so a
boundary value is never misjudged by floating-point noise. A missing input or a division by zero yields None
("cannot be computed"), which callers turn into "no data" or "rule not applicable".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

MAX_LENGTH = 2000
MAX_DEPTH = 60
MAX_TREE_DEPTH = 200  # compute() and refs() recurse once per level; a chain `a + b + ...` is one level per operator

Number = Fraction
Lookup = Callable[["Ref"], Fraction | None]


class ExpressionError(ValueError):
    """The text is not a valid expression; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Ref:
    """A data item, optionally narrowed to one category of each named disaggregation."""

    item: str
    breakdown: tuple[tuple[str, str], ...] = ()
    # (item, breakdown text): the key of its figure in a return's values, worked out once per reference.
    key: tuple[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", (self.item, breakdown_text(self.breakdown)))

    @property
    def breakdown_key(self) -> str:
        """The canonical breakdown text, e.g. `area=city` ('' for the total)."""
        return self.key[1]

    def __str__(self) -> str:
        return f"{self.item}[{self.breakdown_key}]" if self.breakdown else self.item


def breakdown_text(pairs: tuple[tuple[str, str], ...]) -> str:
    return ",".join([f"{dim}={cat}" for dim, cat in sorted(pairs)]) if pairs else ""


@dataclass(frozen=True, slots=True)
class Num:
    value: Fraction


@dataclass(frozen=True, slots=True)
class Neg:
    operand: "Node"


@dataclass(frozen=True, slots=True)
class BinOp:
    op: str
    left: "Node"
    right: "Node"


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple["Node", ...]


@dataclass(frozen=True, slots=True)
class Compare:
    op: str
    left: "Node"
    right: "Node"


Node = Num | Ref | Neg | BinOp | Call | Compare

FUNCTIONS: dict[str, Callable[..., Fraction]] = {"min": min, "max": max, "abs": abs}
COMPARATORS: dict[str, Callable[[Fraction, Fraction], bool]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
}

# A name may start with digits when a letter or underscore follows, so category ids such as `18_24` or `65_plus`
# read as one name; ASCII digits only, as a framework file is written.
_TOKEN = re.compile(
    r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*|[0-9]+[A-Za-z_][A-Za-z0-9_]*)|(?P<num>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)"
    r"|(?P<op>==|!=|<=|>=|[-+*/()<>\[\],=]))"
)


class _Token(NamedTuple):  # a tuple: made for every token of every expression, so it must be cheap to make
    kind: str  # "num" | "name" | "op" | "end"
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos, end = 0, len(text)
    while pos < end:
        match = _TOKEN.match(text, pos)  # the pattern skips the spaces before a token itself
        if not match or match.end() == pos:
            start = pos
            while pos < end and text[pos].isspace():
                pos += 1
            if pos > start:
                continue
            raise ExpressionError(f"unexpected character {text[pos]!r} at position {pos + 1}")
        kind = match.lastgroup or "op"
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        pos = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, text: str) -> None:
        token = self.take()
        if token.text != text:
            found = repr(token.text) if token.kind != "end" else "the end"
            raise ExpressionError(f"expected {text!r} at position {token.pos + 1}, found {found}")

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(f"expression nests deeper than {MAX_DEPTH} levels")

    def rule(self) -> Node:
        left = self.sum()
        if self.peek().text in COMPARATORS:
            op = self.take().text
            right = self.sum()
            if self.peek().text in COMPARATORS:
                raise ExpressionError(f"chained comparison at position {self.peek().pos + 1}; write one comparison")
            return Compare(op, left, right)
        return left

    def sum(self) -> Node:
        self._enter()
        node = self.term()
        while self.peek().text in ("+", "-"):
            op = self.take().text
            node = BinOp(op, node, self.term())
        self.depth -= 1
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek().text in ("*", "/"):
            op = self.take().text
            node = BinOp(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek().text == "-":
            self.take()
            self._enter()
            node = Neg(self.unary())
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "num":
            return Num(Fraction(token.text))
        if token.text == "(":
            node = self.sum()
            self.expect(")")
            return node
        if token.kind == "name":
            if self.peek().text == "(":
                if token.text not in FUNCTIONS:
                    raise ExpressionError(
                        f"unknown function {token.text!r} at position {token.pos + 1}; "
                        f"allowed: {', '.join(sorted(FUNCTIONS))}"
                    )
                self.take()
                args = [self.sum()]
                while self.peek().text == ",":
                    self.take()
                    args.append(self.sum())
                self.expect(")")
                if token.text == "abs" and len(args) != 1:
                    raise ExpressionError("abs() takes exactly one argument")
                if token.text != "abs" and len(args) < 2:
                    raise ExpressionError(f"{token.text}() takes two or more arguments")
                return Call(token.text, tuple(args))
            return self.ref(token)
        found = repr(token.text) if token.kind != "end" else "the end"
        raise ExpressionError(f"expected a number, name or '(' at position {token.pos + 1}, found {found}")

    def ref(self, name: _Token) -> Ref:
        pairs: list[tuple[str, str]] = []
        if self.peek().text == "[":
            self.take()
            while True:
                dim = self.take()
                if dim.kind != "name":
                    raise ExpressionError(f"expected a disaggregation name at position {dim.pos + 1}")
                self.expect("=")
                cat = self.take()
                if cat.kind not in ("name", "num"):
                    raise ExpressionError(f"expected a category at position {cat.pos + 1}")
                pairs.append((dim.text, cat.text))
                if self.peek().text == ",":
                    self.take()
                    continue
                self.expect("]")
                break
            if len({d for d, _ in pairs}) != len(pairs):
                raise ExpressionError(f"{name.text}[...] names the same disaggregation twice")
        return Ref(name.text, tuple(sorted(pairs)))


def parse(text: str, *, allow_comparison: bool = False) -> Node:
    """Parse an expression (or, with allow_comparison, a rule); raise ExpressionError if invalid.

    Trees are immutable, so each text is parsed once per process and shared (a framework's few hundred
    expressions are evaluated for every return)."""
    if not isinstance(text, str):
        raise ExpressionError("an expression must be text")
    return _parse(text, allow_comparison)


@lru_cache(maxsize=65536)
def _parse(text: str, allow_comparison: bool) -> Node:
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise ExpressionError("expression is empty")
    parser = _Parser(text)
    node = parser.rule() if allow_comparison else parser.sum()
    end = parser.peek()
    if end.kind != "end":
        hint = "; comparisons belong in validation rules" if end.text in COMPARATORS else ""
        raise ExpressionError(f"unexpected {end.text!r} at position {end.pos + 1}{hint}")
    if _tree_depth(node) > MAX_TREE_DEPTH:
        raise ExpressionError(f"expression chains more than {MAX_TREE_DEPTH} operations; split it up")
    return node


def _tree_depth(node: Node) -> int:
    """The depth of the parsed tree, measured without recursion (the tree may be too deep to recurse over)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        match current:
            case Neg(operand):
                stack.append((operand, depth + 1))
            case BinOp(_, left, right) | Compare(_, left, right):
                stack += [(left, depth + 1), (right, depth + 1)]
            case Call(_, args):
                stack += [(arg, depth + 1) for arg in args]
    return deepest


def refs(node: Node) -> list[Ref]:
    """Every data item reference in the expression, in order of appearance."""
    match node:
        case Ref():
            return [node]
        case Num():
            return []
        case Neg(operand):
            return refs(operand)
        case BinOp(_, left, right) | Compare(_, left, right):
            return refs(left) + refs(right)
        case Call(_, args):
            return [r for a in args for r in refs(a)]
    raise TypeError(node)


def evaluate(node: Node, lookup: Lookup) -> Fraction | bool | None:
    """Evaluate an expression, or a rule to True or False, exactly; None when an input is missing or a division by
    zero makes the value undefined."""
    if isinstance(node, Compare):
        a, b = compute(node.left, lookup), compute(node.right, lookup)
        if a is None or b is None:
            return None
        return COMPARATORS[node.op](a, b)
    return compute(node, lookup)


def compute(node: Node, lookup: Lookup) -> Fraction | None:
    """Evaluate an arithmetic expression exactly; None when an input is missing or a division by zero makes the
    value undefined. A comparison is a rule, not a value (the grammar allows one only at the top: use evaluate)."""
    match node:
        case Num(value):
            return value
        case Ref():
            return lookup(node)
        case Neg(operand):
            inner = compute(operand, lookup)
            return None if inner is None else -inner
        case BinOp(op, left, right):
            a, b = compute(left, lookup), compute(right, lookup)
            if a is None or b is None:
                return None
            if op == "+":
                return a + b
            if op == "-":
                return a - b
            if op == "*":
                return a * b
            return None if b == 0 else Fraction(a) / b
        case Call(name, args):
            values = [compute(a, lookup) for a in args]
            present = [v for v in values if v is not None]
            if len(present) < len(values):
                return None
            return FUNCTIONS[name](*present)
    raise TypeError(node)


def lookup_from(values: Mapping[tuple[str, str], Fraction | None]) -> Lookup:
    """A lookup over `{(item, breakdown_text): value}`."""
    return lambda ref: values.get(ref.key)


def _decimal_text(value: Fraction) -> str:
    """A number as plain decimal digits that parse back to the same value (never float's `1e-05`); a fraction
    with no finite decimal form is written as a division."""
    if value.denominator == 1:
        return str(value.numerator)
    sign, value = ("-" if value < 0 else ""), abs(value)
    denominator, twos, fives = value.denominator, 0, 0
    while denominator % 2 == 0:
        denominator, twos = denominator // 2, twos + 1
    while denominator % 5 == 0:
        denominator, fives = denominator // 5, fives + 1
    if denominator != 1:
        return f"({sign}{value.numerator} / {value.denominator})"
    places = max(twos, fives)
    digits = str(value.numerator * 10 ** places // value.denominator).rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def to_text(node: Node) -> str:
    """Render a parsed expression back to canonical text (used in explanations)."""
    match node:
        case Num(value):
            return _decimal_text(value)
        case Ref():
            return str(node)
        case Neg(operand):
            return f"-{to_text(operand)}"
        case BinOp(op, left, right):
            return f"({to_text(left)} {op} {to_text(right)})"
        case Compare(op, left, right):
            return f"{to_text(left)} {op} {to_text(right)}"
        case Call(name, args):
            return f"{name}({', '.join(to_text(a) for a in args)})"
    raise TypeError(node)
