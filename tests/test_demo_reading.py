"""The demo read as a commissioner would (issue 20, items 12 and 19): every message and every PDF page it writes.

"No internal names in anything a person reads ('against a target of >= national_tdt_4wk_pct', 'Benchmark:
national_completion_pct[substance=opiate] = 39.5'). Add a test that scans every message and report the demo
produces for identifiers." And the layout: "a 'Breakdowns' heading stranded at the foot of a page; a continued
table holding a single column."
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from demo_fixtures import WholeDemo

from bot.reports.breakdowns import column_chunks, disaggregation_tables
from bot.reports.context import ReturnMeta, build_return_report
from bot.reports.pdf import html_to_pdf
from bot.reports.render import return_report_html
from kpi_core import loader, samples
from kpi_core.assess import assess
from kpi_core.calendar import parse_period
from kpi_core.returns.csv_long import parse_csv

IDENTIFIER = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")  # snake_case: quit_dates, national_tdt_4wk_pct
KEY = re.compile(r"\[[a-z0-9_]+=[a-z0-9_]+(?:,[a-z0-9_]+=[a-z0-9_]+)*\]")  # [substance=opiate]
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')
HEADING_HEIGHT = 10.5  # points: h2 (11.5pt) and h3 (9.5pt) words are taller than body text (8.3pt and less)
FOOTER = 800.0  # points from the top of an A4 page (842): below it only the page number and "kpibot"
HEADER = 40.0  # above it only the running header


def pdftotext(pdf: Path | bytes, *args: str) -> str:
    """The text of a PDF (a file, or its bytes), as poppler's pdftotext gives it with `args`."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is missing: install poppler-utils")
    data = pdf if isinstance(pdf, bytes) else pdf.read_bytes()
    return subprocess.run(["pdftotext", *args, "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def stranded_headings(bbox: str) -> list[str]:
    """Headings that end a page: a heading with fewer than two lines of body text under it on its page, whose
    section goes on overleaf (the next page opens with body text, not a heading). A heading with its whole
    one-line section ("No problems were found in the return.") at the foot of a page is not stranded."""
    pages = []
    for page in bbox.split("<page ")[1:]:
        lines: dict[int, list[tuple[float, str]]] = {}
        for _, y0, _, y1, text in WORD.findall(page):
            if HEADER < float(y1) < FOOTER:
                lines.setdefault(round(float(y1)), []).append((float(y1) - float(y0), text))
        pages.append([lines[y] for y in sorted(lines)])
    found = []
    for number, lines in enumerate(pages, start=1):
        overleaf = pages[number] if number < len(pages) else []
        continues = bool(overleaf) and min(h for h, _ in overleaf[0]) < HEADING_HEIGHT
        for index, line in enumerate(lines):
            if min(h for h, _ in line) >= HEADING_HEIGHT and len(lines) - index - 1 < 2 and continues:
                found.append(f"page {number}: {' '.join(t for _, t in line)}")
                break
    return found


@pytest.fixture
def demo_folder(whole_demo: WholeDemo) -> Path:
    """The whole demo, as `kpibot demo` runs it: replies with their PDFs, notices, the reports (read only)."""
    return whole_demo.folder


@pytest.mark.long
@pytest.mark.timeout(1200)  # the whole demo is replayed first (a few minutes on a busy machine)
def test_no_message_or_page_the_demo_writes_names_an_internal_identifier(demo_folder: Path) -> None:
    texts = {p.name: p.read_text(encoding="utf-8") for p in (demo_folder / "outbox").glob("*.txt")}
    pdfs = sorted((demo_folder / "outbox").glob("*.pdf")) + sorted((demo_folder / "reports").glob("*.pdf"))
    texts |= {p.name: pdftotext(p, "-layout") for p in pdfs}
    assert len(texts) > 100 and len(pdfs) > 15
    found = {name: sorted(set(IDENTIFIER.findall(text)) | set(KEY.findall(text))) for name, text in texts.items()}
    assert {name: names for name, names in found.items() if names} == {}


@pytest.mark.timeout(1200)
def test_no_page_of_the_demo_ends_with_a_heading(demo_folder: Path) -> None:
    pdfs = sorted((demo_folder / "reports").glob("*.pdf")) + sorted((demo_folder / "outbox").glob("*.pdf"))
    stranded = {p.name: stranded_headings(pdftotext(p, "-bbox")) for p in pdfs}
    assert {name: pages for name, pages in stranded.items() if pages} == {}


def test_the_breakdowns_heading_never_ends_a_page_wherever_it_falls() -> None:
    """The heading, its legend and the first table's title travel with the table's first rows: pushed down the page
    a few millimetres at a time, the heading is never the last thing on a page."""
    framework = loader.get("ch-substance-misuse")
    period = parse_period("2025-26-Q3", 4)
    values = samples.sample_values(framework, "quarterly", seed=1, level=0.8)
    result = assess(framework, period, parse_csv(samples.to_csv(values).encode(), "q3.csv"))
    report = build_return_report(result, ReturnMeta("m", "Misuse", "Turning Point"))
    html = return_report_html(report, action_plans=False)
    start = html.index('<div class="summary">')
    tail = html[html.index("<h2>Breakdowns</h2>"):]
    body = html[:start]
    problems = []
    for millimetres in range(150, 262, 7):  # the heading from the middle of page 1 to its foot
        page = f'{body}<div style="height: {millimetres}mm"></div>{tail}'
        problems += [f"{millimetres} mm: {p}" for p in stranded_headings(pdftotext(html_to_pdf(page), "-bbox"))]
    assert problems == []


@pytest.mark.parametrize("framework_id", sorted(loader.shipped()))
def test_a_continued_breakdown_table_never_holds_a_single_column(framework_id: str) -> None:
    """Solihull's referral sources (ten categories) printed as nine columns and a continued table of one."""
    framework = loader.get(framework_id)
    for return_id in framework.returns:
        values = samples.sample_values(framework, return_id, seed=1, level=0.8)
        tables = disaggregation_tables(framework, return_id, values)
        assert [t.title for t in tables if len(t.columns) < 2] == []
    assert [len(c) for c in column_chunks(10)] == [5, 5]
    assert [len(c) for c in column_chunks(19)] == [7, 7, 5]
