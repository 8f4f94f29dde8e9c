"""Small files never make unbounded work (issue 14, point 4): the files that did are made here and each is either
refused at a bound or leaves a capped list of findings. Time and memory are measured in
benchmarks/bench_hostile_files.py, never asserted here."""

from __future__ import annotations

import io

import openpyxl
from corpus.filling import TINY_FRAMEWORK, fill
from corpus.hostile import narrow_workbook, unknown_items_csv

from bot.workbooks.template import build_template
from kpi_core import loader
from kpi_core.assess import assess
from kpi_core.calendar import parse_period
from kpi_core.findings import MAX_LISTED, MORE, cap_findings
from kpi_core.returns.personal_data import MAX_ROWS
from kpi_core.returns.reader import read_return
from kpi_core.returns.safety import Limits

FRAMEWORK = loader.get("ch-stop-smoking")
Q1 = parse_period("2025-26-Q1", 4)


def test_the_26_kb_csv_of_unknown_items_is_read_and_its_findings_cap_at_the_limit() -> None:
    data = unknown_items_csv(26 * 1024)
    parsed = read_return(data, "unknown.csv")
    assert len(parsed.entries) == data.count(b"\n") - 1 and parsed.findings == []
    capped = assess(FRAMEWORK, Q1, parsed).findings  # what the assessment, the reply and the report show
    assert len(capped) == MAX_LISTED + 1
    assert capped[-1].code == MORE and capped[-1].is_error
    assert int(capped[-1].extra["unknown_item"]) > 900 - MAX_LISTED  # 900-odd unknown items, the rest counted
    assert cap_findings(capped) == list(capped)  # capping again changes nothing


def test_the_5_mb_csv_is_refused_at_the_row_bound_without_reading_on() -> None:
    data = unknown_items_csv(5 * 1024 * 1024)
    assert data.count(b"\n") > 15 * MAX_ROWS
    parsed = read_return(data, "unknown.csv")
    assert parsed.personal_data and parsed.entries == []
    assert f"the file has more than {MAX_ROWS:,} lines" in parsed.findings[0].message


def test_the_100k_row_narrow_workbook_is_refused_from_its_xml_before_it_is_loaded() -> None:
    data = narrow_workbook(100_000)
    assert len(data) < 2 * 1024 * 1024
    parsed = read_return(data, "narrow.xlsx")
    assert parsed.personal_data and parsed.entries == []
    assert parsed.findings[0].where == "Data!A1"
    assert f"sheet 'Data' has more than {MAX_ROWS:,} filled rows" in parsed.findings[0].message


def test_a_narrow_workbook_just_under_the_row_bound_is_read_and_its_findings_cap() -> None:
    parsed = read_return(narrow_workbook(MAX_ROWS - 1), "narrow.xlsx")
    assert len(parsed.entries) == MAX_ROWS - 1
    assert len(cap_findings(assess(FRAMEWORK, Q1, parsed).findings)) == MAX_LISTED + 1


def test_a_csv_with_more_fields_than_the_cell_limit_is_refused_at_the_line_it_passes_it() -> None:
    data = b"item,breakdown,value\nquit_dates,,400\n" + b",".join(b"1" for _ in range(200)) + b"\n"
    parsed = read_return(data, "wide.csv", limits=Limits(max_cells=100))
    assert parsed.unreadable and not parsed.personal_data
    [finding] = parsed.findings
    assert (finding.code, finding.where) == ("too_many_cells", "line 3")
    assert "more than 100 fields" in finding.message


def test_the_csv_reader_s_own_findings_are_capped() -> None:
    data = b"item,breakdown,value\nquit_dates,,400\n" + b",,5\n" * 500
    parsed = read_return(data, "r.csv")
    assert len(parsed.findings) == MAX_LISTED + 1
    assert parsed.findings[-1].message == f"{500 - MAX_LISTED} more problems not listed: missing item id ({500 - MAX_LISTED})"


def test_the_workbook_reader_s_own_findings_are_capped() -> None:
    tiny = loader.load_text(TINY_FRAMEWORK)
    template = build_template(tiny, contract_id="t", contract_name="Tiny", provider_name="Tiny Ltd", period=Q1)
    book = openpyxl.load_workbook(io.BytesIO(fill(template, {("starts", ""): 40}, tiny)))
    for row in range(20, 20 + MAX_LISTED + 150):
        book["Data"].cell(row, 5, 1)  # a value with no item id, 150 times more than are listed
    out = io.BytesIO()
    book.save(out)
    parsed = read_return(out.getvalue(), "r.xlsx")
    assert [f.code for f in parsed.findings].count("missing_item_id") == MAX_LISTED
    assert parsed.findings[-1].extra == {"missing_item_id": "150"}
