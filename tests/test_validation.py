"""Validation of a parsed return: cover against caller, periods, swings against the previous period, totals."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from corpus.filling import TINY_FRAMEWORK

from kpi_core import loader
from kpi_core.assess import assess
from kpi_core.calendar import parse_period
from kpi_core.findings import Finding
from kpi_core.returns.model import Entry, ParsedReturn, UncachedFormula
from kpi_core.validation import (
    SWING_FLOOR,
    check_rules,
    interpret,
    span,
    swing_findings,
)

TINY = loader.load_text(TINY_FRAMEWORK)
Q2 = parse_period("2025-26-Q2", 4)
FIGURES = {"starts": 100, "quits": 50, "satisfaction": 80, "hours": 10, "policy": "yes"}


def parsed(figures: dict[str, object] | None = None, cover: dict[str, str] | None = None,
           extra: list[Entry] = ()) -> ParsedReturn:  # type: ignore[assignment]
    """A return as a reader hands it over: one entry per figure, cells named as on a Data sheet."""
    entries = [Entry(item, "", value, f"Data!E{row}") for row, (item, value) in
               enumerate({**FIGURES, **(figures or {})}.items(), start=5)]
    cover = cover or {}
    cells = {key: f"Cover!B{row}" for row, key in enumerate(("framework", "contract", "period"), start=6)}
    return ParsedReturn("r.xlsx", "xlsx", entries + list(extra), cover=cover,
                        cover_cells={k: v for k, v in cells.items() if k in cover})


def codes(findings: tuple[Finding, ...] | list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.severity, f.code, f.where) for f in findings]


# ----------------------------------------------------------------------------- cover and period

@pytest.mark.parametrize(("cover", "expected_contract", "expected"), [
    ({"framework": "tiny", "contract": "tiny-contract", "period": "2025-26-Q2"}, "tiny-contract", []),
    ({"period": "2025/26 Q2"}, None, []),  # the same period written another way
    ({"period": "2025-26-Q1"}, None, [("error", "period_mismatch", "Cover!B8")]),
    ({"period": "next quarter"}, None, [("error", "bad_period", "Cover!B8")]),
    ({"contract": "tiny-2024"}, "tiny-contract", [("error", "contract_mismatch", "Cover!B7")]),
    ({"contract": "tiny-2024"}, None, []),  # nobody said which contract: the cover's is taken as given
    ({"framework": "other"}, "tiny-contract", [("error", "wrong_template", "Cover!B6")]),
])
def test_the_cover_is_compared_with_what_the_return_was_sent_for(cover: dict[str, str], expected_contract: str | None,
                                                                 expected: list[tuple[str, str, str]]) -> None:
    result = assess(TINY, Q2, parsed(cover=cover), expected_contract=expected_contract)
    assert codes(result.findings) == expected


def test_a_workbook_of_another_framework_is_not_read_item_by_item() -> None:
    result = assess(TINY, Q2, parsed({"vba_organisations": 3}, cover={"framework": "other"}))
    assert codes(result.findings) == [("error", "wrong_template", "Cover!B6")]
    assert result.interpretation.values == {}


@pytest.mark.parametrize(("today", "expected"), [
    (date(2025, 6, 30), [("error", "future_period", "Cover!B8")]),
    (date(2025, 9, 1), [("warning", "period_not_ended", "Cover!B8")]),
    (date(2025, 10, 1), []),
])
def test_a_period_in_the_future_is_refused_at_the_cover_cell(today: date, expected: list[tuple[str, str, str]]) -> None:
    result = assess(TINY, Q2, parsed(cover={"period": "2025-26-Q2"}), today=today)
    assert codes(result.findings) == expected


# ----------------------------------------------------------------------------- swings

@pytest.mark.parametrize(("now", "before", "warned"), [
    (100, 40, True),  # more than doubled
    (100, 50, False),  # exactly doubled
    (100, 201, True),  # fell by more than half
    (19, 5, False),  # both under the floor: small numbers double by chance
    (SWING_FLOOR, 9, True),
    (0, 40, True),  # dropped to nothing
    (0, 0, False),
])
def test_a_total_that_more_than_doubles_or_halves_is_a_warning(now: int, before: int, warned: bool) -> None:
    findings = swing_findings(TINY, "quarterly", {("starts", ""): Fraction(now)}, {("starts", ""): Fraction(before)},
                              "2025-26-Q1", {("starts", ""): "Data!E5"})
    assert [(f.severity, f.code, f.where) for f in findings] == ([("warning", "implausible_swing", "Data!E5")]
                                                                 if warned else [])


def test_the_previous_period_comes_from_history_unless_given() -> None:
    history = {"2025-26-Q1": {("starts", ""): Fraction(30), ("quits", ""): Fraction(50)}}
    result = assess(TINY, Q2, parsed(), history=history)
    swing = [f for f in result.findings if f.code == "implausible_swing"]
    assert [(f.item, f.message) for f in swing] == [("starts", "People starting more than doubled: 100 against 30 in "
                                                              "2025-26-Q1")]
    assert result.accepted  # a warning, not an error
    calm = assess(TINY, Q2, parsed(), history=history, previous={("starts", ""): Fraction(90)})
    assert not [f for f in calm.findings if f.code == "implausible_swing"]


def test_yes_no_items_never_swing() -> None:
    assert swing_findings(TINY, "quarterly", {("policy", ""): Fraction(1)}, {("policy", ""): Fraction(0)}, "p") == []


# ----------------------------------------------------------------------------- figures

def test_empty_is_missing_at_its_cell_and_zero_is_a_figure() -> None:
    blank = ParsedReturn("r.xlsx", "xlsx", parsed({"starts": 0}).entries[1:], blank_cells={"starts": "Data!E5"})
    out = interpret(TINY, "quarterly", Q2, blank)
    assert codes(out.findings) == [("error", "missing_item", "Data!E5")]
    zero = interpret(TINY, "quarterly", Q2, parsed({"starts": 0, "quits": 0}))
    assert zero.values[("starts", "")] == 0
    assert not [f for f in zero.findings if f.is_error]


def test_a_figure_that_cannot_be_read_is_reported_once_not_also_as_missing() -> None:
    out = interpret(TINY, "quarterly", Q2, parsed({"starts": "n/a", "quits": UncachedFormula("A1*2")}))
    assert codes(out.findings) == [("error", "not_a_number", "Data!E5"), ("error", "formula_no_value", "Data!E6")]


def test_an_unreadable_file_is_not_also_missing_every_item() -> None:
    broken = ParsedReturn("r.xlsx", "xlsx", findings=[Finding("error", "encrypted", "protected")])
    assert codes(interpret(TINY, "quarterly", Q2, broken).findings) == [("error", "encrypted", "")]


def test_averages_by_category_need_not_add_up_to_the_total() -> None:
    framework = loader.load_text(TINY_FRAMEWORK.replace('id = "satisfaction"\n', 'id = "satisfaction"\n'
                                                        'breakdowns = ["sex"]\n'))
    extra = [Entry("satisfaction", "sex=female", 90, "Sex!E4"), Entry("satisfaction", "sex=male", 70, "Sex!E5")]
    out = interpret(framework, "quarterly", Q2, parsed(extra=extra))
    assert not [f for f in out.findings if f.is_error]


def test_a_breakdown_that_does_not_add_up_names_the_total_and_the_breakdown_cells() -> None:
    extra = [Entry("starts", "sex=female", 60, "Sex!C4"), Entry("starts", "sex=male", 30, "Sex!C5")]
    out = interpret(TINY, "quarterly", Q2, parsed(extra=extra))
    finding = next(f for f in out.findings if f.code == "breakdown_total")
    assert finding.where == "Data!E5 and Sex!C4:C5"
    assert finding.message == "People starting by sex adds up to 90 but the total is 100"


@pytest.mark.parametrize(("cells", "expected"), [
    (["Sex!C4", "Sex!C5", "Sex!C6"], "Sex!C4:C6"),
    (["'Age band'!D9"], "'Age band'!D9"),
    (["Sex!C4", "Sex!D4"], "Sex!C4, Sex!D4"),
    (["line 3", "line 4"], "line 3, line 4"),
    ([], ""),
])
def test_cells_in_one_column_are_shown_as_a_range(cells: list[str], expected: str) -> None:
    assert span(cells) == expected


# ---------------------------------------------------------------- generated "part <= whole" rules (issue 11)


@pytest.mark.parametrize(
    ("framework_id", "figures", "rule_id"),
    [
        # 102 four-week quitters with serious mental illness against 11 who set a quit date (CH 1.4 by group).
        ("ch-stop-smoking", {("quits_4wk", "priority_group=smi"): Fraction(102),
                             ("quit_dates", "priority_group=smi"): Fraction(11)}, "within_1_4_priority_group_smi"),
        # 1,000% = 40 of 4 (Solihull's quit rate by quit aid: its rule, written once, holds in every category).
        ("solihull-stop-smoking", {("quits_4wk", "quit_aid=e_cig_only"): Fraction(40),
                                   ("quit_dates", "quit_aid=e_cig_only"): Fraction(4)},
         "quits_within_quit_dates_quit_aid_e_cig_only"),
        # 99 of 87: more face-to-face interventions than interventions.
        ("solihull-stop-smoking", {("interventions", "delivery_mode=face_to_face"): Fraction(99),
                                   ("interventions", ""): Fraction(87)}, "within_t4_3a"),
        ("ch-stop-smoking", {("lost_4wk", "sex=female"): Fraction(30), ("quit_dates", "sex=female"): Fraction(20)},
         "within_1_9_sex_female"),
    ],
)
def test_a_part_larger_than_its_whole_is_refused_per_breakdown_category(
        framework_id: str, figures: dict[tuple[str, str], Fraction], rule_id: str) -> None:
    """Every rate whose numerator is a subset of its denominator gets "numerator <= denominator", per category."""
    framework = loader.get(framework_id)
    rule = next(r for r in framework.rules if r.id == rule_id)
    assert rule.generated and rule.severity == "error"
    findings = [f for f in check_rules(framework, figures) if f.code == f"rule:{rule_id}"]
    assert len(findings) == 1 and findings[0].is_error and "cannot exceed" in findings[0].message


def test_an_explicit_rule_keeps_its_severity_and_is_not_generated_again() -> None:
    framework = loader.get("ch-stop-smoking")
    checks = [r.check for r in framework.rules]
    assert checks.count("quits_4wk <= quit_dates") == 1
    assert next(r for r in framework.rules if r.check == "quits_4wk <= quit_dates").generated is False


def test_a_rate_marked_as_a_different_cohort_gets_no_generated_rule() -> None:
    """Lifestyle AR.12c: people leaving this year may have started last year."""
    framework = loader.get("lifestyle")
    assert framework.indicator("AR.12c").different_cohort
    assert not any(r.id.startswith("within_ar_12c") for r in framework.rules)
