"""Safety checks before a workbook is read: limits, containers, headers that lie, and the sheet XML scan."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable

import pytest
from corpus.filling import TINY_FRAMEWORK

from bot.workbooks.template import build_template
from kpi_core import loader
from kpi_core.calendar import parse_period
from kpi_core.returns.bounds import declared_extent, scan_declared
from kpi_core.returns.reader import read_return
from kpi_core.returns.safety import Limits, open_package, sniff
from kpi_core.returns.sheetxml import (
    FormulasUnaccounted,
    StructureError,
    percent_styles,
    scan_sheet,
    shared_strings_problem,
    workbook_sheets,
)

TINY = loader.load_text(TINY_FRAMEWORK)


def template() -> bytes:
    return build_template(TINY, contract_id="tiny-contract", contract_name="Tiny", provider_name="Tiny Ltd",
                          period=parse_period("2025-26-Q1", 4))


def rezip(data: bytes, compression: int = zipfile.ZIP_DEFLATED, **options: int) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression, **options) as target:
        for info in source.infolist():
            target.writestr(info.filename, source.read(info.filename))
    return out.getvalue()


def codes(data: bytes, name: str = "return.xlsx", **limits: int) -> list[str]:
    return [f.code for f in read_return(data, name, **limits).findings]  # type: ignore[arg-type]


@pytest.mark.parametrize(("head", "kind"), [
    (b"PK\x03\x04rest", "zip"),
    (b"PK\x05\x06" + b"\0" * 18, "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "ole"),
    (b"item,breakdown,value\n", "other"),
    (b"", "other"),
])
def test_the_container_is_recognised_by_its_first_bytes(head: bytes, kind: str) -> None:
    assert sniff(head) == kind


def test_the_size_limit_is_configurable_and_applies_before_anything_is_read() -> None:
    data = template()
    assert codes(data, max_bytes=len(data)) == ["empty_return"]
    assert codes(data, max_bytes=len(data) - 1) == ["too_large"]
    assert codes(b"item,breakdown,value\nstarts,,1\n" * 40, "r.csv", max_bytes=1024) == ["too_large"]


def test_the_default_size_limit_is_10_mb() -> None:
    assert Limits().max_bytes == 10 * 1024 * 1024
    assert codes(b"PK\x03\x04" + b"\0" * (10 * 1024 * 1024)) == ["too_large"]


def test_the_uncompressed_limit_is_configurable() -> None:
    data = template()
    finding = read_return(data, "return.xlsx", max_uncompressed_bytes=20_000).findings[0]
    assert finding.code == "zip_bomb"
    assert "over the limit of 20 KB" in finding.message


@pytest.mark.parametrize(("limits", "code"), [
    (Limits(max_parts=5), "zip_bomb"),
    (Limits(max_cells=100), "sheet_too_large"),
])
def test_part_and_cell_limits_refuse_a_workbook_beyond_them(limits: Limits, code: str) -> None:
    assert [f.code for f in read_return(template(), "return.xlsx", limits=limits).findings] == [code]


def test_stored_uncompressed_parts_read_normally() -> None:
    assert codes(rezip(template(), zipfile.ZIP_STORED)) == ["empty_return"]


def test_a_compression_excel_never_writes_is_refused() -> None:
    finding = read_return(rezip(template(), zipfile.ZIP_BZIP2), "return.xlsx").findings[0]
    assert finding.code == "corrupt_workbook"
    assert "compression Excel never writes" in finding.message


def _patch_central(data: bytes, name: bytes, offset: int, fmt: str, value: int) -> bytes:
    out = bytearray(data)
    start = 0
    while True:
        start = out.index(b"PK\x01\x02", start)
        length = struct.unpack_from("<H", out, start + 28)[0]
        if out[start + 46:start + 46 + length] == name:
            struct.pack_into(fmt, out, start + offset, value)
            return bytes(out)
        start += 4


def test_a_part_whose_compressed_data_ends_early_is_reported_as_damage() -> None:
    data = template()
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet2.xml")
    cut = _patch_central(data, b"xl/worksheets/sheet2.xml", 20, "<I", info.compress_size // 2)
    finding = read_return(cut, "return.xlsx").findings[0]
    assert finding.code == "corrupt_workbook"
    assert "xl/worksheets/sheet2.xml" in finding.message


def test_a_part_marked_encrypted_inside_the_zip_is_refused() -> None:
    data = template()
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/workbook.xml")
    flagged = _patch_central(data, b"xl/workbook.xml", 8, "<H", info.flag_bits | 0x1)
    assert codes(flagged) == ["encrypted"]


def test_the_package_keeps_only_the_parts_the_reader_needs_and_counts_every_byte() -> None:
    data = template()
    package, findings = open_package(data, "return.xlsx", Limits())
    assert findings == [] and package is not None
    assert "xl/workbook.xml" in package.parts and "xl/worksheets/sheet1.xml" in package.parts
    assert "xl/theme/theme1.xml" not in package.parts
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert package.uncompressed_bytes == sum(i.file_size for i in archive.infolist())


# ----------------------------------------------------------------------------- the sheet XML scan

def sheet(cells: bytes) -> bytes:
    return (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            + cells + b"</sheetData></worksheet>")


@pytest.mark.parametrize(("cell", "uncached"), [
    (b'<c r="B2"><f>SUM(A1:A3)</f><v>6</v></c>', {}),
    (b'<c r="B2"><f>SUM(A1:A3)</f><v></v></c>', {(1, 1): "SUM(A1:A3)"}),
    (b'<c r="B2"><f>SUM(A1:A3)</f><v /></c>', {(1, 1): "SUM(A1:A3)"}),
    (b'<c r="B2"><f>SUM(A1:A3)</f></c>', {(1, 1): "SUM(A1:A3)"}),
    (b'<c r="B2" t="str"><f>IF(A1&gt;0,"","x")</f><v></v></c>', {}),  # a text formula that returned ""
    (b'<c r="B2"><f t="shared" si="0"/><v>3</v></c>', {}),
    (b'<c r="B2"><f t="shared" si="0"/></c>', {(1, 1): ""}),
    (b'<x:c r="C9"><x:f>A1&lt;2</x:f></x:c>', {(8, 2): "A1<2"}),
    (b'<c r="B2" t="n"><v>5</v></c>', {}),
])
def test_formulas_without_a_saved_result_are_found(cell: bytes, uncached: dict[tuple[int, int], str]) -> None:
    assert scan_sheet("S", "p", sheet(b'<row r="2">' + cell + b"</row>")).uncached_formulas == uncached


@pytest.mark.parametrize(("cells", "rows", "cols"), [
    (b'<row r="1"><c r="A1"><v>1</v></c></row>', 1, 1),
    (b'<row r="7"><c r="AB7"><v>1</v></c></row>', 7, 28),
    (b'<row r="1"><c r="XFD1048576"><v>1</v></c></row>', 1048576, 16384),
    (b'<row><c><v>1</v></c><c><v>2</v></c></row><row><c/></row>', 2, 3),  # no `r`: bounded by their count
    (b'<row r="20"/>', 20, 0),
])
def test_the_extent_calamine_would_allocate_is_found_before_reading(cells: bytes, rows: int, cols: int) -> None:
    scan = scan_sheet("S", "p", sheet(cells))
    assert (scan.rows, scan.cols) == (rows, cols)


@pytest.mark.parametrize("cell", [
    b"<c r='XFD1048576'><v>1</v></c>",  # single quotes
    b'<c r = "XFD1048576"><v>1</v></c>',  # spaces around =
    b'<c s=">" r="XFD1048576"><v>1</v></c>',  # ">" inside another attribute
    b'<c r="&#88;FD1048576"><v>1</v></c>',  # a character reference
])
def test_a_far_cell_is_found_however_its_reference_is_written(cell: bytes) -> None:
    scan = scan_sheet("S", "p", sheet(b"<row>" + cell + b"</row>"))
    assert (scan.rows, scan.cols) == (1048576, 16384)


@pytest.mark.parametrize("cells", [
    b'<row><c r="A1B"><v>1</v></c></row>',
    b'<row r="1e9"><c><v>1</v></c></row>',
    b"<row><c r='A1'><v>1</v></row>",  # not well-formed
])
def test_a_sheet_written_in_a_way_no_spreadsheet_writes_is_refused(cells: bytes) -> None:
    with pytest.raises(StructureError):
        scan_sheet("S", "p", sheet(cells))


@pytest.mark.parametrize("encoding", [b"ATF-8", b"shift_jis", b"utf-7", b"rot13", b"base64", b"idna", b"undefined",
                                      b"punycode", b"cp037", b"utf-16"])
def test_an_xml_part_in_an_encoding_expat_cannot_read_is_a_structure_error_everywhere(encoding: bytes) -> None:
    head = b'<?xml version="1.0" encoding="' + encoding + b'"?>'
    with pytest.raises(StructureError):
        scan_sheet("S", "p", head + sheet(b'<row r="1"><c r="A1"><v>\xe9</v></c></row>'))
    with pytest.raises(StructureError):
        shared_strings_problem({"xl/sharedStrings.xml": head + b'<sst uniqueCount="1"><si><t>\xe9</t></si></sst>'})
    with pytest.raises(StructureError):
        workbook_sheets({"xl/workbook.xml": head + b"<workbook><sheets/>\xe9</workbook>"})


@pytest.mark.parametrize(("root", "problem"), [
    (b'<sst count="3" uniqueCount="1"><si><t>a</t></si></sst>', ""),
    (b'<sst><si><t>a</t></si></sst>', ""),
    (b"<sst uniqueCount='4000000000'><si><t>a</t></si></sst>", "declares 4000000000 strings but holds 1"),
    (b'<sst uniqueCount="&#52;000"><si><t>a</t></si></sst>', "declares 4000 strings but holds 1"),
])
def test_a_string_table_may_not_declare_more_strings_than_it_holds(root: bytes, problem: str) -> None:
    assert problem in shared_strings_problem({"xl/sharedStrings.xml": root})
    assert bool(shared_strings_problem({"xl/sharedStrings.xml": root})) == bool(problem)


def test_percentage_formats_are_found_among_the_cell_styles() -> None:
    styles = (b'<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              b'<numFmts count="1"><numFmt numFmtId="164" formatCode="0.0%"/></numFmts>'
              b'<cellXfs count="4"><xf numFmtId="0"/><xf numFmtId="10"/><xf numFmtId="164"/><xf numFmtId="3"/>'
              b"</cellXfs></styleSheet>")
    found = percent_styles(styles)
    assert found == {1, 2}
    scan = scan_sheet("S", "p", sheet(b'<row r="1"><c r="A1" s="2"><v>0.5</v></c><c r="B1" s="3"><v>4</v></c></row>'),
                      percent=found)
    assert scan.percent_cells == {(0, 0)}


def test_sheets_are_listed_in_workbook_order_with_their_parts_and_visibility() -> None:
    parts = {
        "xl/workbook.xml": b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                           b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
                           b'<sheet name="Cover" sheetId="1" r:id="rId1"/>'
                           b'<sheet name="Data" sheetId="2" state="hidden" r:id="rId2"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                                      b'relationships"><Relationship Id="rId1" Target="worksheets/sheet1.xml"/>'
                                      b'<Relationship Id="rId2" Target="/xl/worksheets/data.xml"/></Relationships>',
    }
    assert workbook_sheets(parts) == [("Cover", "xl/worksheets/sheet1.xml", False),
                                      ("Data", "xl/worksheets/data.xml", True)]


# ----------------------------------------------------------------------------- declared bounds, inside the worker's cap

def headed(head: bytes, cells: bytes = b'<row r="1"><c r="A1"><v>1</v></c></row>') -> bytes:
    return (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">' + head
            + b"<sheetData>" + cells + b"</sheetData></worksheet>")


@pytest.mark.parametrize(("head", "extent"), [
    (b'<dimension ref="A1:E64"/>', (64, 5)),
    (b"<sheetPr><outlinePr summaryBelow='1'/></sheetPr><dimension ref = 'B2:D5' />", (5, 4)),
    (b'<dimension ref="A1"/>', (1, 1)),
    (b'<dimension ref="A1:&#69;64"/>', (64, 5)),  # a character reference, read as expat reads it
    (b"", None),  # no dimension: the full walk decides
    (b'<sheetViews/><dimension ref="A1:C3"/>', None),  # not where a dimension is written
    (b'<dimension ref="A1:ZZZZ9"/>', None),
    (b'<dimension ref="A1:B2:C3"/>', None),
    (b'<dimension/>', None),
])
def test_the_extent_a_sheet_declares_is_read_from_its_head(head: bytes, extent: tuple[int, int] | None) -> None:
    assert declared_extent("S", headed(head)) == extent


def test_a_sheet_s_head_in_an_encoding_expat_cannot_read_is_a_structure_error_too() -> None:
    with pytest.raises(StructureError, match="sheet 'S' is not well-formed"):
        declared_extent("S", b'<?xml version="1.0" encoding="ATF-8"?>' + headed(b'<dimension ref="A1"/>'))


@pytest.mark.parametrize(("head", "cells", "percent", "declared"), [
    (b'<dimension ref="A1:B2"/>', b'<row r="2"><c r="B2"><f>A1*2</f></c></row>', frozenset(), True),
    (b'<dimension ref="A1:B2"/>', b'<row r="2"><c r="B2" s="3"><v>2</v></c></row>', frozenset({4}), True),
    # walked in full: no dimension, one over the limits, a cell in a percentage format
    (b"", b'<row r="1"><c r="A1"><v>1</v></c></row>', frozenset(), False),
    (b'<dimension ref="A1:ZZ2000"/>', b'<row r="1"><c r="A1"><v>1</v></c></row>', frozenset(), False),
    (b'<dimension ref="A1:A20000"/>', b'<row r="1"><c r="A1"><v>1</v></c></row>', frozenset(), False),
    (b'<dimension ref="A1:B2"/>', b'<row r="2"><c r="B2" s="4"><v>0.5</v></c></row>', frozenset({4}), False),
    (b'<dimension ref="A1:B2"/>', b'<row r="2"><c r="B2" s=\'04\'><v>0.5</v></c></row>', frozenset({4}), False),
])
def test_a_sheet_is_bounded_by_what_it_declares_only_when_nothing_else_needs_its_xml(
        head: bytes, cells: bytes, percent: frozenset[int], declared: bool) -> None:
    xml = headed(head, cells)
    scan = scan_declared("S", "p", xml, False, percent, Limits().max_cells, Limits().max_rows)
    assert scan.declared == declared
    walked = scan_sheet("S", "p", xml, False, percent)
    assert (scan.formula_at(1, 1), scan.percent_cells) == (walked.uncached_formulas.get((1, 1)), walked.percent_cells)


def test_formulas_the_pattern_cannot_place_send_the_file_to_the_full_walk() -> None:
    xml = headed(b'<dimension ref="A1:B2"/>', b'<row r="2"><c r="B2"><v>2</v><f>A1*2</f></c></row>')
    scan = scan_declared("S", "p", xml, False, frozenset(), Limits().max_cells, Limits().max_rows)
    with pytest.raises(FormulasUnaccounted):
        scan.formula_at(0, 0)
    data = rezip_with(template(), "xl/worksheets/sheet2.xml", lambda sheet: sheet.replace(
        b'<c r="E5" s="7" t="n" />', b'<c r="E5" s="7"><v></v><f>SUM(1,2)</f></c>'))  # an empty cell, read
    capped = read_return(data, "r.xlsx", capped=True)
    assert capped == read_return(data, "r.xlsx")
    assert [str(e.raw) for e in capped.entries] == ["=SUM(1,2)"]


def test_a_sheet_declaring_less_than_it_holds_is_refused_from_the_grid_calamine_built() -> None:
    """Inside the cap the declared extent is trusted up front; the cell far beyond it is caught before anything is
    copied out of calamine, with the same answer as the full walk gives (tests/corpus/dimension_lies.xlsx)."""
    data = rezip_with(template(), "xl/worksheets/sheet2.xml", lambda xml: xml.replace(
        b"</sheetData>", b'<row r="3000"><c r="KZ3000"><v>1</v></c></row></sheetData>'))
    capped, walked = read_return(data, "r.xlsx", capped=True), read_return(data, "r.xlsx")
    assert capped == walked
    assert [(f.code, f.where) for f in capped.findings] == [("sheet_too_large", "Data!KZ3000")]


def rezip_with(data: bytes, part: str, change: Callable[[bytes], bytes]) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            target.writestr(info.filename, change(content) if info.filename == part else content)
    return out.getvalue()
