"""Every file in tests/corpus gets the exact finding it deserves, naming where the problem is.

The files are made by tests/corpus/make_corpus.py (deterministic). Each is sent as a ch-stop-smoking return for
2025-26-Q1 (or the period its cover names) on 1 August 2025, the way `kpibot score` reads and assesses it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kpi_core import loader
from kpi_core.assess import assess
from kpi_core.calendar import parse_period
from kpi_core.findings import Finding
from kpi_core.returns.reader import read_return

CORPUS = Path(__file__).parent / "corpus"
TODAY = date(2025, 8, 1)

# file, finding code, a fragment of its location or message, and what differs from the default submission.
CASES: list[tuple[str, str, str, dict[str, object]]] = [
    # containers refused before anything reads them
    ("corrupt_zip.xlsx", "corrupt_workbook", "is damaged", {}),
    ("pdf_named_xlsx.xlsx", "not_a_workbook", "is a PDF document, not an Excel workbook", {}),
    ("pdf_named_csv.csv", "not_a_workbook", "is a PDF document, not a CSV file", {}),
    ("text_named_xlsx.xlsx", "not_a_workbook", "is a text file, not an Excel workbook", {}),
    ("binary_named_xlsx.xlsx", "corrupt_workbook", "named like a workbook but is not one", {}),
    ("png_named_csv.csv", "not_a_workbook", "is a PNG image, not a CSV file", {}),
    ("jpeg_named_xlsx.xlsx", "not_a_workbook", "is a JPEG image (a photo or scan), not an Excel workbook", {}),
    ("zip_named_csv.csv", "not_a_workbook", "is a zip archive (a compressed folder)", {}),
    ("web_page_named_xls.xls", "not_a_workbook", "is a web page (HTML), not an Excel workbook", {}),
    ("empty_file.xlsx", "empty_file", "is empty (0 bytes)", {}),
    ("macro_enabled.xlsm", "macro_enabled", "macro-enabled workbook", {}),
    ("encrypted.xlsx", "encrypted", "protected with a password", {}),
    ("legacy_97_2003.xls", "legacy_xls", "old Excel 97-2003 format", {}),
    ("word_document.doc", "not_a_workbook", "older Office document", {}),
    ("word_renamed.xlsx", "not_a_workbook", "is a Word document", {}),
    ("opendocument.ods", "ods_workbook", "OpenDocument spreadsheet", {}),
    ("zip_bomb.xlsx", "zip_bomb", "would inflate to 120.1 MB, over the limit of 100.0 MB", {}),
    ("zip_bomb_ratio.xlsx", "zip_bomb", "part xl/media/image1.png inflates 1,028 times", {}),
    ("zip_lying_sizes.xlsx", "zip_bomb", "xl/media/data.bin declares 2,048 bytes but holds 8,388,608", {}),
    ("far_cell.xlsx", "sheet_too_large", "Data!XFD1048576", {}),
    ("far_cell_quoted.xlsx", "sheet_too_large", "Data!XFD1048576", {}),
    # declares the template's extent but holds a cell at ZZ2000 (caught from calamine's grid inside the cap)
    ("dimension_lies.xlsx", "sheet_too_large", "Data!ZZ2000", {}),
    ("shared_strings_bomb.xlsx", "zip_bomb", "declares 4000000000 strings but holds 1", {}),
    ("date_out_of_range.xlsx", "corrupt_workbook", "the reader stopped", {}),
    # found by tests/test_fuzz.py: an XML part declaring an encoding expat cannot use raised LookupError/ValueError
    ("xml_encoding_unknown.xlsx", "corrupt_workbook", "sheet 'Data' is not well-formed (unknown encoding: ATF-8)", {}),
    ("xml_encoding_multibyte.xlsx", "corrupt_workbook", "multi-byte encodings are not supported", {}),
    ("xml_encoding_not_text.xlsx", "corrupt_workbook", "the list of sheets is unreadable ('rot13'", {}),
    ("too_large.csv", "too_large", "kpibot accepts files up to 1 KB", {"max_bytes": 1024}),
    ("binary.csv", "not_csv", "contains binary data", {}),
    # personal data: one finding, positions only
    ("client_list_sheet.xlsx", "personal_data", "NHS numbers in column D of sheet 16 (12 cells, from row 2)", {}),
    ("client_list_hidden.xlsx", "personal_data", "names in columns A and B of hidden sheet 16 (24 cells", {}),
    ("nhs_number_in_value.xlsx", "personal_data", "Data!E6", {}),
    ("client_list.csv", "personal_data", "names in columns 2 and 3 (40 cells, from line 2)", {}),
    ("nhs_numbers_as_items.csv", "personal_data", "NHS numbers in column 1 (4 cells, from line 3)", {}),
    ("names_in_breakdowns.csv", "personal_data", "names in column 2 (8 cells, from line 3)", {}),
    # the wrong workbook
    ("not_a_template.xlsx", "not_a_template", "no sheet has the columns 'Item id' and 'Value'", {}),
    ("main_sheet_missing.xlsx", "main_sheet_missing", "has a kpibot cover but no sheet", {}),
    ("empty_template.xlsx", "empty_return", "every Value cell is empty", {}),
    ("wrong_template.xlsx", "wrong_template", "Cover!B6", {}),
    ("contract_mismatch.xlsx", "contract_mismatch", "Cover!B8", {}),
    ("period_mismatch.xlsx", "period_mismatch", "Cover!B12", {"period": "2025-26-Q2"}),
    ("future_period.xlsx", "future_period", "Cover!B12", {}),
    # figures
    ("text_in_number.xlsx", "not_a_number", "Data!E5", {}),
    ("negative_count.xlsx", "negative", "Data!E10", {}),
    ("not_whole_count.xlsx", "not_whole", "Data!E25", {}),
    ("percent_in_count.xlsx", "percent_in_count", "Data!E6", {}),
    ("percent_formatted_count.xlsx", "percent_in_count", "'52.5%' is a percentage", {}),
    ("out_of_range.xlsx", "out_of_range", "Data!E35", {}),
    ("numerator_above_denominator.xlsx", "rule:co_within_quits", "quits_4wk_co = 260, quits_4wk = 210", {}),
    ("breakdown_total_off.xlsx", "breakdown_total", "Data!E5 and 'Age band'!C4:C11", {}),
    ("category_above_total.xlsx", "category_above_total", "'Key priority group'!C6", {}),
    ("missing_required.xlsx", "missing_item", "Data!E25", {}),
    ("unknown_item.xlsx", "unknown_item", "Data!E49", {}),
    ("duplicate_item.xlsx", "duplicate_conflict", "400 at Data!E5 and 380 here", {}),
    ("formula_no_value.xlsx", "formula_no_value", "=SUM(150,250)", {}),
    ("unknown_breakdown.csv", "unknown_breakdown", "line 3", {}),
    ("unknown_category.csv", "unknown_category", "line 3", {}),
    ("negative_windows1252.csv", "negative", "line 4", {}),
    ("text_in_number_bom.csv", "not_a_number", "line 2", {}),
    ("missing_item_id.csv", "missing_item_id", "line 3", {}),
    ("empty_return.csv", "empty_return", "holds no figures", {}),
]


def submit(name: str, options: dict[str, object]) -> tuple[list[Finding], bool]:
    """Read and assess a corpus file as `kpibot score` does; return the findings and whether it was accepted."""
    limits = {"max_bytes": options["max_bytes"]} if "max_bytes" in options else {}
    parsed = read_return((CORPUS / name).read_bytes(), name, **limits)  # type: ignore[arg-type]
    if parsed.unreadable:
        return parsed.findings, False
    framework = loader.get("ch-stop-smoking")
    period_id = str(options.get("period") or parsed.cover.get("period") or "2025-26-Q1")
    result = assess(framework, parse_period(period_id, 4), parsed, expected_contract="ch-stop-smoking", today=TODAY)
    return list(result.findings), result.accepted


def test_the_corpus_holds_at_least_25_bad_files_and_each_has_a_case() -> None:
    files = {p.name for p in CORPUS.iterdir() if p.suffix != ".py" and p.is_file()}
    assert len(files) >= 25
    assert files == {name for name, *_ in CASES}


@pytest.mark.parametrize(("name", "code", "fragment", "options"), CASES, ids=[c[0] for c in CASES])
def test_each_bad_file_is_rejected_with_its_exact_finding(name: str, code: str, fragment: str,
                                                          options: dict[str, object]) -> None:
    findings, accepted = submit(name, options)
    assert not accepted
    matching = [f for f in findings if f.code == code]
    assert matching, f"{name}: expected {code}, got {[f.code for f in findings]}"
    assert any(fragment in f"{f.where} {f.message}" for f in matching), [f.text() for f in matching]
    assert all(f.fix for f in matching if f.is_error), "every error says how to fix it"


@pytest.mark.parametrize("name", [c[0] for c in CASES if c[1] in (
    "corrupt_workbook", "macro_enabled", "encrypted", "legacy_xls", "zip_bomb", "sheet_too_large", "not_a_workbook",
    "ods_workbook", "empty_file", "too_large", "not_csv", "personal_data")])
def test_refused_containers_give_one_finding_and_nothing_else(name: str) -> None:
    options = next(c[3] for c in CASES if c[0] == name)
    findings, _ = submit(name, options)
    assert len(findings) == 1
    limits = {"max_bytes": options["max_bytes"]} if "max_bytes" in options else {}
    assert read_return((CORPUS / name).read_bytes(), name, **limits).unreadable  # type: ignore[arg-type]
