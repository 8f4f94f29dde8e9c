"""Fuzzing (issue 14, point 7): workbooks mutated inside their XML, CSV text of every shape, and expressions
generated from the grammar's own tokens. Each must end in findings, a score or the module's own error, never
another exception; a refusal for personal data must repeat none of it.

The default example counts keep the whole suite quick; KPIBOT_FUZZ_EXAMPLES runs them deeper (tests/fuzzing.py).
Every crash found is kept in tests/corpus/ (made by make_corpus.py, its exact finding asserted in test_corpus.py).
"""

from __future__ import annotations

import csv
import html
import io
import pyexpat
import re
import zipfile
from fractions import Fraction
from pathlib import Path

import pytest
from corpus.filling import TINY_FRAMEWORK, fill
from corpus.people import KNOWN_VALID, POSTCODES, spaced, valid_nhs_numbers
from fuzzing import fuzz
from hypothesis import given
from hypothesis import strategies as st

from bot.workbooks.template import build_template
from kpi_core import expressions, loader
from kpi_core.assess import assess
from kpi_core.calendar import parse_period
from kpi_core.expressions import ExpressionError
from kpi_core.framework.model import Framework
from kpi_core.returns import personal_data, sheetxml
from kpi_core.returns.reader import read_return

TINY = loader.load_text(TINY_FRAMEWORK)
Q1 = parse_period("2025-26-Q1", 4)
TEMPLATE = build_template(TINY, contract_id="tiny-contract", contract_name="Tiny", provider_name="Tiny Ltd", period=Q1)
GOOD = fill(TEMPLATE, {("starts", ""): 40, ("quits", ""): 20, ("starts", "sex=female"): 25, ("starts", "sex=male"): 15,
                       ("satisfaction", ""): 80, ("policy", ""): "Yes"}, TINY)
LIBREOFFICE = (Path(__file__).parent / "corpus" / "good" / "ch-stop-smoking-q1-saved-by-libreoffice.xlsx").read_bytes()


def unzipped(data: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return {info.filename: archive.read(info) for info in archive.infolist()}


# Two writers' XML: openpyxl (kpibot's template, filled in) and LibreOffice (shared strings, its own styles).
BASES = {"openpyxl": (unzipped(GOOD), TINY), "libreoffice": (unzipped(LIBREOFFICE), loader.get("ch-stop-smoking"))}
PARTS = BASES["openpyxl"][0]
XML_PARTS = sorted({part for parts, _ in BASES.values() for part in parts})
READ_PARTS = [p for p in XML_PARTS if p.startswith(("xl/worksheets/", "xl/workbook", "xl/styles", "xl/_rels",
                                                    "xl/sharedStrings", "[Content_Types]"))]


def answer(data: bytes, name: str, secrets: tuple[str, ...] = (), framework: Framework = TINY) -> None:
    """Read and assess as kpibot does; every outcome is findings that say what to do, or a score."""
    parsed = read_return(data, name)
    for finding in parsed.findings:
        assert finding.message and (finding.fix or not finding.is_error), finding
    if parsed.personal_data:
        said = " ".join(f.message + f.where + f.fix for f in parsed.findings)
        assert not [s for s in secrets if s in said], said
        assert len(parsed.findings) == 1 and parsed.unreadable
        return
    if parsed.unreadable:
        return
    result = assess(framework, Q1, parsed, expected_contract=framework.id if framework is not TINY else "tiny-contract")
    assert result.findings or result.scorecard.indicators


# ----------------------------------------------------------------------------- workbooks, mutated inside their XML

# Fragments that have broken, or nearly broken, spreadsheet readers: far references, odd types, entities, huge or
# negative numbers, formulas, broken structure, personal data.
FRAGMENTS = [
    b'<c r="XFD1048576"><v>1</v></c>', b'<row r="1048576">', b'<row r="0">', b'<row r="-1">', b'r="A0"', b'r="ZZZZ1"',
    b't="s"', b't="str"', b't="b"', b't="e"', b't="inlineStr"', b't="d"', b'<v>1e308</v>', b'<v>-1e308</v>',
    b"<v>NaN</v>", b"<v>99999999999999999999</v>", b"<v>-4</v>", b"<v>4294967296</v>", b"<v></v>", b"<v/>",
    b"<f>SUM(A1:A3)</f>", b"<f/>", b"<is><t>x</t></is>", b"<is/>", b'<c r="E5" s="9999"><v>1</v></c>', b's="-1"',
    b"&#0;", b"&#x1F600;", b"&amp;", b"&lt;", b"<![CDATA[x]]>", b"<!-- c -->", b'<?xml version="1.0"?>',
    b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>', b"&b;", b'uniqueCount="9"',
    b'count="-1"', b'<sheet name="X" sheetId="9" r:id="rId99"/>', b'state="hidden"', b'Target="/xl/nowhere.xml"',
    b'Target="../../../etc/passwd"', b'numFmtId="10"', b'formatCode="0.0%"', b"<dimension ref=\"A1:XFD1048576\"/>",
    b"<", b">", b'"', b"'", b"\xff\xfe", b"\x00", b"</sheetData>", b"<sheetData>", b"</row>", b"</c>",
    ("<v>" + KNOWN_VALID[0] + "</v>").encode(), ("<is><t>" + spaced(KNOWN_VALID[1]) + "</t></is>").encode(),
]
ATTRIBUTE_VALUES = ["XFD1048576", "A0", "A1048577", "0", "-1", "4294967296", "99999", "", "s", "str", "b", "e", "d",
                    "inlineStr", "n", "hidden", "veryHidden", "rId99", "/xl/x.xml", "1e308", "A1:XFD1048576", "E5",
                    "Data", "9", "10", "0.0%", "yyyy-mm-dd", KNOWN_VALID[0]]
TEXT_VALUES = ["1e308", "-1e308", "NaN", "inf", "", "99999999999999999999", "-0", "0x10", "1,600", "52.5%", "12/03/1961",
               "&amp;", "=1+1", "#REF!", "TRUE", "2", "-693594", "2958466", "x" * 5000, KNOWN_VALID[0],
               spaced(KNOWN_VALID[1]), "Mrs Okafor", "E8 1DY", "kpibot return template", "Item id", "Value",
               "kpibot breakdown:sex", "starts", "sex=female"]
_ATTRIBUTE = re.compile(rb'(\s[\w:]+=")([^"]*)(")')
_TEXT = re.compile(rb">([^<]+)<")
_ELEMENT = re.compile(rb"<(c|row|si|sheet|xf|numFmt|Relationship)\b[^>]*?(?:/>|>.*?</\1>)", re.S)

raw_mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.sampled_from(FRAGMENTS)),
    st.tuples(st.just("delete"), st.integers(0, 10**6), st.integers(1, 64)),
    st.tuples(st.just("repeat"), st.integers(0, 10**6), st.integers(1, 200)),
)
# Well-formed changes reach further than broken XML: an attribute, a text or a whole element.
xml_mutation = st.one_of(
    st.tuples(st.just("attribute"), st.integers(0, 10**4), st.sampled_from(ATTRIBUTE_VALUES)),
    st.tuples(st.just("text"), st.integers(0, 10**4), st.sampled_from(TEXT_VALUES)),
    st.tuples(st.just("element"), st.integers(0, 10**4), st.integers(0, 30)),
)


def mutate(xml: bytes, changes: list[tuple[str, int, object]]) -> bytes:
    data = bytes(xml)
    for kind, at, arg in changes:
        if kind in ("attribute", "text", "element"):
            pattern = {"attribute": _ATTRIBUTE, "text": _TEXT, "element": _ELEMENT}[kind]
            found = list(pattern.finditer(data))
            if not found:
                continue
            match = found[at % len(found)]
            if kind == "element":  # 0: delete it, else repeat it
                data = data[:match.start()] + match.group(0) * int(arg) + data[match.end():]  # type: ignore[call-overload]
            else:
                value = html.escape(str(arg), quote=True).encode()
                group = 2 if kind == "attribute" else 1
                data = data[:match.start(group)] + value + data[match.end(group):]
            continue
        buffer = bytearray(data)
        at = at % (len(buffer) + 1)
        if kind == "flip" and buffer:
            buffer[at % len(buffer)] = int(arg)  # type: ignore[call-overload]
        elif kind == "insert":
            buffer[at:at] = arg  # type: ignore[assignment]
        elif kind == "delete":
            del buffer[at:at + int(arg)]  # type: ignore[call-overload]
        elif kind == "repeat":
            buffer[at:at] = bytes(buffer[at:at + 40]) * int(arg)  # type: ignore[call-overload]
        data = bytes(buffer)
    return data


def rezip(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(zipfile.ZipInfo(name, (2025, 1, 1, 0, 0, 0)), content)
    return out.getvalue()


def mutated_parts(mutations: st.SearchStrategy[tuple[str, int, object]]) -> st.SearchStrategy:
    return st.tuples(st.sampled_from(sorted(BASES)), st.lists(st.tuples(
        st.sampled_from(READ_PARTS) | st.sampled_from(XML_PARTS), st.lists(mutations, min_size=1, max_size=4)),
        min_size=1, max_size=3))


def mutated(base: str, edits: list[tuple[str, list[tuple[str, int, object]]]]) -> tuple[bytes, Framework]:
    parts, framework = BASES[base]
    parts = dict(parts)
    for part, changes in edits:
        if part in parts:
            parts[part] = mutate(parts[part], changes)
    return rezip(parts), framework


@fuzz(50)
@given(mutated_parts(raw_mutation))
def test_a_workbook_with_its_xml_damaged_gives_findings_or_a_score(case: tuple[str, list]) -> None:
    data, framework = mutated(*case)
    answer(data, "r.xlsx", (KNOWN_VALID[0], spaced(KNOWN_VALID[1])), framework)


@fuzz(50)
@given(mutated_parts(xml_mutation))
def test_a_workbook_with_well_formed_changes_to_its_xml_gives_findings_or_a_score(case: tuple[str, list]) -> None:
    data, framework = mutated(*case)
    answer(data, "r.xlsx", (KNOWN_VALID[0], spaced(KNOWN_VALID[1]), "Okafor", "E8 1DY"), framework)


SHEETS = [(base, part) for base, (parts, _) in sorted(BASES.items()) for part in sorted(parts)
          if part.startswith("xl/worksheets/sheet")]


@fuzz(80)
@given(st.sampled_from(SHEETS), st.lists(st.one_of(xml_mutation, raw_mutation), min_size=1, max_size=4))
def test_formulas_found_by_pattern_are_exactly_those_the_parser_finds(sheet: tuple[str, str],
                                                                     changes: list[tuple[str, int, object]]) -> None:
    """The pattern that spares a sheet the parser's walk (kpi_core/returns/bounds.py) either finds the same formulas
    without results as the walk, or declines (None) and the walk is made."""
    base, part = sheet
    xml = mutate(BASES[base][0][part], changes)
    found = sheetxml.formulas_by_pattern(xml)
    walk = sheetxml._Walk(sheetxml.SheetScan("S", part), frozenset())
    parser = pyexpat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = walk.start, walk.end, walk.text
    try:
        sheetxml.parse_part(parser, xml, "sheet")
    except (sheetxml.StructureError, sheetxml.TooManyCells, sheetxml.TooManyRows):
        return  # refused by the walk whatever the pattern says
    assert found is None or found == walk.scan.uncached_formulas


@pytest.mark.parametrize(("cell", "expected"), [
    (b'<c r="C7"><f>SUM(C4:C5)</f><v>400</v></c>', {}),
    (b'<c r="C7"><f>SUM(C4:C5)</f></c>', {(6, 2): "SUM(C4:C5)"}),
    # Found by the test above: a cell inside the formula's cell, before its result. The walk reads the result as
    # the formula's; the pattern, which expects the result or the cell's end after </f>, leaves it to the walk.
    (b'<c r="C7"><f>SUM(C4:C5)</f><c r="XFD1048576"><v>1</v></c><v>400</v></c>', None),
    (b'<c r="C7"><f>SUM(C4:C5)</f><v>400</v><extLst/></c>', None),
])
def test_the_pattern_declines_a_formula_cell_it_does_not_account_for(
        cell: bytes, expected: dict[tuple[int, int], str] | None) -> None:
    xml = b'<worksheet><sheetData><row r="7">' + cell + b"</row></sheetData></worksheet>"
    assert sheetxml.formulas_by_pattern(xml) == expected


@fuzz(25)
@given(st.sets(st.sampled_from(XML_PARTS), max_size=3), st.dictionaries(
    st.sampled_from(["xl/worksheets/sheet9.xml", "xl/sharedStrings.xml", "xl/vbaProject.bin", "customXml/a.xml",
                     "xl/media/image1.png", "XL/WORKBOOK.XML", "xl/worksheets/../workbook.xml"]),
    st.sampled_from([b"", b"<x/>", b"\x00" * 64, PARTS["xl/worksheets/sheet2.xml"]]), max_size=2))
def test_a_workbook_with_parts_missing_or_added_gives_findings_or_a_score(dropped: set[str],
                                                                         added: dict[str, bytes]) -> None:
    parts = {name: content for name, content in PARTS.items() if name not in dropped}
    answer(rezip({**parts, **added}), "r.xlsx")


# ----------------------------------------------------------------------------- CSV text of every shape

NHS = valid_nhs_numbers(5, seed=3)
SECRETS = tuple(NHS) + tuple(spaced(n) for n in NHS) + POSTCODES[:4] + ("Okafor", "Kowalski", "14/02/1961")
csv_cells = st.one_of(
    st.sampled_from(["item", "breakdown", "value", "period", "starts", "quits", "satisfaction", "policy", "sex=female",
                     "sex=male", "priority=smi", "2025-26-Q1", "40", "1,600", "52.5%", "Yes", "", " ", "#", "=1+1",
                     "Name", "DOB", "NHS number", "Postcode", "Mrs Okafor", "Kowalski", "14/02/1961", "E8",
                     "4857312345", "0.9434765919"]),
    st.sampled_from(SECRETS),
    st.text(max_size=12),
    st.integers(-10**12, 10**12).map(str),
)


@fuzz(80)
@given(st.lists(st.lists(csv_cells, max_size=7), max_size=30), st.sampled_from([",", ";", "\t", "|"]),
       st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]), st.sampled_from(["\n", "\r\n", "\r"]))
def test_any_csv_gives_findings_a_score_or_a_refusal_that_repeats_nothing(
        rows: list[list[str]], delimiter: str, encoding: str, newline: str) -> None:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows(rows)
    answer(out.getvalue().encode(encoding, errors="replace"), "r.csv", secrets=SECRETS)


@fuzz(80)
@given(st.lists(st.sampled_from(['"', ",", "\n", "\r", ";", "\t", "\x00", "\ufeff", "a", "1", "item", "value",
                                 '""', "\\", "\u2028", "\x1a", " "]), max_size=80).map("".join))
def test_raw_csv_text_with_stray_quotes_and_control_characters_never_crashes(text: str) -> None:
    answer(text.encode("utf-8", errors="replace"), "r.csv")


# ----------------------------------------------------------------------------- expressions from the grammar's tokens

TOKENS = st.one_of(
    st.sampled_from(["a", "b", "quit_dates", "18_24", "min", "max", "abs", "area", "city", "+", "-", "*", "/", "(",
                     ")", "[", "]", ",", "=", "==", "!=", "<=", ">=", "<", ">", "0", "1", ".5", "0.0", "2.25"]),
    st.integers(0, 10**30).map(str),
    st.text("0123456789", min_size=1, max_size=400),
)
lookups = st.dictionaries(st.sampled_from(["a", "b", "quit_dates", "18_24"]),
                          st.one_of(st.none(), st.just(Fraction(0)), st.fractions(), st.integers(-10**40, 10**40)
                                    .map(Fraction)))


@fuzz(150)
@given(st.lists(TOKENS, max_size=120), st.sampled_from([" ", "", "  \t"]), st.booleans(), lookups)
def test_expressions_from_grammar_tokens_parse_and_evaluate_or_raise_expression_error(
        tokens: list[str], gap: str, rules: bool, values: dict[str, Fraction | None]) -> None:
    text = gap.join(tokens)
    try:
        node = expressions.parse(text, allow_comparison=rules)
    except ExpressionError as exc:
        assert str(exc)
        return
    result = expressions.evaluate(node, lambda ref: values.get(ref.item))
    assert result is None or isinstance(result, (Fraction, bool))
    assert all(isinstance(ref, expressions.Ref) for ref in expressions.refs(node))
    assert expressions.to_text(node)


@fuzz(40)
@given(st.integers(1, 5000), st.sampled_from(["(", "-", "min(1,", "abs(", "a+", "a*", "a/", "a-"]))
def test_deep_or_long_expressions_raise_expression_error_not_recursion_error(depth: int, opener: str) -> None:
    closer = {"(": ")", "min(1,": ")", "abs(": ")"}.get(opener, "")
    text = opener * depth + "a" + closer * depth
    try:
        node = expressions.parse(text)
    except ExpressionError:
        return
    expressions.evaluate(node, lambda ref: Fraction(2))
    expressions.refs(node)


# ----------------------------------------------------------------------------- the personal-data check on any cells

any_cell = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40), st.dates(),
                     st.datetimes(), st.times(), st.timedeltas(), st.decimals(allow_nan=True),
                     st.sampled_from(SECRETS + ("Name", "DOB", "Postcode", "NHS number", "Surname", "Address")))


@fuzz(60)
@given(st.lists(st.tuples(st.text(max_size=31) | st.sampled_from(SECRETS),
                          st.lists(st.lists(any_cell, max_size=6), max_size=12)), max_size=4))
def test_the_personal_data_check_takes_any_cells_and_its_refusal_repeats_none_of_them(
        sheets: list[tuple[str, list[list[object]]]]) -> None:
    sightings = personal_data.find((name, n, rows) for n, (name, rows) in enumerate(sheets, start=1))
    if not sightings:
        return
    finding = personal_data.refusal(sightings, csv=False)
    said = finding.message + finding.where
    assert not [s for s in SECRETS if s in said]
