"""The reader's worker process (bot/workbooks/isolated.py): inside its memory and time cap it reads with cheap
bounds (kpi_core/returns/bounds.py), answers in plain tuples (bot/workbooks/wire.py) and reads ahead. Whatever it
does, every file gets exactly the answer reading it in this process gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus.filling import consistent_values, fill
from fuzzing import fuzz
from hypothesis import given
from test_fuzz import mutated, mutated_parts, raw_mutation, xml_mutation

from bot.workbooks.isolated import IsolatedReader
from bot.workbooks.template import build_template
from bot.workbooks.wire import pack, unpack
from kpi_core import loader
from kpi_core.calendar import parse_period
from kpi_core.findings import Finding
from kpi_core.returns.model import Entry, ParsedReturn, UncachedFormula
from kpi_core.returns.reader import read_return

CORPUS = Path(__file__).parent / "corpus"
FILES = sorted(p for p in [*CORPUS.iterdir(), *(CORPUS / "good").iterdir()] if p.is_file() and p.suffix != ".py")
FRAMEWORK = loader.get("ch-stop-smoking")
Q1 = parse_period("2025-26-Q1", 4)


def good_return(quit_dates: int = 400) -> bytes:
    values = consistent_values(FRAMEWORK, "quarterly", fixed={"quit_dates": quit_dates, "quits_4wk": 210})
    return fill(build_template(FRAMEWORK, contract_id="ch-stop-smoking", contract_name=FRAMEWORK.name,
                               provider_name="Breathe Easy", period=Q1), values, FRAMEWORK)


@pytest.fixture(scope="module")
def reader() -> IsolatedReader:  # type: ignore[misc]
    with IsolatedReader() as shared:
        yield shared


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_corpus_file_gets_the_same_answer_through_the_worker_as_in_this_process(
        reader: IsolatedReader, path: Path) -> None:
    data = path.read_bytes()
    assert reader.read(data, path.name) == read_return(data, path.name)


def test_a_sheet_that_declares_less_than_it_holds_is_refused_inside_the_cap_by_the_same_worker(
        reader: IsolatedReader) -> None:
    """dimension_lies.xlsx declares A1:E51 and holds ZZ2000: calamine builds the 1.4 million cells within the cap
    and the grid, not the declaration, is checked."""
    reader.start()
    worker = reader._worker.pid
    parsed = reader.read((CORPUS / "dimension_lies.xlsx").read_bytes(), "dimension_lies.xlsx")
    assert [(f.code, f.where) for f in parsed.findings] == [("sheet_too_large", "Data!ZZ2000")]
    assert reader._worker.pid == worker


def test_a_far_cell_behind_a_small_declared_extent_is_named_after_the_cap_stops_calamine(
        reader: IsolatedReader) -> None:
    """far_cell_quoted.xlsx declares A1:E48 and holds XFD1048576: calamine asks for 17 billion cells, the worker
    dies at its cap, and a fresh one walks the sheet first, naming the cell as outside a cap."""
    reader.start()
    worker = reader._worker.pid
    parsed = reader.read((CORPUS / "far_cell_quoted.xlsx").read_bytes(), "far_cell_quoted.xlsx")
    assert [(f.code, f.where) for f in parsed.findings] == [("sheet_too_large", "Data!XFD1048576")]
    assert reader._worker.pid != worker
    assert reader.read(b"quit_dates,,400\n", "quick.csv").entries  # and the reader carries on


def test_a_file_read_ahead_is_answered_when_asked_for_and_the_next_one_starts_meanwhile(
        reader: IsolatedReader) -> None:
    first, second, third = good_return(400), good_return(410), good_return(420)
    reader.read_ahead(first, "first.xlsx")
    reader.read_ahead(second, "second.xlsx")
    reader.read_ahead(third, "third.xlsx")
    assert reader.read(first, "first.xlsx") == read_return(first, "first.xlsx")
    # `first` came back, so `second` went to the worker before `read` returned: it is read while the caller saves.
    assert reader._reading is not None and reader._reading[1] == "second.xlsx"
    assert reader.read(third, "third.xlsx") == read_return(third, "third.xlsx")  # out of turn
    assert reader.read(second, "second.xlsx") == read_return(second, "second.xlsx")
    assert reader._reading is None and not reader._waiting and not reader._done


def test_files_read_ahead_but_never_asked_for_are_bounded_and_forgotten(reader: IsolatedReader) -> None:
    for n in range(reader.ahead + 5):
        reader.read_ahead(good_return(300 + n), f"ahead-{n}.xlsx")
    assert len(reader._waiting) + len(reader._done) + (reader._reading is not None) == reader.ahead
    data = good_return(999)
    assert reader.read(data, "other.xlsx") == read_return(data, "other.xlsx")
    assert len(reader._done) <= reader.ahead


def test_a_file_read_ahead_that_kills_the_worker_is_still_answered_exactly(reader: IsolatedReader) -> None:
    far = (CORPUS / "far_cell_quoted.xlsx").read_bytes()
    good = good_return()
    reader.read_ahead(far, "far.xlsx")
    assert reader.read(good, "good.xlsx") == read_return(good, "good.xlsx")
    assert reader.read(far, "far.xlsx") == read_return(far, "far.xlsx")


@fuzz(30)
@given(mutated_parts(xml_mutation))
def test_a_workbook_changed_inside_its_xml_gets_the_same_answer_through_the_worker(case: tuple[str, list]) -> None:
    data, _ = mutated(*case)
    direct = read_return(data, "r.xlsx")
    with IsolatedReader() as reader:  # a fixture would outlive hypothesis's examples; the worker starts fast
        through = reader.read(data, "r.xlsx")
    if through != direct:  # the one difference by design (kpi_core/returns/bounds.py): damage past a sheet's head
        # that calamine tolerates is read as calamine reads it, where the full walk refuses the file as damaged
        assert [f.code for f in direct.findings if f.is_error] == ["corrupt_workbook"] and not direct.entries
        assert not any(f.code == "corrupt_workbook" for f in through.findings)


def test_a_row_number_damaged_past_the_head_is_read_as_calamine_reads_it_with_the_same_figures() -> None:
    """Hypothesis found it: sheet 11's row numbered 'XFD1048576'. The full walk refuses the file; the worker, which
    leaves the XML past a sheet's head to calamine, reads every figure of the undamaged file, in the same cells."""
    data, _ = mutated("libreoffice", [("xl/worksheets/sheet11.xml", [("attribute", 83, "XFD1048576")])])
    undamaged, _ = mutated("libreoffice", [])
    assert [f.code for f in read_return(data, "r.xlsx").findings] == ["corrupt_workbook"]
    with IsolatedReader() as reader:
        through = reader.read(data, "r.xlsx")
    expected = read_return(undamaged, "r.xlsx")
    assert (through.entries, through.findings, through.cover) == (expected.entries, expected.findings, expected.cover)
    assert len(through.entries) > 200


@fuzz(20)
@given(mutated_parts(raw_mutation))
def test_a_workbook_damaged_inside_its_xml_gets_findings_through_the_worker(case: tuple[str, list]) -> None:
    data, _ = mutated(*case)
    with IsolatedReader() as reader:
        parsed = reader.read(data, "r.xlsx")
    assert all(f.message and (f.fix or not f.is_error) for f in parsed.findings)


def test_a_parsed_return_survives_its_trip_as_plain_tuples() -> None:
    parsed = ParsedReturn(
        source="r.xlsx", format="xlsx",
        entries=[Entry("quit_dates", "", 400.0, "Data!E5"), Entry("quits_4wk", "sex=female", "52.5%", "'Sex'!C4"),
                 Entry("lost", "", UncachedFormula("SUM(A1:A3)"), "Data!E9", period="2025-26-Q1")],
        findings=[Finding("error", "personal_data", "names", where="sheet 3", fix="Send totals.",
                          extra={"kinds": "name"}), Finding("warning", "template_version", "v3")],
        cover={"contract": "ch-stop-smoking"}, cover_cells={"contract": "Cover!B8"}, blank_cells={"x": "Data!E7"})
    again = unpack(pack(parsed))
    assert again == parsed
    assert again.findings[0].extra == {"kinds": "name"} and isinstance(again.entries[0], Entry)
