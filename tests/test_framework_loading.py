"""Framework files: a valid one loads; an invalid one is refused naming the key, what is wrong and what is allowed."""

from __future__ import annotations

import json
import tomllib
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_core import loader
from kpi_core.calendar import parse_period
from kpi_core.framework.model import Framework
from kpi_core.framework.payment_rules import LinearPayment
from kpi_core.loader import FrameworkError

BASE = """
schema = 1
id = "base"
name = "Base framework"

[calendar]
year_start_month = 4

[returns.quarterly]
label = "Quarterly return"
frequency = "quarterly"
due = { rule = "day_of_next_month", day = 15 }

[returns.annual]
label = "Annual return"
frequency = "annual"
due = { rule = "date_after", month = 4, day = 30 }

[disaggregations.area]
label = "Area"
categories = { hackney = "Hackney", city = "City of London" }

[[items]]
id = "quit_dates"
label = "Quit dates"
breakdowns = ["area"]

[[items]]
id = "quits"
label = "Quits"

[[items]]
id = "national_rate"
label = "National rate"
type = "average"
required = false

[[indicators]]
ref = "1.1"
name = "Quit dates"
kind = "count"
expression = "quit_dates"
target = ">= 250"
critical = "< 180"
cumulative = true

[[indicators]]
ref = "1.2"
name = "Quit rate"
kind = "percentage"
numerator = "quits"
denominator = "quit_dates"
target = ">= 50"

[[rules]]
id = "quits_within"
check = "quits <= quit_dates"
message = "Quits cannot exceed quit dates"

[[payments]]
id = "pbr"
name = "Payment by results"
kind = "linear"
indicator = "1.2"
share = "5%"
minimum = 50
stretch = 60
"""


def broken(old: str, new: str) -> str:
    """BASE with one change; the change must apply, so a test cannot silently check the valid file."""
    assert BASE.count(old) == 1, old
    return BASE.replace(old, new)


def problems_of(text: str) -> list[str]:
    with pytest.raises(FrameworkError) as excinfo:
        loader.load_text(text, "broken.toml")
    assert str(excinfo.value).startswith("broken.toml: ")
    return excinfo.value.problems


def test_the_base_framework_is_valid() -> None:
    framework = loader.load_text(BASE)
    assert [i.ref for i in framework.indicators] == ["1.1", "1.2"]
    assert framework.indicator("1.2").multiplier == 100


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(broken('name = "Base framework"', 'name = "Base framework"\ncolour = "red"'),
                     "colour: is not a known key (check its spelling); allowed: assumptions, calendar, description, "
                     "disaggregations, discrepancies, id, indicators, items, name, not_encoded, payments, returns, "
                     "rules, schema, scoring, source, terms, version, versions", id="unknown top-level key"),
        pytest.param(broken('expression = "quit_dates"', 'expresion = "quit_dates"'),
                     "indicators #1 (ref '1.1'): expresion: is not a known key", id="misspelt indicator key"),
        pytest.param(broken('year_start_month = 4', 'year_start = 4'),
                     "calendar.year_start: is not a known key (check its spelling); allowed: year_start_month",
                     id="misspelt calendar key"),
        pytest.param(broken('due = { rule = "day_of_next_month", day = 15 }',
                            'due = { rule = "day_of_next_month", day = 15, roll = true }'),
                     "returns.quarterly.due.roll: is not a known key (check its spelling); allowed: day, "
                     "roll_to_working_day, rule", id="unknown key in a due rule"),
        pytest.param(broken('share = "5%"', 'share = "5%"\nsharre = 1'),
                     "payments #1 (id 'pbr'): sharre: is not a known key (check its spelling); allowed: id, indicator, "
                     "kind, minimum, name, notes, share, stretch", id="unknown key in a payment"),
        pytest.param(broken('kind = "count"', 'kind = "number"'),
                     "indicators #1 (ref '1.1'): kind: must be 'count', 'percentage', 'rate', 'average' or 'ratio' "
                     "(not 'number')",
                     id="bad kind"),
        pytest.param(broken('target = ">= 50"', 'target = "50"'),
                     "indicators #2 (ref '1.2'): target: '50' is not a threshold; write a comparison and a bound, "
                     "e.g. '>= 50' or '< 15'", id="threshold without a comparison"),
        pytest.param(broken('target = ">= 50"', 'target = 50'),
                     "indicators #2 (ref '1.2'): target: write 50 with its comparison, e.g. '>= 50' or '< 50'",
                     id="threshold as a bare number"),
        pytest.param(broken('target = ">= 50"', 'target = "== 50"'),
                     "indicators #2 (ref '1.2'): target: '== 50' is not a threshold", id="equality threshold"),
        pytest.param(broken('expression = "quit_dates"', 'expression = "quit_datez"'),
                     "indicators #1 (ref '1.1'): 'quit_datez' is not a data item; did you mean 'quit_dates'?",
                     id="unknown item in an expression"),
        pytest.param(broken('expression = "quit_dates"', 'expression = "smokers"'),
                     "indicators #1 (ref '1.1'): 'smokers' is not a data item; data items: national_rate, quit_dates, "
                     "quits", id="unknown item with nothing close"),
        pytest.param(broken('expression = "quit_dates"', 'expression = "quit_dates[area=westminster]"'),
                     "indicators #1 (ref '1.1'): 'westminster' is not a category of 'area'; known: city, hackney",
                     id="unknown breakdown category"),
        pytest.param(broken('expression = "quit_dates"', 'expression = "quit_dates[ward=city]"'),
                     "indicators #1 (ref '1.1'): 'quit_dates' is not broken down by 'ward'; it is by: area",
                     id="unknown breakdown dimension"),
        pytest.param(broken('numerator = "quits"', 'numerator = "quits[area=city]"'),
                     "indicators #2 (ref '1.2'): 'quits' is not broken down by 'area'; it is by: (none)",
                     id="breakdown of an item without breakdowns"),
        pytest.param(broken('target = ">= 50"', 'target = ">= national_rat"'),
                     "indicators #2 (ref '1.2'): 'national_rat' is not a data item; did you mean 'national_rate'?",
                     id="unknown item in a threshold"),
        pytest.param(broken('expression = "quit_dates"', 'expression = "sqrt(quit_dates)"'),
                     "indicators #1 (ref '1.1'): expression: 'sqrt(quit_dates)': unknown function 'sqrt' at position "
                     "1; allowed: abs, max, min", id="unknown function"),
        pytest.param(broken('numerator = "quits"', 'numerator = "quits +"'),
                     "indicators #2 (ref '1.2'): numerator: 'quits +': expected a number, name or '(' at position 8",
                     id="incomplete formula"),
        pytest.param(broken('ref = "1.2"', 'ref = "1.1"'),
                     "indicators: ref '1.1' is defined twice", id="duplicate ref"),
        pytest.param(broken('id = "quits"\nlabel = "Quits"', 'id = "quit_dates"\nlabel = "Quits"'),
                     "items: id 'quit_dates' is defined twice", id="duplicate item"),
        pytest.param(broken('critical = "< 180"', 'critical = "< 300"'),
                     "indicators #1 (ref '1.1'): critical '< 300' lies on the good side of target '>= 250'",
                     id="critical on the wrong side of the target"),
        pytest.param(broken('critical = "< 180"', 'critical = "> 100"'),
                     "indicators #1 (ref '1.1'): critical '> 100' points the other way from target '>= 250'",
                     id="critical pointing the wrong way"),
        pytest.param(broken('critical = "< 180"', 'critical = "< 180"\nstretch = ">= 200"'),
                     "indicators #1 (ref '1.1'): stretch '>= 200' is easier than target '>= 250'", id="easy stretch"),
        pytest.param(broken('target = ">= 50"', 'target = ">= 50"\ndirection = "lower"'),
                     "indicators #2 (ref '1.2'): direction is 'lower' but target '>= 50' says higher",
                     id="direction contradicting the target"),
        pytest.param(broken('cumulative = true', 'cumulative = true\ntrajectory = [0.25, 0.25, 0.25, 0.2]'),
                     "indicators #1 (ref '1.1'): a custom trajectory lists each period's share of the annual target, "
                     "adding to 1", id="trajectory not adding to 1"),
        pytest.param(broken('cumulative = true', 'cumulative = true\ntrajectory = [0.5, -0.25, 0.5, 0.25]'),
                     "a custom trajectory lists each period's share", id="negative trajectory share"),
        pytest.param(broken('cumulative = true', 'cumulative = true\ntrajectory = [0.25, 0.25, 0.25, 0.25]\n'
                                                     'returns = ["monthly"]'),
                     "indicators #1 (ref '1.1'): return 'monthly' is unknown; known: annual, quarterly",
                     id="trajectory in an unknown return"),
        pytest.param(broken('cumulative = true', 'cumulative = true\ntrajectory = [0.5, 0.5]'),
                     "indicators #1 (ref '1.1'): trajectory has 2 shares; expected one per period",
                     id="trajectory of the wrong length"),
        pytest.param(broken('denominator = "quit_dates"\n', ''),
                     "indicators #2 (ref '1.2'): a percentage indicator needs numerator and denominator (and no "
                     "expression)", id="percentage without a denominator"),
        pytest.param(broken('kind = "percentage"', 'kind = "rate"'),
                     "indicators #2 (ref '1.2'): a rate needs per, e.g. per = 100000", id="rate without per"),
        pytest.param(broken('target = ">= 250"\n', ''),
                     "indicators #1 (ref '1.1'): give a target, or set information_only = true", id="no target"),
        pytest.param(broken('check = "quits <= quit_dates"', 'check = "quits"'),
                     "rules #1 (id 'quits_within'): check: 'quits' must compare two sides, e.g. 'a <= b'",
                     id="rule that compares nothing"),
        pytest.param(broken('check = "quits <= quit_dates"', 'check = "quits <= quitdates"'),
                     "rules #1 (id 'quits_within'): 'quitdates' is not a data item; did you mean 'quit_dates'?",
                     id="rule with an unknown item"),
        pytest.param(broken('indicator = "1.2"', 'indicator = "9.9"'),
                     "payments #1 (id 'pbr'): indicator '9.9' is not defined", id="payment on an unknown indicator"),
        pytest.param(broken('share = "5%"', 'share = "120%"'),
                     "payments #1 (id 'pbr'): share: a share must lie between 0 and 1 (0% and 100%)",
                     id="share above 100%"),
        pytest.param(broken('share = "5%"', 'share = "5"'),
                     "payments #1 (id 'pbr'): share: write a share as a fraction (0.05) or a percentage ('5%')",
                     id="share without a percent sign"),
        pytest.param(broken('stretch = 60', 'stretch = 50'),
                     "payments #1 (id 'pbr'): minimum and stretch must differ", id="linear payment without a range"),
        pytest.param(broken('kind = "linear"', 'kind = "bonus"'),
                     "payments #1 (id 'pbr'): kind = 'bonus' is not one of 'linear' or 'tiers'",
                     id="unknown payment kind"),
        pytest.param(broken('rule = "day_of_next_month", day = 15', 'rule = "whenever", day = 15'),
                     "returns.quarterly.due: rule = 'whenever' is not one of 'day_of_next_month', 'date_after', "
                     "'working_days_after', 'days_after' or 'end_of_next_month'",
                     id="unknown due rule"),
        pytest.param(broken('rule = "day_of_next_month", day = 15', 'rule = "day_of_next_month", day = 31'),
                     "returns.quarterly.due.day: must be 28 or less (not 31)", id="due day 31"),
        pytest.param(broken('month = 4, day = 30', 'month = 2, day = 30'),
                     "returns.annual.due: month 2 has no day 30", id="30 February"),
        pytest.param(broken('frequency = "quarterly"', 'frequency = "termly"'),
                     "returns.quarterly.frequency: must be 'monthly', 'quarterly' or 'annual' (not 'termly')",
                     id="bad frequency"),
        pytest.param(broken('breakdowns = ["area"]', 'breakdowns = ["ward"]'),
                     "items #1 (id 'quit_dates'): breakdown 'ward' is not a disaggregation; known: area",
                     id="breakdown that is not a disaggregation"),
        pytest.param(broken('label = "Quits"', 'label = "Quits"\nreturns = ["monthly"]'),
                     "items #2 (id 'quits'): return 'monthly' is unknown; known: annual, quarterly",
                     id="item in an unknown return"),
        pytest.param(broken('categories = { hackney = "Hackney", city = "City of London" }',
                            'categories = { hackney = "Hackney" }'),
                     "disaggregations.area.categories: a disaggregation needs at least two categories",
                     id="one-category disaggregation"),
        pytest.param(broken('label = "Quits"', 'label = "Quits"\nweight = "responses"'),
                     "items #2 (id 'quits'): weight 'responses' is not a data item", id="unknown weight"),
        pytest.param(broken('year_start_month = 4', 'year_start_month = 13'),
                     "calendar.year_start_month: must be 12 or less (not 13)", id="month 13"),
        pytest.param(broken('target = ">= 50"', 'target = ">= 50"\namber = { relative = 0.1, absolute = 5 }'),
                     "indicators #2 (ref '1.2'): amber: give exactly one of relative (share of target, e.g. 0.1), "
                     "absolute (in the unit) or between_critical = true", id="amber both ways"),
        pytest.param(broken('schema = 1', 'schema = 2'), "schema: must be 1 (not 2)", id="unknown schema"),
        pytest.param(broken('schema = 1\n', ''), "schema: is required", id="no schema"),
        pytest.param(broken('[[items]]\nid = "quit_dates"', '[[items]]\nid = "Quit Dates"'),
                     "items #1 (id 'Quit Dates'): id: may hold only lower-case letters, digits and underscores",
                     id="id with capitals and spaces"),
        pytest.param(broken('label = "Quit dates"', 'label = "Quit dates"\ncolour = "red"'),
                     "items #1 (id 'quit_dates'): colour: is not a known key", id="unknown key in an item"),
    ],
)
def test_an_invalid_framework_names_the_key_and_what_is_allowed(text: str, expected: str) -> None:
    problems = problems_of(text)
    assert any(expected in problem for problem in problems), problems


def test_an_invalid_entry_is_not_also_reported_as_a_missing_list() -> None:
    only_item = BASE.split("[[items]]")[0] + '[[items]]\nid = "a"\nlabel = "A"\ncolour = 1\n'
    problems = problems_of(only_item)
    assert problems == ["items #1 (id 'a'): colour: is not a known key (check its spelling); allowed: assumed, "
                        "breakdowns, document, expires, guidance, id, label, maximum, minimum, required, returns, "
                        "source, type, unit, weight"]


def test_every_problem_is_reported_at_once() -> None:
    text = broken('expression = "quit_dates"', 'expression = "quit_datez"').replace(
        'indicator = "1.2"', 'indicator = "9.9"')
    problems = problems_of(text)
    assert problems == ["indicators #1 (ref '1.1'): 'quit_datez' is not a data item; did you mean 'quit_dates'?",
                        "payments #1 (id 'pbr'): indicator '9.9' is not defined"]


def test_invalid_toml_names_the_line() -> None:
    (problem,) = problems_of(BASE + "\n[[indicators]\n")
    assert problem.startswith("not valid TOML:")
    assert "line" in problem


def test_a_threshold_with_a_small_decimal_factor_loads() -> None:
    framework = loader.load_text(broken('target = ">= 50"', 'target = ">= 0.00001 * national_rate"'))
    assert framework.indicator("1.2").target.expression is not None  # type: ignore[union-attr]


def test_category_ids_starting_with_digits_can_be_referenced() -> None:
    text = broken('categories = { hackney = "Hackney", city = "City of London" }',
                  'categories = { "18_24" = "18-24", "65_plus" = "65 and over" }').replace(
        'expression = "quit_dates"', 'expression = "quit_dates[area=18_24] + quit_dates[area=65_plus]"')
    framework = loader.load_text(text)
    assert framework.indicator("1.1").expression == "quit_dates[area=18_24] + quit_dates[area=65_plus]"


def test_a_file_that_cannot_be_read_says_so(tmp_path: Path) -> None:
    with pytest.raises(FrameworkError) as excinfo:
        loader.load_path(tmp_path / "missing.toml")
    assert excinfo.value.source.endswith("missing.toml")
    assert excinfo.value.problems[0].startswith("cannot read the file")


def test_a_file_that_is_not_utf8_says_so(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(BASE.replace("Base framework", "Caf\u00e9").encode("latin-1"))
    with pytest.raises(FrameworkError, match="cannot read the file"):
        loader.load_path(path)


def test_the_shipped_ch_stop_smoking_framework_holds_the_seed_schedule(ch_stop_smoking: Framework) -> None:
    assert ch_stop_smoking.id == "ch-stop-smoking"
    assert ch_stop_smoking.indicator("1.5").target.text == ">= 60"  # type: ignore[union-attr]
    assert ch_stop_smoking.indicator("1.9").higher_is_better is False
    (pbr,) = ch_stop_smoking.payments
    assert isinstance(pbr, LinearPayment)
    assert (pbr.indicator, pbr.share, pbr.minimum, pbr.stretch) == ("1.5", Fraction(1, 20), 50, 60)
    assert {r.frequency for r in ch_stop_smoking.returns.values()} == {"quarterly", "annual"}


def test_every_shipped_framework_loads() -> None:
    shipped = loader.shipped()
    assert "ch-stop-smoking" in shipped
    for framework_id, framework in shipped.items():
        assert framework.id == framework_id


def test_an_unknown_framework_id_lists_the_known_ones() -> None:
    with pytest.raises(KeyError) as excinfo:
        loader.get("no-such-framework")
    assert "unknown framework 'no-such-framework'; known: " in str(excinfo.value)
    assert "ch-stop-smoking" in str(excinfo.value)


# ----------------------------------------------------------------------------- property: never a crash


def to_toml(data: dict[str, Any]) -> str:
    """A document of `key = value` lines with inline tables and arrays (enough for any JSON-like data)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return "{" + ", ".join(f"{json.dumps(k)} = {value(x)}" for k, x in v.items()) + "}"

    return "\n".join(f"{json.dumps(k)} = {value(v)}" for k, v in data.items()) + "\n"


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, child in children:
        found += paths(child, prefix + (key,))
    return found


BASE_DATA = tomllib.loads(BASE)
_VALUES = st.one_of(
    st.just("<delete>"), st.integers(-10**6, 10**6), st.text(max_size=12), st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([">= 50", "< 15", "> previous", "quit_dates[area=city]", "5%", "even", "quarterly", "count",
                     "percentage", "1.2", "day_of_next_month", "tiers", "", "quits / 0"]),
    st.lists(st.one_of(st.integers(-5, 5), st.text(max_size=5), st.floats(0, 1)), max_size=5),
    st.dictionaries(st.sampled_from(["id", "rule", "day", "kind", "x", "relative"]), st.integers(-3, 40), max_size=3),
)


def _has(node: Any, key: Any) -> bool:
    if isinstance(node, dict):
        return key in node
    return isinstance(node, list) and isinstance(key, int) and key < len(node)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(paths(BASE_DATA)), _VALUES), min_size=1, max_size=3))
def test_any_mangled_framework_is_either_loaded_or_refused_with_problems(
        changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    data = json.loads(json.dumps(BASE_DATA))
    for path, new in changes:
        node = data
        for key in path[:-1]:
            if not _has(node, key):  # an earlier change may have replaced this part of the tree
                break
            node = node[key]
        else:
            last = path[-1]
            if isinstance(node, dict) and new == "<delete>":
                node.pop(last, None)
            elif isinstance(node, dict) and isinstance(last, str) or _has(node, last):
                node[last] = new
    try:
        framework = loader.load_text(to_toml(data), "mangled.toml")
    except FrameworkError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        # Said in kpibot's words, never the validation library's (issue 20).
        library = ("Input tag", "Input should", "Field required", "String should", "Value error", "valid dictionary")
        assert not [p for p in exc.problems if any(words in p for words in library)], exc.problems
    else:
        assert isinstance(framework, Framework)


# ---------------------------------------------------------------- versions by contract year (issue 12.7)

VERSIONED = BASE + """
[[versions]]
version = "2"
from_contract_year = 2
notes = "Year 2 targets"

[[versions.indicators]]
ref = "1.1"
target = ">= 300"
"""


def test_a_later_version_changes_only_the_fields_it_names(tmp_path: Path) -> None:
    path = tmp_path / "versioned.toml"
    path.write_text(VERSIONED, encoding="utf-8")
    first, later = loader.load_path_versions(path)
    ((version, second),) = later
    assert (first.version, second.version, version.from_contract_year) == ("1", "2", 2)
    assert first.indicator("1.1").target.bound == 250 and second.indicator("1.1").target.bound == 300  # type: ignore[union-attr]
    assert first.indicator("1.2") == second.indicator("1.2")


def test_a_version_naming_an_unknown_indicator_is_refused() -> None:
    problems = problems_of(VERSIONED.replace('ref = "1.1"\ntarget = ">= 300"', 'ref = "9.9"\ntarget = ">= 300"'))
    assert any("versions #1 (version '2'): indicator '9.9' is not defined" in p for p in problems), problems


def test_a_version_with_a_bad_threshold_names_the_version() -> None:
    problems = problems_of(VERSIONED.replace('target = ">= 300"', 'target = "300"'))
    where = "versions #1 (version '2', from contract year 2): indicators #1 (ref '1.1'): target"
    assert any(p.startswith(where) for p in problems), problems


@pytest.mark.parametrize(("period", "start", "year", "version"), [
    ("2025-26-Q4", date(2025, 4, 1), 1, "2025.1"),
    ("2026-27-Q1", date(2025, 4, 1), 2, "2026.1"),
    ("2030-31", date(2025, 4, 1), 6, "2026.1"),
    ("2026-27-Q1", date(2026, 1, 10), 1, "2025.1"),  # a contract starting in January 2026 is in its first year
    ("2027-28-Q1", date(2026, 1, 10), 2, "2026.1"),  # from 10 January 2027 in its second
])
def test_a_return_is_scored_with_the_version_in_force_for_its_contract_year(period: str, start: date, year: int,
                                                                             version: str) -> None:
    """Solihull: "1600 yr 1 (increasing following years)": a year-1 return keeps year 1's version for good."""
    parsed = parse_period(period, 4)
    assert loader.contract_year(parsed, start) == year
    assert loader.for_period("solihull-stop-smoking", parsed, start).version == version


def test_substance_misuse_7_1_is_reviewed_at_24_months_in_contract_year_3() -> None:
    """Seed 004: "Monitor over time, year on year increase expected in first 24 months ... Review target at 24
    months"."""
    versions = {v.from_contract_year: f for v, f in loader.versions("ch-substance-misuse")}
    assert "reviewed at 24 months not yet agreed" in versions[3].indicator("7.1a").target_text
    assert loader.for_year("ch-substance-misuse", 2).indicator("7.1a").target_text.startswith("Monitor over time")


@pytest.mark.parametrize("framework_id", sorted(loader.shipped()))
def test_every_shipped_version_builds_and_keeps_the_returns(framework_id: str) -> None:
    first = loader.get(framework_id)
    for version, framework in loader.versions(framework_id):
        assert framework.version == version.version and framework.returns == first.returns


def test_only_a_document_expires() -> None:
    only_item = BASE.split("[[items]]")[0] + '[[items]]\nid = "a"\nlabel = "A"\nexpires = true\n'
    assert any("only a document expires" in p for p in problems_of(only_item))
