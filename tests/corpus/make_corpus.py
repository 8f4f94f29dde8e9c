"""Write the corpus of bad return files in this folder; tests/test_corpus.py says what kpibot must answer to each.

Run: `.venv/bin/python tests/corpus/make_corpus.py`. Deterministic: zip timestamps, document dates and the
encryption's random bytes are fixed, so running it again rewrites the same bytes. Every file is small; the bombs
are small compressed and large only when inflated.
"""

from __future__ import annotations

import hashlib
import io
import struct
import sys
import zipfile
from collections.abc import Callable
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import openpyxl
from openpyxl.styles import numbers

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from corpus.filling import consistent_values, fill, template_cells  # noqa: E402
from corpus.people import KNOWN_VALID, people, spaced  # noqa: E402

from bot.workbooks.template import build_template  # noqa: E402
from kpi_core import loader  # noqa: E402
from kpi_core.calendar import parse_period  # noqa: E402
from kpi_core.values import Key  # noqa: E402

CONTRACT = "ch-stop-smoking"
PERIOD = "2025-26-Q1"
FIXED_TIME = (2025, 1, 1, 0, 0, 0)
FIXED_STAMP = b"2025-01-01T00:00:00Z"

Builder = Callable[[], bytes]
BUILDERS: dict[str, Builder] = {}


def corpus_file(name: str) -> Callable[[Builder], Builder]:
    def register(builder: Builder) -> Builder:
        BUILDERS[name] = builder
        return builder
    return register


# ----------------------------------------------------------------------------- building blocks

def template(framework_id: str = CONTRACT, period_id: str = PERIOD, contract_id: str = CONTRACT) -> bytes:
    framework = loader.get(framework_id)
    period = parse_period(period_id, framework.calendar.year_start_month)
    return build_template(framework, contract_id=contract_id, contract_name=framework.name,
                          provider_name="Breathe Easy Stop Smoking CIC", period=period)


def good_values(framework_id: str = CONTRACT, period_id: str = PERIOD) -> dict[Key, Fraction]:
    framework = loader.get(framework_id)
    period = parse_period(period_id, framework.calendar.year_start_month)
    return_id = next(r for r, spec in framework.returns.items() if spec.frequency == period.frequency)
    return consistent_values(framework, return_id, fixed={"quit_dates": 400, "quits_4wk": 210})


def filled(changes: dict[Key, object] | None = None, drop: tuple[Key, ...] = (), **template_args: str) -> bytes:
    """A complete, consistent return with some figures changed (any value a person might type) or left out."""
    values: dict[Key, object] = dict(good_values())
    values.update(changes or {})
    for key in drop:
        values.pop(key, None)
    return fill(template(**template_args), values, loader.get(CONTRACT))


def edit(data: bytes, change: Callable[[openpyxl.Workbook], None]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(data))
    change(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def cell_of(book: openpyxl.Workbook, item: str, breakdown: str = "") -> openpyxl.cell.Cell:
    sheet, coordinate = template_cells(book)[(item, breakdown)]
    return book[sheet][coordinate]


def rezip(data: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None,
          drop: tuple[str, ...] = ()) -> bytes:
    """Copy a zip with fixed timestamps and document dates, replacing, adding or dropping parts."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename in drop:
                continue
            content = (replace or {}).get(info.filename, source.read(info.filename))
            if info.filename == "docProps/core.xml":
                content = _fixed_dates(content)
            target.writestr(zipfile.ZipInfo(info.filename, FIXED_TIME), content, zipfile.ZIP_DEFLATED)
        for name, content in (add or {}).items():
            target.writestr(zipfile.ZipInfo(name, FIXED_TIME), content, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _fixed_dates(core: bytes) -> bytes:
    import re
    return re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", FIXED_STAMP, core)


def compound_file(streams: dict[str, bytes]) -> bytes:
    """A minimal, valid OLE compound file (version 3, 512-byte sectors) holding the given streams."""
    sector = 512
    names = list(streams)
    # Streams under 4,096 bytes belong in the mini stream; padding them keeps every stream in regular sectors.
    bodies = [streams[n].ljust(max(4096, -(-len(streams[n]) // sector) * sector), b"\0") for n in names]
    data_sectors = sum(len(b) // sector for b in bodies)
    fat_index, dir_index, first_data = 0, 1, 2
    fat = [0xFFFFFFFD, 0xFFFFFFFE]  # the FAT sector itself, the one directory sector (end of chain)
    starts = []
    next_free = first_data
    for body in bodies:
        count = len(body) // sector
        starts.append(next_free)
        fat += [next_free + i + 1 for i in range(count - 1)] + [0xFFFFFFFE]
        next_free += count
    fat += [0xFFFFFFFF] * (sector // 4 - len(fat))
    header = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16)
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
    header += struct.pack("<IIIIIIIII", 0, 1, dir_index, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    header += struct.pack("<I", fat_index) + struct.pack("<I", 0xFFFFFFFF) * 108
    entries = [_dir_entry("Root Entry", 5, child=1 if names else 0xFFFFFFFF, start=0xFFFFFFFE, size=0)]
    for index, (name, start, body) in enumerate(zip(names, starts, bodies)):
        right = index + 2 if index + 1 < len(names) else 0xFFFFFFFF
        entries.append(_dir_entry(name, 2, right=right, start=start, size=len(body)))
    blank = _dir_entry("", 0, start=0, size=0)
    directory = b"".join(entries) + blank * (sector // 128 - len(entries))
    assert data_sectors + 2 <= sector // 4, "one FAT sector is enough for the corpus"
    return bytes(header) + struct.pack(f"<{sector // 4}I", *fat) + directory + b"".join(bodies)


def _dir_entry(name: str, kind: int, *, child: int = 0xFFFFFFFF, right: int = 0xFFFFFFFF, start: int,
               size: int) -> bytes:
    encoded = (name.encode("utf-16-le") + b"\0\0") if name else b""
    return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", 0xFFFFFFFF, right, child) + b"\0" * 16 + b"\0" * 4 + b"\0" * 16
            + struct.pack("<IQ", start, size))


# ----------------------------------------------------------------------------- containers

@corpus_file("corrupt_zip.xlsx")
def corrupt_zip() -> bytes:
    data = rezip(filled())
    return data[: len(data) // 2]


@corpus_file("macro_enabled.xlsm")
def macro_enabled() -> bytes:
    data = filled()
    types = zipfile.ZipFile(io.BytesIO(data)).read("[Content_Types].xml").replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    return rezip(data, replace={"[Content_Types].xml": types},
                 add={"xl/vbaProject.bin": compound_file({"VBA": b"Attribute VB_Name = \"Module1\"\r\n"})})


@corpus_file("encrypted.xlsx")
def encrypted() -> bytes:
    import msoffcrypto.method.container.ecma376_encrypted as container
    import msoffcrypto.method.ecma376_agile as agile
    from msoffcrypto.format.ooxml import OOXMLFile

    counter = iter(range(1_000_000))

    def fixed_random(size: int) -> bytes:  # deterministic "random" bytes: the corpus must not change per run
        return hashlib.sha256(str(next(counter)).encode()).digest()[:size].ljust(size, b"\0")

    class FixedDatetime(datetime):
        @classmethod
        def now(cls, tz: object = None) -> "FixedDatetime":  # type: ignore[override]
            return cls(*FIXED_TIME)

    agile._random_buffer, container.datetime = fixed_random, FixedDatetime  # type: ignore[attr-defined]
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(rezip(filled()))).encrypt("Secret123", out)
    return out.getvalue()


@corpus_file("legacy_97_2003.xls")
def legacy_xls() -> bytes:
    return compound_file({"Workbook": b"\x09\x08\x10\x00\x00\x06\x05\x00", "\x05SummaryInformation": b"\0" * 48})


@corpus_file("word_document.doc")
def word_document() -> bytes:
    return compound_file({"WordDocument": b"\xec\xa5\xc1\x00", "1Table": b"\0" * 16})


@corpus_file("zip_bomb.xlsx")
def zip_bomb() -> bytes:
    # One shared string of 120 MB of "A": about 120 KB compressed, over the 100 MB limit when inflated.
    strings = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
               b"<si><t>" + b"A" * (120 * 1024 * 1024) + b"</t></si></sst>")
    return rezip(filled(), add={"xl/sharedStrings.xml": strings})


@corpus_file("zip_bomb_ratio.xlsx")
def zip_bomb_ratio() -> bytes:
    # 30 MB of one repeated byte: under the size limit, but no real part shrinks 1,000 times.
    return rezip(filled(), add={"xl/media/image1.png": b"\0" * (30 * 1024 * 1024)})


@corpus_file("zip_lying_sizes.xlsx")
def zip_lying_sizes() -> bytes:
    """A part that declares 2 KB (in both headers) but inflates to 8 MB: the central directory lies."""
    data = bytearray(rezip(filled(), add={"xl/media/data.bin": bytes(range(256)) * (32 * 1024)}))
    name = b"xl/media/data.bin"
    local = _header_offset(bytes(data), name, b"PK\x03\x04", 26)
    central = _header_offset(bytes(data), name, b"PK\x01\x02", 28)
    struct.pack_into("<I", data, local + 22, 2048)
    struct.pack_into("<I", data, central + 24, 2048)
    return bytes(data)


def _header_offset(data: bytes, name: bytes, magic: bytes, name_len_at: int) -> int:
    start = 0
    while True:
        start = data.index(magic, start)
        length = struct.unpack_from("<H", data, start + name_len_at)[0]
        header = 30 if magic == b"PK\x03\x04" else 46
        if data[start + header:start + header + length] == name:
            return start
        start += 4


@corpus_file("far_cell.xlsx")
def far_cell() -> bytes:
    # Two cells, one of them at XFD1048576: a 5 KB file that calamine would hold as 17 billion cells.
    return rezip(edit(filled(), lambda book: book["Data"].cell(1048576, 16384, 1)))


@corpus_file("far_cell_quoted.xlsx")
def far_cell_quoted() -> bytes:
    # The same far cell written r='XFD1048576' (single quotes are valid XML): a pattern looking for r="..." misses it.
    data = rezip(filled())
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet2.xml")
    return rezip(data, replace={"xl/worksheets/sheet2.xml": sheet.replace(
        b"</sheetData>", b"<row r='1048576'><c r='XFD1048576'><v>1</v></c></row></sheetData>")})


@corpus_file("dimension_lies.xlsx")
def dimension_lies() -> bytes:
    # The sheet declares the template's extent (<dimension ref="A1:E51"/>) but holds a cell at ZZ2000: 1.4 million
    # cells, past the cell limit. A reader inside the cap trusts the declaration up front and must catch the lie
    # from the grid calamine built (kpi_core/returns/bounds.py).
    data = rezip(filled())
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet2.xml")
    assert b'<dimension ref="A1:E' in sheet
    return rezip(data, replace={"xl/worksheets/sheet2.xml": sheet.replace(
        b"</sheetData>", b'<row r="2000"><c r="ZZ2000"><v>1</v></c></row></sheetData>')})


@corpus_file("shared_strings_bomb.xlsx")
def shared_strings_bomb() -> bytes:
    # A 1 KB string table declaring 4 billion strings: calamine would reserve 96 GB before reading one.
    data = rezip(filled())
    strings = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
               b'uniqueCount="4000000000"><si><t>x</t></si></sst>')
    return rezip(data, add={"xl/sharedStrings.xml": strings})


@corpus_file("date_out_of_range.xlsx")
def date_out_of_range() -> bytes:
    # A date-formatted cell 10^300 days before 1900: calamine panics converting it; kpibot must answer anyway.
    def far_date(book: openpyxl.Workbook) -> None:
        cell = cell_of(book, "quit_dates")
        cell.value, cell.number_format = -1e300, "yyyy-mm-dd"
    return rezip(edit(filled(), far_date))


def _declared(part: str, encoding: bytes) -> bytes:
    """The filled return with one XML part declaring an encoding no XML parser here can read (found by fuzzing:
    expat raised LookupError or ValueError instead of an XML error)."""
    data = rezip(filled())
    xml = zipfile.ZipFile(io.BytesIO(data)).read(part)
    xml = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
    return rezip(data, replace={part: b'<?xml version="1.0" encoding="' + encoding + b'"?>' + xml})


@corpus_file("xml_encoding_unknown.xlsx")
def xml_encoding_unknown() -> bytes:
    return _declared("xl/worksheets/sheet2.xml", b"ATF-8")  # a damaged "UTF-8": LookupError


@corpus_file("xml_encoding_multibyte.xlsx")
def xml_encoding_multibyte() -> bytes:
    return _declared("xl/_rels/workbook.xml.rels", b"shift_jis")  # a codec expat cannot use: ValueError


@corpus_file("xml_encoding_not_text.xlsx")
def xml_encoding_not_text() -> bytes:
    return _declared("xl/workbook.xml", b"rot13")  # a Python codec that is not a text encoding


@corpus_file("word_renamed.xlsx")
def word_renamed() -> bytes:
    return rezip(filled(), drop=("xl/workbook.xml",), add={"word/document.xml": b"<w:document/>"})


@corpus_file("opendocument.ods")
def opendocument() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype", FIXED_TIME), "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr(zipfile.ZipInfo("content.xml", FIXED_TIME), "<office:document-content/>")
    return out.getvalue()


# ----------------------------------------------------------------------------- not a return at all (magic bytes)

# Files that are just their bytes: what people send by mistake under a return's name.
AS_IS: dict[str, bytes] = {
    "pdf_named_xlsx.xlsx": b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n\x00\x00trailer\n%%EOF\n",
    # A PDF whose first 4 KB hold no NUL byte: by its bytes alone it would pass for text.
    "pdf_named_csv.csv": b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
    "empty_file.xlsx": b"",
    "text_named_xlsx.xlsx": b"item,breakdown,value\nquit_dates,,400\nquits_4wk,,210\n",
    "binary_named_xlsx.xlsx": bytes(range(256)) * 4,  # no known kind: damaged, or something kpibot does not know
    "png_named_csv.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00",
    "jpeg_named_xlsx.xlsx": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9",
    # What some case-management systems export as ".xls": an HTML table.
    "web_page_named_xls.xls": (b"<html><head><meta charset='utf-8'></head><body><table><tr><td>quit_dates</td>"
                               b"<td>400</td></tr></table></body></html>"),
}
for _name, _content in AS_IS.items():
    corpus_file(_name)(lambda content=_content: content)


@corpus_file("zip_named_csv.csv")
def zip_named_csv() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("return.csv", FIXED_TIME), "item,breakdown,value\nquit_dates,,400\n")
    return out.getvalue()


# ----------------------------------------------------------------------------- personal data

def _client_sheet(book: openpyxl.Workbook, title: str = "Clients") -> None:
    sheet = book.create_sheet(title)
    sheet.append(["Surname", "Forename", "Date of birth", "NHS number", "Postcode", "Quit date"])
    for person in people(12):
        sheet.append([person["surname"], person["forename"], person["dob"], int(str(person["nhs"])),
                      person["postcode"], person["quit_date"]])


@corpus_file("client_list_sheet.xlsx")
def client_list_sheet() -> bytes:
    """A filled return with the provider's client list on an extra sheet: names, birthdays, NHS numbers."""
    return rezip(edit(filled(), _client_sheet))


@corpus_file("client_list_hidden.xlsx")
def client_list_hidden() -> bytes:
    def hidden_list(book: openpyxl.Workbook) -> None:
        _client_sheet(book, "Working")
        book["Working"].sheet_state = "hidden"
    return rezip(edit(filled(), hidden_list))


@corpus_file("nhs_number_in_value.xlsx")
def nhs_number_in_value() -> bytes:
    return rezip(filled({("quits_4wk", ""): int(KNOWN_VALID[1])}))  # 4010232137 where the 4-week quitters go


@corpus_file("client_list.csv")
def client_list_csv() -> bytes:
    lines = ["NHS No.,Surname,Forename,DOB,Postcode,Quit date"]
    for person in people(20, seed=1):
        lines.append(f"{spaced(str(person['nhs']))},{person['surname']},{person['forename']},"
                     f"{person['dob']:%d/%m/%Y},{person['postcode']},{person['quit_date']:%d/%m/%Y}")
    return ("\n".join(lines) + "\n").encode()


@corpus_file("nhs_numbers_as_items.csv")
def nhs_numbers_as_items_csv() -> bytes:
    """A long-form CSV whose item column holds NHS numbers written with dashes, one figure each."""
    rows = [f"{spaced(number, '-')},,1" for number in KNOWN_VALID]
    return ("item,breakdown,value\nquit_dates,,400\n" + "\n".join(rows) + "\n").encode()


@corpus_file("names_in_breakdowns.csv")
def names_in_breakdowns_csv() -> bytes:
    """Breakdown categories that are people's names: the figure per client."""
    rows = [f"quit_dates,client={p['forename']} {p['surname']},1" for p in people(8, seed=2)]
    return ("item,breakdown,value\nquit_dates,,8\n" + "\n".join(rows) + "\n").encode()


# ----------------------------------------------------------------------------- wrong workbook

@corpus_file("not_a_template.xlsx")
def not_a_template() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Quarter 1 figures"])
    sheet.append(["People setting a quit date", 400])
    sheet.append(["4-week quitters", 210])
    out = io.BytesIO()
    book.save(out)
    return rezip(out.getvalue())


@corpus_file("wrong_template.xlsx")
def wrong_template() -> bytes:
    framework = loader.get("solihull-stop-smoking")
    return_id = next(r for r, s in framework.returns.items() if s.frequency == "quarterly")
    values = consistent_values(framework, return_id)
    return rezip(fill(template("solihull-stop-smoking", contract_id="solihull-stop-smoking"), values, framework))


@corpus_file("main_sheet_missing.xlsx")
def main_sheet_missing() -> bytes:
    return rezip(edit(filled(), lambda book: book.remove(book["Data"])))


@corpus_file("contract_mismatch.xlsx")
def contract_mismatch() -> bytes:
    return rezip(filled(contract_id="ch-stop-smoking-2024"))


@corpus_file("period_mismatch.xlsx")
def period_mismatch() -> bytes:
    return rezip(filled())  # a Q1 workbook; the test sends it for Q2


@corpus_file("future_period.xlsx")
def future_period() -> bytes:
    return rezip(filled(period_id="2026-27-Q1"))


@corpus_file("empty_template.xlsx")
def empty_template() -> bytes:
    return rezip(template())


# ----------------------------------------------------------------------------- figures

@corpus_file("text_in_number.xlsx")
def text_in_number() -> bytes:
    return rezip(filled({("quit_dates", ""): "about 400"}))


@corpus_file("negative_count.xlsx")
def negative_count() -> bytes:
    return rezip(filled({("lost_4wk", ""): -3}))


@corpus_file("not_whole_count.xlsx")
def not_whole_count() -> bytes:
    return rezip(filled({("calls_received", ""): 300.5}))


@corpus_file("percent_in_count.xlsx")
def percent_in_count() -> bytes:
    return rezip(filled({("quits_4wk", ""): "52.5%"}))


@corpus_file("percent_formatted_count.xlsx")
def percent_formatted_count() -> bytes:
    def as_percent(book: openpyxl.Workbook) -> None:
        cell = cell_of(book, "quits_4wk")
        cell.value, cell.number_format = 0.525, numbers.FORMAT_PERCENTAGE_00  # what Excel stores for 52.5%
    return rezip(edit(filled(), as_percent))


@corpus_file("out_of_range.xlsx")
def out_of_range() -> bytes:
    return rezip(filled({("web_bounce_rate", ""): 150}))


@corpus_file("numerator_above_denominator.xlsx")
def numerator_above_denominator() -> bytes:
    return rezip(filled({("quits_4wk_co", ""): 260}))  # CO-verified quits above all 210 4-week quits


@corpus_file("breakdown_total_off.xlsx")
def breakdown_total_off() -> bytes:
    values = good_values()
    return rezip(filled({("quit_dates", "age_band=18_24"): values[("quit_dates", "age_band=18_24")] + 7}))


@corpus_file("category_above_total.xlsx")
def category_above_total() -> bytes:
    return rezip(filled({("quit_dates", "priority_group=smi"): 450}))


@corpus_file("missing_required.xlsx")
def missing_required() -> bytes:
    return rezip(filled(drop=(("calls_received", ""),)))


@corpus_file("unknown_item.xlsx")
def unknown_item() -> bytes:
    def add_row(book: openpyxl.Workbook) -> None:
        sheet = book["Data"]
        row = sheet.max_row + 1
        sheet.cell(row, 1, "vapes_issued")
        sheet.cell(row, 5, 35)
    return rezip(edit(filled(), add_row))


@corpus_file("duplicate_item.xlsx")
def duplicate_item() -> bytes:
    def add_row(book: openpyxl.Workbook) -> None:
        sheet = book["Data"]
        row = sheet.max_row + 1
        sheet.cell(row, 1, "quit_dates")
        sheet.cell(row, 5, 380)
    return rezip(edit(filled(), add_row))


@corpus_file("formula_no_value.xlsx")
def formula_no_value() -> bytes:
    return rezip(filled({("quit_dates", ""): "=SUM(150,250)"}))  # openpyxl saves no result, as some scripts do


# ----------------------------------------------------------------------------- CSV

@corpus_file("binary.csv")
def binary_csv() -> bytes:
    return b"item,breakdown,value\n\x00\x01\x02\x89PNG\r\n\x1a\n"


@corpus_file("too_large.csv")
def too_large_csv() -> bytes:
    return b"item,breakdown,value\n" + b"".join(b"quit_dates,,400\n" for _ in range(150))  # over a 1 KB limit


@corpus_file("unknown_breakdown.csv")
def unknown_breakdown_csv() -> bytes:
    return "item,breakdown,value\nquit_dates,,400\nquit_dates,postcode=E8,120\n".encode()


@corpus_file("unknown_category.csv")
def unknown_category_csv() -> bytes:
    return "item,breakdown,value\nquit_dates,,400\nquit_dates,sex=unknown gender,12\n".encode()


@corpus_file("negative_windows1252.csv")
def negative_windows1252_csv() -> bytes:
    text = "item,breakdown,value\n# Figures for Q1 \u2013 £ spent separately\nquit_dates,,400\nlost_4wk,,-12\n"
    return text.encode("cp1252")


@corpus_file("text_in_number_bom.csv")
def text_in_number_bom_csv() -> bytes:
    return "item,breakdown,value\nquit_dates,,four hundred\n".encode("utf-8-sig")


@corpus_file("missing_item_id.csv")
def missing_item_id_csv() -> bytes:
    return b"item,breakdown,value\nquit_dates,,400\n,,25\n"


@corpus_file("empty_return.csv")
def empty_return_csv() -> bytes:
    return b"item,breakdown,value\n\n"


def main() -> None:
    for stale in HERE.iterdir():
        if stale.suffix in (".xlsx", ".xlsm", ".xls", ".doc", ".ods", ".csv"):
            stale.unlink()
    for name, builder in BUILDERS.items():
        data = builder()
        (HERE / name).write_bytes(data)
        print(f"{name:34} {len(data):>9,} bytes")


if __name__ == "__main__":
    main()
