"""Reading filled-in workbooks: what people do to them is tolerated, and read exactly."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from fractions import Fraction

import openpyxl
import pytest
from corpus.filling import TINY_FRAMEWORK, fill
from openpyxl.styles import numbers

from bot.workbooks.template import build_template
from kpi_core import loader
from kpi_core.assess import Assessment, assess
from kpi_core.calendar import parse_period
from kpi_core.returns import layout
from kpi_core.returns.reader import read_return
from kpi_core.returns.xlsx import parse_xlsx

TINY = loader.load_text(TINY_FRAMEWORK)
Q1 = parse_period("2025-26-Q1", 4)
GOOD: dict[tuple[str, str], object] = {
    ("starts", ""): 1600, ("starts", "sex=female"): 1000, ("starts", "sex=male"): 600,
    ("starts", "priority=smi"): 40, ("quits", ""): 840, ("quits", "sex=female"): 500, ("quits", "sex=male"): 340,
    ("satisfaction", ""): 87.5, ("hours", ""): 120, ("policy", ""): "Yes",
}
EXPECTED = {("starts", ""): Fraction(1600), ("starts", "sex=female"): Fraction(1000),
            ("starts", "sex=male"): Fraction(600), ("starts", "priority=smi"): Fraction(40),
            ("quits", ""): Fraction(840), ("quits", "sex=female"): Fraction(500),
            ("quits", "sex=male"): Fraction(340), ("satisfaction", ""): Fraction(175, 2),
            ("hours", ""): Fraction(120), ("policy", ""): Fraction(1)}


def template() -> bytes:
    return build_template(TINY, contract_id="tiny-contract", contract_name="Tiny", provider_name="Tiny Ltd",
                          period=Q1)


def workbook(changes: dict[tuple[str, str], object] | None = None,
             edit: Callable[[openpyxl.Workbook], None] | None = None) -> bytes:
    data = fill(template(), {**GOOD, **(changes or {})}, TINY)
    if edit is None:
        return data
    book = openpyxl.load_workbook(io.BytesIO(data))
    edit(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def assessed(data: bytes, name: str = "return.xlsx") -> Assessment:
    return assess(TINY, Q1, read_return(data, name), expected_contract="tiny-contract")


def test_a_clean_workbook_reads_every_figure_with_its_cell() -> None:
    parsed = read_return(workbook(), "return.xlsx")
    assert parsed.format == "xlsx"
    where = {(e.item, e.breakdown): e.where for e in parsed.entries}
    assert where[("starts", "")] == "Data!E5"
    assert where[("quits", "sex=male")] == "Sex!D5"
    assert where[("starts", "priority=smi")] == "'Priority group - need'!C4"
    result = assessed(workbook())
    assert result.accepted, [f.text() for f in result.findings]
    assert result.interpretation.values == EXPECTED


@pytest.mark.parametrize(("typed", "expected"), [
    ("1,600", Fraction(1600)),
    (" 1600 ", Fraction(1600)),
    ("1600", Fraction(1600)),  # a number stored as text
    ("'1600", Fraction(1600)),
    ("1 600", Fraction(1600)),
    (1600.0, Fraction(1600)),
])
def test_figures_typed_as_people_type_them_read_as_numbers(typed: object, expected: Fraction) -> None:
    result = assessed(workbook({("starts", ""): typed}))
    assert result.accepted, [f.text() for f in result.findings]
    assert result.interpretation.values[("starts", "")] == expected


def test_a_percentage_typed_with_its_sign_reads_for_a_percentage_item() -> None:
    result = assessed(workbook({("satisfaction", ""): "52.5%"}))
    assert result.accepted
    assert result.interpretation.values[("satisfaction", "")] == Fraction(105, 2)


def test_a_cell_excel_formatted_as_a_percentage_reads_as_the_percentage_shown() -> None:
    def percent(book: openpyxl.Workbook) -> None:
        cell = book[layout.DATA_SHEET]["E7"]  # satisfaction
        cell.value, cell.number_format = 0.525, numbers.FORMAT_PERCENTAGE_00  # Excel stores 52.5% as 0.525
    result = assessed(workbook(edit=percent))
    assert result.accepted, [f.text() for f in result.findings]
    assert result.interpretation.values[("satisfaction", "")] == Fraction(105, 2)


def test_an_empty_cell_is_not_given_but_zero_is_a_figure() -> None:
    empty = assessed(workbook({("quits", ""): None, ("quits", "sex=female"): None, ("quits", "sex=male"): None}))
    missing = [f for f in empty.findings if f.code == "missing_item"]
    assert [(f.item, f.where) for f in missing] == [("quits", "Data!E6")]
    assert empty.scorecard.result("1").status == "no_data"
    zero = assessed(workbook({("quits", ""): 0, ("quits", "sex=female"): 0, ("quits", "sex=male"): 0}))
    assert zero.accepted
    assert zero.interpretation.values[("quits", "")] == 0
    assert zero.scorecard.result("1").status == "red"


def test_hidden_rows_are_read_like_any_other() -> None:
    def hide(book: openpyxl.Workbook) -> None:
        for row in (5, 6, 7):
            book[layout.DATA_SHEET].row_dimensions[row].hidden = True
    result = assessed(workbook(edit=hide))
    assert result.accepted
    assert result.interpretation.values == EXPECTED


def test_reordered_and_inserted_rows_are_matched_by_item_id() -> None:
    def reorder(book: openpyxl.Workbook) -> None:
        sheet = book[layout.DATA_SHEET]
        rows = [[sheet.cell(r, c).value for c in range(1, 6)] for r in range(5, 10)]
        sheet.insert_rows(4, 2)  # two extra lines above the header
        sheet["A4"] = "Notes from the provider"
        for offset, row in enumerate(reversed(rows)):
            for col, value in enumerate(row, start=1):
                sheet.cell(7 + offset, col, value)
    result = assessed(workbook(edit=reorder))
    assert result.accepted, [f.text() for f in result.findings]
    assert result.interpretation.values == EXPECTED
    assert result.interpretation.where[("starts", "")] == "Data!E11"


def test_a_renamed_main_sheet_is_found_when_the_cover_identifies_the_template() -> None:
    def rename(book: openpyxl.Workbook) -> None:
        book[layout.DATA_SHEET].title = "Q1 figures"
    parsed = read_return(workbook(edit=rename), "return.xlsx")
    assert parsed.cover["template"] == layout.MARKER
    result = assess(TINY, Q1, parsed)
    assert result.accepted
    assert result.interpretation.where[("starts", "")] == "'Q1 figures'!E5"


def test_figures_on_a_sheet_the_template_does_not_have_are_reported_not_lost() -> None:
    def add_sheet(book: openpyxl.Workbook) -> None:
        book.create_sheet("Workings")["B3"] = 1234
    result = assessed(workbook(edit=add_sheet))
    assert result.accepted
    warning = next(f for f in result.warnings if f.code == "sheet_not_read")
    assert warning.where == "Workings!B3"


def test_an_older_template_version_with_other_columns_and_long_form_breakdowns_still_reads() -> None:
    """Version 1 put Value in column B, the header in row 1 and breakdowns in long form on one sheet."""
    book = openpyxl.Workbook()
    cover = book.active
    cover.title = layout.COVER_SHEET
    for row, (key, value) in enumerate([("template", layout.MARKER), ("template_version", 1), ("framework", "tiny"),
                                        ("framework_version", "1"), ("contract", "tiny-contract"),
                                        ("period", "2025-26-Q1")], start=4):
        cover.cell(row, 1, key.title())
        cover.cell(row, 2, value)
        cover.cell(row, 3, key)
    main = book.create_sheet(layout.V1_DATA_SHEET)
    main.append(list(layout.V1_DATA_COLUMNS))
    for item, value in [("starts", 1600), ("quits", 840), ("satisfaction", 87.5), ("hours", 120), ("policy", "yes"),
                        ("clients_seen", None)]:  # an item version 2 of the framework dropped, left empty
        main.append([item, value, "a description"])
    long = book.create_sheet(layout.V1_BREAKDOWN_SHEET)
    long.append(list(layout.V1_BREAKDOWN_COLUMNS))
    for (item, breakdown), value in GOOD.items():
        if breakdown:
            long.append([item, breakdown, value])
    out = io.BytesIO()
    book.save(out)
    parsed = read_return(out.getvalue(), "old.xlsx")
    assert parsed.cover["template_version"] == "1"
    result = assess(TINY, Q1, parsed, expected_contract="tiny-contract")
    assert result.accepted, [f.text() for f in result.findings]
    assert result.interpretation.values == EXPECTED
    assert result.interpretation.where[("quits", "sex=male")] == "Breakdowns!C6"


def test_an_item_the_current_framework_version_dropped_is_a_warning_in_an_older_template() -> None:
    def old(book: openpyxl.Workbook) -> None:
        book[layout.COVER_SHEET]["B7"] = "1"  # framework_version
        sheet = book[layout.DATA_SHEET]
        sheet["A12"], sheet["E12"] = "clients_seen", 55
    result = assessed(workbook(edit=old))
    assert result.accepted
    assert [(f.code, f.where) for f in result.warnings] == [("retired_item", "Data!E12")]


def test_a_newer_template_version_is_read_by_its_headings_with_a_warning() -> None:
    def newer(book: openpyxl.Workbook) -> None:
        book[layout.COVER_SHEET]["B5"] = 9
    result = assessed(workbook(edit=newer))
    assert result.accepted
    assert [(f.code, f.where) for f in result.warnings] == [("template_version", "Cover!B5")]


def _with_sheet_xml(data: bytes, part: str, change: Callable[[bytes], bytes]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info.filename, change(content) if info.filename == part else content)
    return out.getvalue()


def test_a_formula_with_a_saved_result_reads_its_result_and_is_never_evaluated() -> None:
    data = workbook({("hours", ""): "=100+20"})
    saved = _with_sheet_xml(data, "xl/worksheets/sheet2.xml",
                            lambda xml: xml.replace(b"<f>100+20</f><v></v>", b"<f>100+20</f><v>999</v>")
                            .replace(b"<f>100+20</f><v />", b"<f>100+20</f><v>999</v>"))
    result = assessed(saved)
    assert result.accepted
    assert result.interpretation.values[("hours", "")] == 999  # the saved result, not 120


def test_a_formula_without_a_saved_result_is_reported_never_guessed() -> None:
    result = assessed(workbook({("hours", ""): "=100+20"}))
    finding = next(f for f in result.errors if f.code == "formula_no_value")
    assert (finding.where, finding.item) == ("Data!E8", "hours")
    assert "=100+20" in finding.message
    assert ("hours", "") not in result.interpretation.values
    assert not [f for f in result.findings if f.code == "missing_item"]  # reported once, as what it is


def test_the_template_s_own_total_formulas_are_not_figures() -> None:
    parsed = parse_xlsx(workbook(), "return.xlsx")
    assert not any(e.where.startswith("Sex!") and e.where[5:].startswith(("C7", "C8", "C9")) for e in parsed.entries)
    assert not parsed.findings


def test_a_value_without_an_item_id_is_reported_at_its_cell() -> None:
    def stray(book: openpyxl.Workbook) -> None:
        book[layout.DATA_SHEET]["E20"] = 17
    result = assessed(workbook(edit=stray))
    assert [(f.code, f.where) for f in result.errors] == [("missing_item_id", "Data!E20")]


def test_a_figure_in_a_breakdown_row_without_a_category_is_reported() -> None:
    def stray(book: openpyxl.Workbook) -> None:
        book["Sex"]["C6"] = 5
    result = assessed(workbook(edit=stray))
    assert [(f.code, f.where) for f in result.errors] == [("missing_category", "Sex!C6")]


def test_a_yes_no_item_reads_yes_and_no_and_rejects_anything_else() -> None:
    assert assessed(workbook({("policy", ""): "No"})).interpretation.values[("policy", "")] == 0
    maybe = assessed(workbook({("policy", ""): "Maybe"}))
    assert [(f.code, f.where) for f in maybe.errors] == [("not_a_number", "Data!E9")]


def test_a_date_in_a_count_says_the_cell_may_be_formatted_as_a_date() -> None:
    from datetime import datetime
    result = assessed(workbook({("starts", ""): datetime(2025, 3, 1)}))
    finding = next(f for f in result.errors if f.code == "not_a_number")
    assert "formatted as a date" in finding.message and finding.where == "Data!E5"


def test_a_template_saved_by_a_real_spreadsheet_program_reads_its_saved_formula_results() -> None:
    """tests/corpus/good/ch-stop-smoking-q1-saved-by-libreoffice.xlsx: a ch-stop-smoking Q1 template filled in by
    tests/corpus/filling.py with `=150+250` typed for quit_dates, then opened and saved as .xlsx by LibreOffice
    Calc 7.4 (`soffice --headless --convert-to xlsx`), which stores strings in a shared table and saves every
    formula's result. A snapshot of template version 2 as a spreadsheet program rewrites it."""
    from pathlib import Path

    path = Path(__file__).parent / "corpus" / "good" / "ch-stop-smoking-q1-saved-by-libreoffice.xlsx"
    framework = loader.get("ch-stop-smoking")
    parsed = read_return(path.read_bytes(), path.name)
    result = assess(framework, parse_period(parsed.cover["period"], 4), parsed, expected_contract="ch-stop-smoking")
    # Every figure is read. The snapshot's figures predate the rules issue 20 added (new website visitors within
    # all visitors, the under 18s counted the same in two breakdowns), which they break: that is the figures' fault,
    # never the reading's.
    reading = [f.text() for f in result.findings if f.is_error and not f.code.startswith("rule:")]
    assert reading == [] and {f.code for f in result.errors} <= {f"rule:{r.id}" for r in framework.rules}
    values = result.interpretation.values
    assert (values[("quit_dates", "")], values[("quits_4wk", "")], len(values)) == (400, 210, 286)
    assert result.interpretation.where[("quit_dates", "")] == "Data!E5"
    assert result.scorecard.result("1.4").value == Fraction(105, 2)
