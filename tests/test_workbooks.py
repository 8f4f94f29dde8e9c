"""The return workbook kpibot writes, and the round trip: template -> filled in (openpyxl) -> read -> scored."""

from __future__ import annotations

import io
import json
import zipfile
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from corpus.filling import TINY_FRAMEWORK, consistent_values, fill

from bot.cli import main
from bot.workbooks.isolated import GIB, IsolatedReader
from bot.workbooks.template import build_template
from kpi_core import loader
from kpi_core.assess import assess, return_type_for
from kpi_core.calendar import parse_period
from kpi_core.returns import layout
from kpi_core.returns.reader import read_return
from kpi_core.returns.safety import Limits
from kpi_core.scoring import score

TINY = loader.load_text(TINY_FRAMEWORK)
Q1 = parse_period("2025-26-Q1", 4)


def tiny_template(period_id: str = "2025-26-Q1", earlier: dict[str, dict[tuple[str, str], Fraction]] | None = None,
                  ) -> openpyxl.Workbook:
    data = build_template(TINY, contract_id="tiny-contract", contract_name="Tiny Contract", provider_name="Tiny Ltd",
                          period=parse_period(period_id, 4), earlier=earlier)
    return openpyxl.load_workbook(io.BytesIO(data))


# ----------------------------------------------------------------------------- the template

def test_the_cover_identifies_the_workbook_in_a_protected_sheet() -> None:
    book = tiny_template()
    cover = book[layout.COVER_SHEET]
    assert book.sheetnames[0] == layout.COVER_SHEET
    assert cover.protection.sheet
    assert cover.column_dimensions[layout.column_letter(layout.COVER_KEY_COL)].hidden
    rows = {cover.cell(r, layout.COVER_KEY_COL + 1).value: cover.cell(r, layout.COVER_VALUE_COL + 1).value
            for r in range(1, 30)}
    assert rows["template"] == layout.MARKER
    assert rows["template_version"] == layout.TEMPLATE_VERSION
    assert (rows["framework"], rows["framework_version"]) == ("tiny", "2")
    assert (rows["contract"], rows["provider"], rows["period"]) == ("tiny-contract", "Tiny Ltd", "2025-26-Q1")
    assert rows["due"] == "15 July 2025"


def test_the_data_sheet_has_one_row_per_item_the_provider_enters_with_its_id_first() -> None:
    sheet = tiny_template()[layout.DATA_SHEET]
    header = layout.DATA_HEADER_ROW + 1
    assert [c.value for c in sheet[header]] == list(layout.DATA_COLUMNS)
    ids = [sheet.cell(r, 1).value for r in range(header + 1, sheet.max_row + 1)]
    assert ids == ["starts", "quits", "satisfaction", "hours", "policy"]  # no system item, no annual-only item
    assert sheet.cell(header + 4, 4).value.startswith("Optional.")  # hours is not required
    assert "Sex, Priority group / need" in sheet.cell(header + 1, 4).value


def test_the_annual_template_adds_the_items_of_the_annual_return() -> None:
    sheet = tiny_template("2025-26")[layout.DATA_SHEET]
    ids = [sheet.cell(r, 1).value for r in range(layout.DATA_HEADER_ROW + 2, sheet.max_row + 1)]
    assert ids[-1] == "audits"


@pytest.mark.parametrize(("item_row", "kind", "operator", "bounds"), [
    (0, "whole", "greaterThanOrEqual", ("0", None)),  # a count
    (2, "decimal", "between", ("0", "100")),  # a percentage score
    (3, "decimal", "greaterThanOrEqual", ("0", None)),  # a sum of hours
    (4, "list", None, ('"Yes,No"', None)),  # yes or no
])
def test_each_value_cell_carries_the_excel_validation_that_fits_its_item(item_row: int, kind: str,
                                                                         operator: str | None,
                                                                         bounds: tuple[str, str | None]) -> None:
    sheet = tiny_template()[layout.DATA_SHEET]
    cell = f"{layout.column_letter(layout.VALUE_COL)}{layout.DATA_HEADER_ROW + 2 + item_row}"
    rules = [dv for dv in sheet.data_validations.dataValidation if cell in dv.sqref]
    assert len(rules) == 1
    rule = rules[0]
    assert (rule.type, rule.operator, rule.formula1, rule.formula2) == (kind, operator, *bounds)
    assert rule.showErrorMessage and rule.allow_blank


def test_only_the_cells_to_fill_in_are_unlocked() -> None:
    book = tiny_template()
    data = book[layout.DATA_SHEET]
    assert all(sheet.protection.sheet for sheet in book.worksheets)
    first = layout.DATA_HEADER_ROW + 2
    assert data.cell(first, layout.VALUE_COL + 1).protection.locked is False
    assert data.cell(first, layout.ID_COL + 1).protection.locked is True
    assert data.protection.formatRows is False  # hiding rows stays possible


def test_each_disaggregation_gets_a_sheet_of_categories_by_items_with_totals_to_check() -> None:
    book = tiny_template()
    sex = book["Sex"]
    assert sex.cell(layout.BREAKDOWN_ID_ROW + 1, 1).value == f"{layout.BREAKDOWN_MARKER}sex"
    assert sex.row_dimensions[layout.BREAKDOWN_ID_ROW + 1].hidden
    ids = [sex.cell(layout.BREAKDOWN_ID_ROW + 1, c).value for c in (3, 4)]
    assert ids == ["starts", "quits"]
    categories = [sex.cell(r, 1).value for r in (4, 5)]
    assert categories == ["female", "male"]
    labels = [sex.cell(r, 2).value for r in (7, 8, 9)]
    assert labels == ["Total of the categories", "Total on the Data sheet", "Check"]
    assert sex["C7"].value == "=SUM(C4:C5)"
    assert sex["C8"].value == '=IF(Data!E5="","",Data!E5)'
    priority = book["Priority group - need"]  # "/" is not allowed in a sheet name
    assert priority.cell(7, 2).value == "Total on the Data sheet"  # groups overlap: no sum to check
    assert "need not add up" in priority.cell(9, 2).value


def test_earlier_periods_are_shown_read_only_and_never_read_as_figures() -> None:
    earlier = {"2025-26-Q1": {("starts", ""): Fraction(40), ("quits", ""): Fraction(21)}}
    book = tiny_template("2025-26-Q2", earlier)
    sheet = book[layout.DATA_SHEET]
    header = layout.DATA_HEADER_ROW + 1
    reference_col = layout.VALUE_COL + 2
    assert sheet.cell(header, reference_col).value == f"2025-26-Q1 {layout.REFERENCE_SUFFIX}"
    assert [sheet.cell(header + 1 + i, reference_col).value for i in range(3)] == [40, 21, None]
    assert sheet.cell(header + 1, reference_col).protection.locked is True
    out = io.BytesIO()
    book.save(out)
    parsed = read_return(out.getvalue(), "q2.xlsx")
    assert parsed.entries == []
    assert [f.code for f in parsed.findings] == ["empty_return"]


@pytest.mark.parametrize(("label", "taken", "expected"), [
    ("Key / high prevalence local community", set(), "Key - high prevalence local"),  # never cut mid-word
    ("Deprivation (IMD quintile of home address)", set(), "Deprivation"),  # nor inside brackets
    ("Deprivation (IMD quintile of home address)", {"Deprivation"}, "Deprivation (2)"),
    ("x" * 40, set(), "x" * 31),
    ("Sex", {"Sex"}, "Sex (2)"),
    ("Data", {"Cover", "Data"}, "Data (2)"),
    ("[Age]: *band?", set(), "Age band"),
])
def test_sheet_names_are_valid_excel_names_and_unique(label: str, taken: set[str], expected: str) -> None:
    name = layout.sheet_title(label, taken)
    assert name == expected
    assert len(name) <= 31


# ----------------------------------------------------------------------------- round trips

def _frequencies() -> list[tuple[str, str]]:
    cases = []
    for framework in loader.shipped().values():
        frequencies = {spec.frequency for spec in framework.returns.values()}
        cases += [(framework.id, f) for f in ("quarterly", "annual") if f in frequencies]
    return cases


def test_every_shipped_framework_has_a_quarterly_or_annual_return_to_round_trip() -> None:
    assert {framework_id for framework_id, _ in _frequencies()} == set(loader.shipped())


@pytest.mark.parametrize(("framework_id", "frequency"), _frequencies())
def test_a_filled_template_reads_back_exactly_and_scores_as_its_figures(framework_id: str, frequency: str) -> None:
    framework = loader.get(framework_id)
    start = framework.calendar.year_start_month
    period = parse_period("2025-26-Q3" if frequency == "quarterly" else "2025-26", start)
    return_id = return_type_for(framework, period)
    values = consistent_values(framework, return_id)
    template = build_template(framework, contract_id=framework_id, contract_name=framework.name,
                              provider_name="A Provider", period=period)
    parsed = read_return(fill(template, values, framework), "return.xlsx")
    assert (parsed.cover["framework"], parsed.cover["period"]) == (framework_id, period.id)
    result = assess(framework, parse_period(parsed.cover["period"], start), parsed, expected_contract=framework_id)
    assert result.accepted, [f.text() for f in result.errors]
    assert result.interpretation.values == values
    expected = score(framework, return_id, period, values)
    assert [(r.ref, r.status, r.value) for r in result.scorecard.indicators] == \
        [(r.ref, r.status, r.value) for r in expected.indicators]
    assert any(r.status in ("green", "amber", "red") for r in result.scorecard.indicators) or not any(
        not i.information_only for i in framework.indicators_for(return_id))


def test_the_seed_worked_example_round_trips_to_its_payment() -> None:
    """52.5% of 1,600 quit at 4 weeks: KPI 1.4 (>= 50%) green, 1.5 (>= 60%) the part-payment tier ("between the
    minimum and stretch target, the service will receive part payment"), PbR pays £9,000."""
    framework = loader.get("ch-stop-smoking")
    year = parse_period("2025-26", 4)
    values = consistent_values(framework, "annual", fixed={"quit_dates": 1600, "quits_4wk": 840})
    template = build_template(framework, contract_id="ch-stop-smoking", contract_name=framework.name,
                              provider_name="Breathe Easy", period=year)
    parsed = read_return(fill(template, values, framework), "annual.xlsx")
    result = assess(framework, year, parsed, contract_value=720000)
    assert result.accepted
    assert (result.scorecard.result("1.4").status, result.scorecard.result("1.5").status) == ("green", "part")
    assert result.scorecard.result("1.4").value == Fraction(105, 2)
    assert [p.amount for p in result.scorecard.payments] == [9000]


def test_a_framework_built_in_the_test_round_trips_every_kind_of_item() -> None:
    values = {("starts", ""): Fraction(40), ("starts", "sex=female"): Fraction(25),
              ("starts", "sex=male"): Fraction(15), ("starts", "priority=smi"): Fraction(4),
              ("quits", ""): Fraction(0), ("quits", "sex=female"): Fraction(0),
              ("quits", "sex=male"): Fraction(0), ("satisfaction", ""): Fraction(875, 10),
              ("hours", ""): Fraction(12, 1), ("policy", ""): Fraction(1)}
    template = build_template(TINY, contract_id="tiny-contract", contract_name="Tiny", provider_name="Tiny Ltd",
                              period=Q1)
    parsed = read_return(fill(template, values, TINY), "tiny.xlsx")
    result = assess(TINY, Q1, parsed)
    assert result.accepted, [f.text() for f in result.findings]
    assert result.interpretation.values == values
    assert result.scorecard.result("1").status == "red"  # 0 of 40 quit: zero is a figure, not "no data"


# ----------------------------------------------------------------------------- the command line

def test_kpibot_template_writes_a_workbook_that_kpibot_score_reads_from_its_cover(
        ch_stop_smoking_config: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "q1.xlsx"
    result = runner.invoke(main, ["--config", str(ch_stop_smoking_config), "template", "--contract",
                                  "ch-stop-smoking", "--period", "2025-26-Q1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Quarterly monitoring return" in result.output
    framework = loader.get("ch-stop-smoking")
    values = consistent_values(framework, "quarterly", fixed={"quit_dates": 400, "quits_4wk": 210})
    filled = tmp_path / "filled.xlsx"
    filled.write_bytes(fill(out.read_bytes(), values, framework))
    scored = runner.invoke(main, ["--config", str(ch_stop_smoking_config), "score", str(filled), "--json"])
    assert scored.exit_code == 0, scored.output
    report = json.loads(scored.output)
    assert (report["contract"], report["period"], report["accepted"]) == ("ch-stop-smoking", "2025-26-Q1", True)
    assert next(i for i in report["indicators"] if i["ref"] == "1.4")["value"] == 52.5


def test_kpibot_score_lists_every_finding_of_a_rejected_workbook_and_exits_2(
        ch_stop_smoking_config: Path, tmp_path: Path) -> None:
    framework = loader.get("ch-stop-smoking")
    values: dict[tuple[str, str], object] = dict(consistent_values(framework, "quarterly"))
    values[("quit_dates", "")] = "lots"
    values[("lost_4wk", "")] = -4
    template = build_template(framework, contract_id="ch-stop-smoking", contract_name=framework.name,
                              provider_name="Breathe Easy", period=Q1)
    path = tmp_path / "bad.xlsx"
    path.write_bytes(fill(template, values, framework))
    result = CliRunner().invoke(main, ["--config", str(ch_stop_smoking_config), "score", str(path)])
    assert result.exit_code == 2
    assert "Error at Data!E5: People setting a quit date: 'lots' is not a number" in result.output
    assert "Error at Data!E10: Lost to follow-up at 4 weeks cannot be negative" in result.output


def test_kpibot_score_refuses_a_macro_workbook_with_its_reason_even_without_contract_or_period(
        ch_stop_smoking_config: Path) -> None:
    macro = Path(__file__).parent / "corpus" / "macro_enabled.xlsm"
    result = CliRunner().invoke(main, ["--config", str(ch_stop_smoking_config), "score", str(macro), "--json"])
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert report["accepted"] is False
    assert [f["code"] for f in report["findings"]] == ["macro_enabled"]


@pytest.mark.parametrize(("period", "message"), [
    ("2025-26-Q5", "a year has 4 quarterly periods"),
    ("2025-26-M01", "has no monthly return"),
])
def test_kpibot_template_explains_a_period_it_cannot_make(ch_stop_smoking_config: Path, tmp_path: Path,
                                                          period: str, message: str) -> None:
    result = CliRunner().invoke(main, ["--config", str(ch_stop_smoking_config), "template", "--contract",
                                       "ch-stop-smoking", "--period", period, "-o", str(tmp_path / "x.xlsx")])
    assert result.exit_code == 1
    assert message in result.output
    assert not (tmp_path / "x.xlsx").exists()


# ----------------------------------------------------------------------------- reading in a bounded worker

CORPUS = Path(__file__).parent / "corpus"


def _numbers_sheet(rows: int, cols: int) -> bytes:
    """A valid one-sheet workbook of rows x cols numbers (slow enough to read to test a time limit)."""
    cells = "".join(f'<row r="{r}">' + "".join(f'<c r="{layout.column_letter(c)}{r}"><v>{r + c}</v></c>'
                                              for c in range(cols)) + "</row>" for r in range(1, rows + 1))
    parts = {
        "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        "xl/workbook.xml": '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r='
                           '"http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet '
                           'name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                                      'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.'
                                      'org/officeDocument/2006/relationships/worksheet" Target="worksheets/'
                                      'sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                                    f"<sheetData>{cells}</sheetData></worksheet>",
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
    return out.getvalue()


def test_the_isolated_reader_answers_exactly_as_the_reader_does() -> None:
    framework = loader.get("ch-stop-smoking")
    values = consistent_values(framework, "quarterly")
    good = fill(build_template(framework, contract_id="ch-stop-smoking", contract_name=framework.name,
                               provider_name="Breathe Easy", period=Q1), values, framework)
    bad = (CORPUS / "macro_enabled.xlsm").read_bytes()
    with IsolatedReader() as reader:
        for data, name in ((good, "good.xlsx"), (bad, "macro_enabled.xlsm")):
            assert reader.read(data, name) == read_return(data, name)


def test_a_file_that_takes_too_long_is_refused_and_the_next_one_still_reads() -> None:
    slow = _numbers_sheet(400, 250)  # 100,000 cells: a few tenths of a second
    with IsolatedReader(timeout_seconds=0.02) as reader:
        assert [f.code for f in reader.read(slow, "slow.xlsx").findings] == ["too_slow_to_read"]
        assert [f.code for f in reader.read(b"starts,,1\n", "quick.csv").findings] == []


def test_memory_beyond_the_worker_cap_is_refused_even_when_the_checks_would_let_it_through() -> None:
    """With the cell limit lifted, far_cell.xlsx reaches calamine, which asks for 17 billion cells at once: the
    allocation fails under the worker's address-space cap, the worker dies, and the reader carries on."""
    far = (CORPUS / "far_cell.xlsx").read_bytes()
    with IsolatedReader(limits=Limits(max_cells=10**12), memory_bytes=1 * GIB) as reader:
        assert [f.code for f in reader.read(far, "far_cell.xlsx").findings] == ["too_big_to_read"]
        assert [f.code for f in reader.read(b"starts,,1\n", "quick.csv").findings] == []
