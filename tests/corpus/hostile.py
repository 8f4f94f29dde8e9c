"""Small files that once made kpibot do unbounded work (issue 14, point 4), made on demand for the tests and
benchmarks/bench_hostile_files.py: they are too big, or too slow to make, to keep in the corpus.

- a 26 KB CSV of unknown items (it made a 173-page PDF and 486 MB);
- a 5 MB CSV of the same (18 minutes and 6.8 GB in the main process);
- a 1.3 MB workbook of 100,000 narrow rows (past 5 GB).
"""

from __future__ import annotations

import io
import zipfile

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def unknown_items_csv(size: int) -> bytes:
    """A long-form CSV of about `size` bytes whose every line names an item no framework has."""
    lines = ["item,breakdown,value"]
    total, n = 21, 0
    while total < size:
        line = f"vapes_issued_site_{n:06d},,{n % 97}"
        lines.append(line)
        total += len(line) + 1
        n += 1
    return ("\n".join(lines) + "\n").encode()


def minimal_workbook(sheet_xml: bytes, sheet_name: str = "Data") -> bytes:
    """An .xlsx holding one worksheet with the given XML, and only the parts a reader needs."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                         'content-types"><Default Extension="xml" ContentType="application/xml"/>'
                         '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
                         '+xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                         'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml"'
                         ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                         '</Types>')
        archive.writestr("_rels/.rels", f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" '
                         f'Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        archive.writestr("xl/workbook.xml", f'<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}"><sheets>'
                         f'<sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets></workbook>')
        archive.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{_RELS}"><Relationship Id="rId1" '
                         f'Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml)
    return out.getvalue()


def narrow_workbook(rows: int) -> bytes:
    """A workbook with an `Item id` / `Value` header and `rows` rows of unknown items under it."""
    parts = [f'<worksheet xmlns="{_MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Item id</t></is>'
             '</c><c r="B1" t="inlineStr"><is><t>Value</t></is></c></row>'.encode()]
    for r in range(2, rows + 2):
        parts.append(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>site_{r:06d}</t></is></c>'
                     f'<c r="B{r}"><v>{r % 97}</v></c></row>'.encode())
    parts.append(b"</sheetData></worksheet>")
    return minimal_workbook(b"".join(parts))
