"""The indicator table's widths (bot/reports/columns.py): laid out `fixed` only when its text fits, checked on
WeasyPrint's own layout of every shipped framework's report, and the automatic layout kept when it might not."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from test_reports import FRAMEWORKS, GENERATED, assessed, meta, sample_history
from weasyprint import HTML
from weasyprint.formatting_structure import boxes

from bot.reports.columns import CONTENT_PT, PADDING_PT, Column, indicator_columns, table_layout
from bot.reports.context import ReturnReport, Section, build_return_report
from bot.reports.glyph_widths import text_width
from bot.reports.pdf import REPORTS, Drawings, TemplatesOnlyFetcher
from bot.reports.render import return_report_html
from bot.reports.trends import trends_from_history

SHARES = (Column("Ref", 5), Column("Indicator", 0), Column("This period", 9, "num"), Column("Status", 11))


def report_of(framework_id: str) -> ReturnReport:
    result = assessed(framework_id)
    return build_return_report(result, meta(framework_id), trends_from_history(result, sample_history(framework_id)),
                               generated_at=GENERATED)


def indicator_tables(report: ReturnReport) -> list[boxes.TableBox]:
    """WeasyPrint's layout of the report's indicator table: its part on each page it runs over (where the pages
    break differs between WeasyPrint releases)."""
    drawings = Drawings()
    html = return_report_html(report, action_plans=False, drawings=drawings)
    document = HTML(string=html, base_url=REPORTS.resolve().as_uri() + "/",
                    url_fetcher=TemplatesOnlyFetcher(drawings=drawings).for_weasyprint()).render()
    found = [box for page in document.pages for box in page._page_box.descendants()
             if isinstance(box, boxes.TableBox) and box.element_tag == "table" and len(box.column_widths) >= 6
             and "indicators" in (box.element.get("class") or "").split()]
    assert found, "no indicator table"
    return found


def indicator_table(report: ReturnReport) -> boxes.TableBox:
    """The indicator table's part on its first page."""
    return indicator_tables(report)[0]


def cells(table: boxes.TableBox) -> Iterator[boxes.TableCellBox]:
    for box in table.descendants():
        if isinstance(box, boxes.TableCellBox):
            yield box


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_every_shipped_framework_gets_a_fixed_indicator_table_whose_text_stays_inside_its_cells(
        framework_id: str) -> None:
    report = report_of(framework_id)
    assert indicator_columns(report).fixed
    tables = indicator_tables(report)
    assert all(table.style["table_layout"] == "fixed" for table in tables)
    checked = 0
    for cell in (cell for table in tables for cell in cells(table)):
        right = cell.border_box_x() + cell.border_width()
        for text in cell.descendants():
            if isinstance(text, boxes.TextBox) and text.text.strip():
                assert text.position_x + text.width <= right + 0.01, (framework_id, text.text, cell.element_tag)
                checked += 1
    assert checked > 50


def test_a_figure_wider_than_its_share_widens_its_column_and_the_indicator_column_gives_way() -> None:
    status = 60.0  # points: `◐ PART PAYMENT` is wider than 11% of the page less padding
    layout = table_layout(SHARES, [(10.0, 40.0, 20.0, status)])
    assert layout.fixed
    widened = float(layout.widths[3].rstrip("%"))
    assert widened > 11 and CONTENT_PT * widened / 100 - PADDING_PT >= status
    assert layout.widths[:3] == ("5%", "", "9%")


def test_text_the_indicator_column_cannot_hold_keeps_the_automatic_layout_with_the_shares_asked_for() -> None:
    layout = table_layout(SHARES, [(10.0, 400.0, 20.0, 30.0)])
    assert not layout.fixed
    assert layout.widths == ("5%", "", "9%", "11%")


def test_a_character_without_a_known_width_counts_wide_so_an_unknown_script_is_never_squeezed() -> None:
    report = report_of(FRAMEWORKS[0])
    section = report.sections[0]
    row = replace(section.rows[0], value="١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩")  # Arabic-Indic digits, unbroken
    wide = replace(report, sections=(Section(section.name, (row, *section.rows[1:])), *report.sections[1:]))
    assert not indicator_columns(wide).fixed
    assert indicator_table(wide).style["table_layout"] == "auto"


@pytest.mark.parametrize("bold", [False, True])
def test_kerned_widths_are_the_widths_pango_sets_html_text_at(bold: bool) -> None:
    samples = ["PART PAYMENT", "NO DATA", "AMBER", "Forecast", "LTV Year", "To be baselined", "1,234.5 out of 10"]
    weight = 700 if bold else 400
    html = ("<html><body style='font-family: DejaVu Sans; font-size: 8.3pt'>"
            + "".join(f"<div><span style='font-weight:{weight}'>{text}</span></div>" for text in samples)
            + "</body></html>")
    laid = [box for box in HTML(string=html).render().pages[0]._page_box.descendants()
            if isinstance(box, boxes.TextBox)]
    assert [box.text for box in laid] == samples
    for box in laid:  # CSS px: 8.3pt is 8.3 * 4/3 px
        assert text_width(box.text, 8.3 * 4 / 3, bold=bold, kerned=True) == pytest.approx(box.width, abs=0.05)
