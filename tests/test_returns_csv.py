"""Long-form CSV returns (`item,breakdown,value`) in the encodings and shapes people send."""

from __future__ import annotations

from fractions import Fraction

import pytest
from corpus.filling import TINY_FRAMEWORK

from kpi_core import loader
from kpi_core.assess import assess
from kpi_core.calendar import parse_period
from kpi_core.returns.reader import read_return

TINY = loader.load_text(TINY_FRAMEWORK)
Q2 = parse_period("2025-26-Q2", 4)
TEXT = ("item,breakdown,value\nstarts,,\"1,600\"\nstarts,sex=female,1000\nstarts,Sex = Male,600\nquits,,840\n"
        "quits,sex=female,500\nquits,sex=male,340\nsatisfaction,, 52.5% \nhours,,120\npolicy,,Yes\n")
EXPECTED = {("starts", ""): Fraction(1600), ("starts", "sex=female"): Fraction(1000),
            ("starts", "sex=male"): Fraction(600), ("quits", ""): Fraction(840),
            ("quits", "sex=female"): Fraction(500), ("quits", "sex=male"): Fraction(340),
            ("satisfaction", ""): Fraction(105, 2), ("hours", ""): Fraction(120), ("policy", ""): Fraction(1)}


@pytest.mark.parametrize("encoded", [
    TEXT.encode("utf-8"),
    TEXT.encode("utf-8-sig"),
    TEXT.encode("cp1252"),
    TEXT.encode("utf-16"),
    TEXT.replace("\n", "\r\n").encode("utf-8"),
], ids=["utf-8", "utf-8-bom", "windows-1252", "utf-16", "crlf"])
def test_a_long_form_csv_reads_the_same_in_every_common_encoding(encoded: bytes) -> None:
    result = assess(TINY, Q2, read_return(encoded, "return.csv"))
    assert result.accepted, [f.text() for f in result.findings]
    assert result.interpretation.values == EXPECTED


def test_windows_1252_text_keeps_its_pound_signs_and_dashes() -> None:
    data = "item,breakdown,value\n# spend \u2013 £3,000 this quarter\nhours,,\"£3,000\"\n".encode("cp1252")
    parsed = read_return(data, "return.csv")
    assert [(e.item, e.raw) for e in parsed.entries] == [("hours", "£3,000")]


def test_a_semicolon_separated_file_from_a_european_excel_reads() -> None:
    data = TEXT.replace(",", ";").replace('"1;600"', "1600").encode()
    result = assess(TINY, Q2, read_return(data, "return.csv"))
    assert result.interpretation.values == EXPECTED


def test_a_file_without_a_header_is_read_as_item_breakdown_value() -> None:
    data = TEXT.split("\n", 1)[1].encode()
    assert assess(TINY, Q2, read_return(data, "return.csv")).interpretation.values == EXPECTED


def test_earlier_periods_of_the_year_in_a_period_column_become_history() -> None:
    data = (TEXT.replace("item,breakdown,value", "item,breakdown,value,period")
            + "starts,,1500,2025-26-Q1\nquits,,700,2025-26-Q1\n").encode()
    result = assess(TINY, Q2, read_return(data, "return.csv"))
    assert result.interpretation.history == {"2025-26-Q1": {("starts", ""): Fraction(1500),
                                                            ("quits", ""): Fraction(700)}}


def test_a_csv_under_a_workbook_name_is_refused_as_text_not_read_as_csv() -> None:
    parsed = read_return(TEXT.encode(), "return.xlsx")
    assert parsed.unreadable and not parsed.entries
    [finding] = parsed.findings
    assert (finding.code, finding.message) == ("not_a_workbook", "return.xlsx is a text file, not an Excel workbook")
    assert "name it return.csv" in finding.fix


@pytest.mark.parametrize(("line", "code", "where"), [
    ("starts,,", "missing_item", "line 2"),  # empty is "not given", and says where
    ("starts,,abc", "not_a_number", "line 2"),
    ("starts,,-5", "negative", "line 2"),
    ("starts,,12.5", "not_whole", "line 2"),
    ("starts,age=young,5", "unknown_breakdown", "line 2"),
    ("sarts,,5", "unknown_item", "line 2"),
])
def test_each_bad_line_is_named_by_its_line_number(line: str, code: str, where: str) -> None:
    rest = "\n".join(line for line in TEXT.splitlines()[1:] if not line.startswith("starts,,"))
    data = f"item,breakdown,value\n{line}\n{rest}\n".encode()
    result = assess(TINY, Q2, read_return(data, "return.csv"))
    assert (code, where) in [(f.code, f.where) for f in result.errors]


def test_a_figure_computed_by_a_formula_keeps_ten_decimals_instead_of_being_refused() -> None:
    from fractions import Fraction

    from kpi_core.returns.numbers import parse_number

    assert parse_number(42.666666666666664).value == Fraction(426666666667, 10**10)  # type: ignore[union-attr]
    assert parse_number("7.142857142857143").value == Fraction(71428571429, 10**10)  # type: ignore[union-attr]
