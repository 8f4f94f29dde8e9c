"""A file is recognised by its content before its name: kpibot says what it really is, and reads nothing more."""

from __future__ import annotations

import io
import zipfile

import pytest
from corpus.filling import TINY_FRAMEWORK, fill

from bot.workbooks.template import build_template
from kpi_core import loader
from kpi_core.calendar import parse_period
from kpi_core.returns.filekind import foreign_kind
from kpi_core.returns.reader import read_return

TINY = loader.load_text(TINY_FRAMEWORK)
Q1 = parse_period("2025-26-Q1", 4)

KINDS = {
    "a PDF document": b"%PDF-1.5\n%\xb5\xb5\xb5\xb5\n1 0 obj\n",
    "a PNG image": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "a JPEG image (a photo or scan)": b"\xff\xd8\xff\xe1\x00\x18Exif\x00\x00",
    "a GIF image": b"GIF89a\x01\x00\x01\x00\x80\x00\x00",
    "a TIFF image (a scan)": b"II*\x00\x08\x00\x00\x00",
    "a BMP image": b"BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00",
    "a WebP image": b"RIFF\x24\x00\x00\x00WEBPVP8 ",
    "a HEIC/HEIF image (a phone photo)": b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
    "a video or audio file": b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2",
    "a Rich Text (RTF) document": b"{\\rtf1\\ansi\\deff0 {\\fonttbl}",
    "a gzip-compressed file": b"\x1f\x8b\x08\x00\x00\x00\x00\x00",
    "a 7-Zip archive": b"7z\xbc\xaf\x27\x1c\x00\x04",
    "a RAR archive": b"Rar!\x1a\x07\x01\x00",
    "a bzip2-compressed file": b"BZh91AY&SY\x00",
    "an SQLite database": b"SQLite format 3\x00\x10\x00",
    "a program (an executable file)": b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56 + b"This program cannot be run in DOS",
    "a web page (HTML)": b"<!DOCTYPE html>\n<html><body><table><tr><td>1</td></tr></table></body></html>",
    "an Excel 2003 XML spreadsheet": (b'<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:'
                                      b'spreadsheet"><Worksheet ss:Name="Data"/></Workbook>'),
}


@pytest.mark.parametrize("name", ["return.xlsx", "return.csv", "return"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_file_of_another_kind_is_named_for_what_it_is_whatever_its_name(kind: str, name: str) -> None:
    parsed = read_return(KINDS[kind] + b"\x00rest of the file" * 10, name)
    assert parsed.unreadable
    [finding] = parsed.findings
    expected = {"return.xlsx": "an Excel workbook", "return.csv": "a CSV file"}.get(
        name, "a return (an Excel workbook or a CSV file)")
    assert (finding.code, finding.message) == ("not_a_workbook", f"{name} is {kind}, not {expected}")
    assert finding.fix


def test_a_web_page_in_utf_16_is_still_a_web_page() -> None:
    assert foreign_kind("<html><body>1</body></html>".encode("utf-16")) == "a web page (HTML)"


def test_the_kind_is_said_before_the_size_limit() -> None:
    parsed = read_return(b"%PDF-1.4\n" + b"0" * 5000, "return.xlsx", max_bytes=1024)
    assert [f.code for f in parsed.findings] == ["not_a_workbook"]


@pytest.mark.parametrize("text", [b"BM,,5\nquits,,3\n", b"MZ_item,,5\n", b"GIF,,1\n", b"item,breakdown,value\n"
                                  b"html,,3\n"])
def test_csv_text_that_starts_like_a_magic_number_is_still_read_as_csv(text: bytes) -> None:
    assert foreign_kind(text) is None
    assert not any(f.code == "not_a_workbook" for f in read_return(text, "return.csv").findings)


def test_a_real_workbook_named_csv_is_read_as_the_workbook_it_is() -> None:
    template = build_template(TINY, contract_id="tiny-contract", contract_name="Tiny", provider_name="Tiny Ltd",
                              period=Q1)
    parsed = read_return(fill(template, {("starts", ""): 40}, TINY), "return.csv")
    assert parsed.format == "xlsx" and not parsed.unreadable
    assert [(e.item, e.raw) for e in parsed.entries] == [("starts", 40.0)]


@pytest.mark.parametrize(("parts", "what"), [
    ({"return.csv": b"item,breakdown,value\n"}, "a zip archive (a compressed folder)"),
    ({"Index/Document.iwa": b"\x00", "Metadata/Properties.plist": b""}, "an Apple Numbers spreadsheet"),
    ({"ppt/presentation.xml": b"<p/>"}, "a PowerPoint file"),
])
def test_a_zip_that_is_not_a_workbook_says_what_it_is(parts: dict[str, bytes], what: str) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for part, content in parts.items():
            archive.writestr(part, content)
    parsed = read_return(out.getvalue(), "return.csv")
    assert parsed.unreadable
    assert what in parsed.findings[0].message


@pytest.mark.parametrize(("data", "name", "code"), [
    (b"", "return.xlsx", "empty_file"),
    (b"", "return.csv", "empty_file"),
    (b"item,breakdown,value\nstarts,,40\n", "return.xlsx", "not_a_workbook"),
    (b"item,breakdown,value\nstarts,,40\n", "return.xls", "not_a_workbook"),
    (bytes(range(256)), "return.xlsx", "corrupt_workbook"),
    (bytes(range(256)), "return.csv", "not_csv"),
])
def test_empty_text_and_unknown_binary_files_are_unreadable(data: bytes, name: str, code: str) -> None:
    parsed = read_return(data, name)
    assert parsed.unreadable
    assert [f.code for f in parsed.findings] == [code]
