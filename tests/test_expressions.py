"""The framework formula language: parsing, exact evaluation, and refusing everything else."""

from __future__ import annotations

import sys
from collections.abc import Callable
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_core import expressions
from kpi_core.compiled import compile_node, compiled
from kpi_core.expressions import (
    BinOp,
    Call,
    Compare,
    ExpressionError,
    Neg,
    Num,
    Ref,
    evaluate,
    parse,
    refs,
    to_text,
)

F = Fraction


def lookup(values: dict[str, int | Fraction]) -> expressions.Lookup:
    """A lookup over `{'item' or 'item[dim=cat]': value}` written as in a framework."""
    table = {(parse(key).item, parse(key).breakdown_key): F(value)  # type: ignore[union-attr]
             for key, value in values.items()}
    return expressions.lookup_from(table)


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("quit_dates", {"quit_dates": 1600}, F(1600)),
        ("quit_dates[area=city]", {"quit_dates[area=city]": 100, "quit_dates": 1600}, F(100)),
        ("quit_dates[area=hackney] + quit_dates[area=city]",
         {"quit_dates[area=hackney]": 1500, "quit_dates[area=city]": 100}, F(1600)),
        ("a - b - c", {"a": 10, "b": 3, "c": 2}, F(5)),  # left to right, not a - (b - c)
        ("a / b / c", {"a": 12, "b": 3, "c": 2}, F(2)),
        ("a + b * c", {"a": 1, "b": 2, "c": 3}, F(7)),
        ("(a + b) * c", {"a": 1, "b": 2, "c": 3}, F(9)),
        ("-a + 5", {"a": 2}, F(3)),
        ("- -a", {"a": 2}, F(2)),
        ("min(a, b, 7)", {"a": 9, "b": 8}, F(7)),
        ("max(a, b)", {"a": 9, "b": 8}, F(9)),
        ("abs(a - b)", {"a": 3, "b": 8}, F(5)),
        ("a / 3", {"a": 1}, F(1, 3)),
        ("0.1 + 0.2", {}, F(3, 10)),  # exact: no 0.30000000000000004
        (".5 * a", {"a": 3}, F(3, 2)),
        ("quit_dates[age_band=18_24]", {"quit_dates[age_band=18_24]": 42}, F(42)),
        ("quit_dates[age_band=65_plus, sex=female]", {"quit_dates[sex=female,age_band=65_plus]": 7}, F(7)),
    ],
)
def test_it_evaluates_exactly(text: str, values: dict[str, int], expected: Fraction) -> None:
    assert evaluate(parse(text), lookup(values)) == expected


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("a / b", {"a": 5, "b": 0}),
        ("a / (b - b)", {"a": 5, "b": 3}),
        ("a + b", {"a": 5}),  # b not given
        ("min(a, b)", {"a": 5}),
        ("-missing", {}),
        ("quit_dates[area=city]", {"quit_dates": 10}),  # the total is not the breakdown
    ],
)
def test_a_missing_input_or_division_by_zero_has_no_value(text: str, values: dict[str, int]) -> None:
    assert evaluate(parse(text), lookup(values)) is None


def test_zero_is_a_value_not_missing() -> None:
    assert evaluate(parse("a + b"), lookup({"a": 0, "b": 0})) == 0


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("quits_4wk <= quit_dates", {"quits_4wk": 10, "quit_dates": 10}, True),
        ("quits_4wk <= quit_dates", {"quits_4wk": 11, "quit_dates": 10}, False),
        ("a + b == c", {"a": 1, "b": 2, "c": 3}, True),
        ("a != b", {"a": 1, "b": 1}, False),
        ("a < b", {"a": 1}, None),  # not applicable when an input is missing
    ],
)
def test_rules_compare_two_sides(text: str, values: dict[str, int], expected: bool | None) -> None:
    assert evaluate(parse(text, allow_comparison=True), lookup(values)) is expected


def test_breakdowns_are_canonical_whatever_order_they_are_written_in() -> None:
    node = parse("quit_dates[sex=female, area=city]")
    assert node == Ref("quit_dates", (("area", "city"), ("sex", "female")))
    assert str(node) == "quit_dates[area=city,sex=female]"
    assert node.breakdown_key == "area=city,sex=female"  # type: ignore[union-attr]


def test_refs_lists_every_item_in_order() -> None:
    node = parse("min(a, b[area=city]) / (c + a)")
    assert [str(r) for r in refs(node)] == ["a", "b[area=city]", "c", "a"]


@pytest.mark.parametrize(
    "text",
    ["a + b * c", "(a - b) / c", "-a", "min(a, b[area=city], 2)", "abs(a - 3)", "quit_dates[age_band=18_24]"],
)
def test_canonical_text_parses_back_to_the_same_tree(text: str) -> None:
    node = parse(text)
    assert parse(to_text(node)) == node


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a +", "at position 4, found the end"),
        ("a b", "unexpected 'b' at position 3"),
        ("(a + b", "expected ')'"),
        ("a + b)", "unexpected ')'"),
        ("a ** b", "position 4"),
        ("a % b", "unexpected character '%' at position 3"),
        ("a < b", "comparisons belong in validation rules"),
        ("pow(a, 2)", "unknown function 'pow' at position 1; allowed: abs, max, min"),
        ("abs(a, b)", "abs() takes exactly one argument"),
        ("min(a)", "min() takes two or more arguments"),
        ("max(a)", "max() takes two or more arguments"),
        ("a[area]", "expected '='"),
        ("a[=city]", "expected a disaggregation name"),
        ("a[area=]", "expected a category"),
        ("a[area=city, area=hackney]", "names the same disaggregation twice"),
        ("a.b", "unexpected character '.'"),
        ("'a'", "unexpected character"),
        ("a" * 2001, "longer than 2000 characters"),
    ],
)
def test_invalid_expressions_say_what_is_wrong_and_where(text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as excinfo:
        parse(text)
    assert message in str(excinfo.value)


def test_chained_comparisons_are_refused_in_rules() -> None:
    with pytest.raises(ExpressionError, match="chained comparison"):
        parse("a <= b <= c", allow_comparison=True)


def test_a_comparison_cannot_hide_inside_brackets() -> None:
    with pytest.raises(ExpressionError):
        parse("(a < b) + 1", allow_comparison=True)


@pytest.mark.parametrize(
    "text",
    [
        "(" * 61 + "a" + ")" * 61,  # nesting
        "-" * 61 + "a",  # unary nesting
        "min(1, " * 61 + "a" + ")" * 61,  # nested calls
        "+".join(["a"] * 999),  # a long flat chain is a deep tree
        "*".join(["1"] * 999),
        "a-" * 300 + "a",
    ],
)
def test_deep_or_huge_inputs_raise_expression_error_not_recursion_error(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse(text)


def test_a_long_but_reasonable_sum_is_fine() -> None:
    text = " + ".join(f"item_{n}" for n in range(150))
    node = parse(text)
    assert evaluate(node, lambda ref: F(1)) == 150
    assert len(refs(node)) == 150


def test_huge_numbers_stay_exact() -> None:
    big = "9" * 500
    assert evaluate(parse(f"{big} * {big} / {big}"), lambda ref: None) == int(big)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('echo pwned')",
        "open('/etc/passwd').read()",
        "eval('1')",
        "exec('x = 1')",
        "a.__class__",
        "lambda: 1",
        "[x for x in a]",
        "a if b else c",
        "a; import os",
        "quit_dates[area=__import__('os')]",
        "globals()",
    ],
)
def test_python_code_is_not_an_expression(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse(text)


def test_not_text_is_refused() -> None:
    with pytest.raises(ExpressionError, match="must be text"):
        parse(42)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- properties

# Audit events raised when anything is compiled, executed, imported, opened or run; the hook below records them
# only while `_watching` is set, so hypothesis and pytest themselves are not observed.
_DANGEROUS = ("exec", "compile", "import", "open", "os.system", "subprocess.Popen", "os.exec", "os.spawn")
_watching: list[list[str]] = []


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _watching and event.startswith(_DANGEROUS):
        _watching[-1].append(event)


sys.addaudithook(_audit)


def watched(action: Callable[[], object]) -> tuple[list[str], object]:
    """Run `action`, returning the dangerous audit events it raised and its result (or ExpressionError)."""
    events: list[str] = []
    _watching.append(events)
    try:
        outcome = action()
    except ExpressionError as exc:
        outcome = exc
    finally:
        _watching.pop()
    return events, outcome


def parse_and_evaluate_watched(text: str, allow_comparison: bool) -> tuple[list[str], object]:
    """Parse and evaluate `text` under watch; every item is worth the length of its name."""
    return watched(lambda: evaluate(parse(text, allow_comparison=allow_comparison), lambda ref: F(len(ref.item))))


def test_the_watch_would_see_python_code_being_run() -> None:
    events, outcome = watched(lambda: eval("1 + 1"))  # noqa: S307 - the point of the test
    assert outcome == 2
    assert "exec" in events or "compile" in events


_ALPHABET = st.sampled_from(list("abcxyz_019.()[]=,+-*/<>!= \t\n'\"%;:{}@#$^&|~`\\é٣") + [
    "min", "max", "abs", "quit_dates", "area=city", "__import__", "os", "eval", "**", "==", "<=", ">=",
])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ALPHABET, max_size=60).map("".join), st.booleans())
def test_any_text_either_parses_or_raises_expression_error_and_runs_nothing(text: str, rules: bool) -> None:
    events, outcome = parse_and_evaluate_watched(text, rules)
    assert events == []
    assert isinstance(outcome, (ExpressionError, Fraction, bool)) or outcome is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_unicode_never_crashes_the_parser(text: str) -> None:
    events, outcome = parse_and_evaluate_watched(text, True)
    assert events == []
    assert isinstance(outcome, (ExpressionError, Fraction, bool)) or outcome is None


_NAMES = st.sampled_from(["a", "b", "quit_dates", "quits_4wk", "x1"])
_LEAVES = st.one_of(
    st.builds(lambda n: Num(F(n)), st.integers(0, 10**6)),
    st.builds(lambda n, d: Num(F(n, 10**d)), st.integers(0, 10**6), st.integers(0, 4)),
    st.builds(Ref, _NAMES),
    st.builds(lambda name, cat: Ref(name, (("area", cat),)), _NAMES, st.sampled_from(["city", "hackney", "18_24"])),
)
_TREES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.builds(BinOp, st.sampled_from("+-*/"), inner, inner),
        st.builds(Neg, inner),
        st.builds(lambda args: Call("min", tuple(args)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda args: Call("max", tuple(args)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda arg: Call("abs", (arg,)), inner),
    ),
    max_leaves=25,
)
_VALUES = st.dictionaries(_NAMES, st.one_of(st.none(), st.fractions(min_value=-1000, max_value=1000)))


def _exact(node: expressions.Node, values: dict[str, Fraction | None]) -> Fraction | None:
    """An independent reference evaluator: Python's Fraction arithmetic, None spreading, None on x/0."""
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Ref):
        return values.get(str(node))
    if isinstance(node, Neg):
        value = _exact(node.operand, values)
        return None if value is None else -value
    if isinstance(node, BinOp):
        a, b = _exact(node.left, values), _exact(node.right, values)
        if a is None or b is None or (node.op == "/" and b == 0):
            return None
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else None}[node.op]
    assert isinstance(node, Call)
    args = [_exact(arg, values) for arg in node.args]
    if any(arg is None for arg in args):
        return None
    if node.name == "abs":
        return abs(args[0])  # type: ignore[arg-type]
    return min(args) if node.name == "min" else max(args)  # type: ignore[type-var]


@settings(max_examples=300, deadline=None)
@given(_TREES, _VALUES)
def test_generated_expressions_round_trip_and_evaluate_like_exact_arithmetic(
        node: expressions.Node, values: dict[str, Fraction | None]) -> None:
    text = to_text(node)
    reparsed = parse(text)
    table = {str(ref): values.get(ref.item) for ref in refs(reparsed)}
    result = evaluate(reparsed, lambda ref: table[str(ref)])
    assert result == _exact(reparsed, table)
    assert result is None or isinstance(result, Fraction)


@given(st.integers(min_value=-10**25, max_value=10**25), st.integers(min_value=0, max_value=12),
       st.integers(min_value=0, max_value=12))
def test_a_number_written_back_as_text_parses_to_the_same_value(numerator: int, twos: int, fives: int) -> None:
    """`to_text` once printed floats (`1e-05`, `1.2345678901234568e+20`) that parse as something else."""
    value = Fraction(numerator, 2 ** twos * 5 ** fives)
    text = to_text(BinOp("*", parse("a"), Num(value)))
    again = parse(text)
    assert isinstance(again, BinOp) and to_text(again) == text
    assert evaluate(again, lambda ref: Fraction(1)) == value


# ----------------------------------------------------------------------------- compiled once (kpi_core/compiled.py)

_RULES = st.one_of(_TREES, st.builds(Compare, st.sampled_from(["==", "!=", "<=", ">=", "<", ">"]), _TREES, _TREES))


@settings(max_examples=300, deadline=None)
@given(_RULES, _VALUES)
def test_a_compiled_expression_gives_exactly_what_evaluating_its_tree_gives(
        node: expressions.Node, values: dict[str, Fraction | None]) -> None:
    figures = {ref.key: values.get(ref.item) for ref in refs(node)}
    expected = evaluate(node, lambda ref: figures.get(ref.key))
    got = compile_node(node)(figures)
    assert type(got) is type(expected) and got == expected
    assert compiled(to_text(node), allow_comparison=True)(figures) == expected


def test_an_expression_text_is_compiled_once_and_its_figures_looked_up_by_key() -> None:
    assert compiled("a / b[area=city]") is compiled("a / b[area=city]")
    assert compiled("a / b[area=city]")({("a", ""): F(3), ("b", "area=city"): F(4)}) == F(3, 4)
    assert compiled("a / b[area=city]")({("a", ""): F(3), ("b", ""): F(4)}) is None  # the total is not the city
    with pytest.raises(ExpressionError):
        compiled("a +")
