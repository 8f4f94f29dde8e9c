"""Generated files and cell values never crash kpibot: every outcome is findings or a score."""

from __future__ import annotations

import csv
import io
import math
from datetime import datetime
from fractions import Fraction

import openpyxl
from corpus.filling import TINY_FRAMEWORK, fill
from fuzzing import fuzz
from hypothesis import given
from hypothesis import strategies as st

from bot.workbooks.template import build_template
from kpi_core import loader
from kpi_core.assess import Assessment, assess
from kpi_core.calendar import parse_period
from kpi_core.returns.model import ParsedReturn
from kpi_core.returns.numbers import NumberError, parse_number
from kpi_core.returns.reader import read_return

TINY = loader.load_text(TINY_FRAMEWORK)
Q1 = parse_period("2025-26-Q1", 4)
TEMPLATE = build_template(TINY, contract_id="tiny-contract", contract_name="Tiny", provider_name="Tiny Ltd", period=Q1)
GOOD = fill(TEMPLATE, {("starts", ""): 40, ("quits", ""): 20, ("satisfaction", ""): 80, ("policy", ""): "Yes"}, TINY)
SETTINGS = fuzz(60)


def outcome(data: bytes, name: str) -> ParsedReturn | Assessment:
    """What kpibot makes of a file: the reading findings when unreadable, else the assessment."""
    parsed = read_return(data, name)
    if parsed.unreadable:
        assert parsed.findings and all(f.message for f in parsed.findings)
        return parsed
    result = assess(TINY, Q1, parsed, expected_contract="tiny-contract")
    assert result.findings or result.scorecard.indicators
    assert all(f.message and (f.fix or not f.is_error) for f in result.findings if f.code != "rule:quits_within_starts")
    return result


@SETTINGS
@given(st.binary(max_size=3000), st.sampled_from(["r.csv", "r.xlsx", "r.xls", "r"]))
def test_any_bytes_under_any_name_give_findings_or_a_score(data: bytes, name: str) -> None:
    outcome(data, name)


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(0, 255)), min_size=1, max_size=8),
       st.integers(100, len(GOOD)))
def test_a_damaged_workbook_gives_findings_or_a_score(changes: list[tuple[int, int]], keep: int) -> None:
    data = bytearray(GOOD)
    for position, byte in changes:
        data[position] = byte
    outcome(bytes(data[:keep]), "r.xlsx")


items = st.sampled_from(["starts", "quits", "satisfaction", "hours", "policy", "late_returns", "audits", "Starts ",
                         "People starting", ""]) | st.text(max_size=12)
breakdowns = st.sampled_from(["", "sex=female", "sex=male", "Sex = Male", "priority=smi", "sex", "age=1"]) \
    | st.text(max_size=12)
values = (st.integers(-10**6, 10**7).map(str) | st.floats(allow_nan=True, allow_infinity=True).map(str)
          | st.integers(0, 10**7).map(lambda n: f"{n:,}") | st.decimals(0, 100, places=2).map(lambda d: f"{d}%")
          | st.sampled_from(["", " ", "yes", "No", "#REF!", "(12)", "£3,000", "1e400", "'5"]) | st.text(max_size=15))
periods = st.sampled_from(["", "2025-26-Q1", "2025-26-Q4", "Q1 2025-26", "2024-25-Q1", "soon"])


@SETTINGS
@given(st.lists(st.tuples(items, breakdowns, values, periods), max_size=25),
       st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]), st.booleans())
def test_any_long_form_csv_gives_findings_or_a_score(rows: list[tuple[str, str, str, str]], encoding: str,
                                                     header: bool) -> None:
    text = io.StringIO()
    writer = csv.writer(text)
    if header:
        writer.writerow(["item", "breakdown", "value", "period"])
    writer.writerows(rows)
    outcome(text.getvalue().encode(encoding, errors="replace"), "r.csv")


cell_values = (st.none() | st.integers(-10**9, 10**12) | st.floats(allow_nan=False, allow_infinity=False)
               | st.booleans()
               # Excel cannot hold control characters in a cell (openpyxl refuses them too).
               | st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=20)
               .filter(lambda t: not t.startswith("="))
               | st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1))
               | st.sampled_from(["=1+1", "=SUM(A1:A3)", "=#REF!", "1,600", "52.5%"]))
cells = st.sampled_from([("starts", ""), ("quits", ""), ("satisfaction", ""), ("hours", ""), ("policy", ""),
                         ("starts", "sex=female"), ("quits", "sex=male"), ("starts", "priority=pregnant")])


@fuzz(25)
@given(st.dictionaries(cells, cell_values, min_size=1, max_size=8))
def test_any_cell_values_give_findings_or_a_score(typed: dict[tuple[str, str], object]) -> None:
    outcome(fill(TEMPLATE, typed, TINY), "r.xlsx")


@fuzz(25)
@given(st.floats(allow_nan=False) | st.integers(-10**15, 10**15),
       st.sampled_from(["General", "yyyy-mm-dd", "h:mm:ss", "0.00%", "[h]:mm", "#,##0", "@"]))
def test_any_number_under_any_cell_format_gives_findings_or_a_score(number: float, number_format: str) -> None:
    book = openpyxl.load_workbook(io.BytesIO(TEMPLATE))
    cell = book["Data"]["E5"]  # starts
    cell.value, cell.number_format = number, number_format
    out = io.BytesIO()
    book.save(out)
    outcome(out.getvalue(), "r.xlsx")


@fuzz(25)
@given(st.integers(0, 10**9))
def test_a_whole_number_in_a_count_cell_reads_back_exactly(number: int) -> None:
    result = outcome(fill(TEMPLATE, {("starts", ""): number}, TINY), "r.xlsx")
    assert isinstance(result, Assessment)
    assert result.interpretation.values[("starts", "")] == number


@fuzz(300)
@given(st.text(max_size=30) | st.floats() | st.integers() | st.booleans() | st.none() | st.datetimes())
def test_reading_a_number_either_gives_one_or_says_why_not(raw: object) -> None:
    try:
        figure = parse_number(raw)
    except NumberError as exc:
        assert str(exc)
        return
    assert figure is None or isinstance(figure.value, Fraction)
    if isinstance(raw, float) and math.isfinite(raw):  # the figure as shown, or rounded at the 10th decimal
        assert figure is not None
        assert float(figure.value) == raw or abs(figure.value - Fraction(raw)) <= Fraction(1, 2 * 10**10)


def test_the_damaged_workbook_base_is_itself_readable() -> None:
    book = openpyxl.load_workbook(io.BytesIO(GOOD))
    assert book.sheetnames[:2] == ["Cover", "Data"]
    assert isinstance(outcome(GOOD, "r.xlsx"), Assessment)
