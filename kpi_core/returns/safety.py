"""Checks made before any reader touches a received file: size, container kind, macros, encryption, zip bombs.

No workbook reader refuses a zip bomb (RECIPES.md: a 1 MB file took calamine to 3 GiB), so a workbook is opened
here first. The central directory is checked (part count, declared sizes, compression ratio), then every part is
inflated in bounded chunks to prove the declared sizes true: headers can lie, and a part that inflates beyond what
it declares is refused before calamine sees it. The worksheet and workbook XML inflated on the way are kept for
the formula and extent scan (kpi_core/returns/sheetxml.py), so nothing is inflated twice here.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass, field

from kpi_core.findings import Finding
from kpi_core.returns.personal_data import MAX_ROWS

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MIB = 1024 * 1024
# A deflated XML part of a real workbook shrinks 5 to 50 times; deflate cannot do better than about 1,030 times.
# A part over RATIO_FLOOR that shrank more than MAX_RATIO times is one repeated pattern: a bomb, not a return.
MAX_RATIO = 300
RATIO_FLOOR = MIB
CHUNK = MIB
KEEP_PREFIXES = ("xl/worksheets/", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml")
SAVE_AS = "Save it as an Excel Workbook (.xlsx) and send it again."


@dataclass(frozen=True, slots=True)
class Limits:
    """How much kpibot reads from one file. The byte limits come from configuration (bot/config.py Intake)."""

    max_bytes: int = 10 * MIB
    max_uncompressed_bytes: int = 100 * MIB
    max_parts: int = 2_000
    # calamine holds a sheet as a dense grid (rows x columns up to its furthest cell); a return needs a few
    # thousand cells, and 500,000 read in about a second in 150 MB (benchmarks/bench_returns.py).
    max_cells: int = 500_000
    # More filled rows in one sheet or CSV than any return has figures: taken for a list of people and refused
    # (kpi_core/returns/personal_data.py).
    max_rows: int = MAX_ROWS


@dataclass
class Package:
    """A workbook's zip that passed the checks, with the XML parts the reader needs (inflated, verified)."""

    parts: dict[str, bytes] = field(default_factory=dict)
    names: frozenset[str] = frozenset()
    uncompressed_bytes: int = 0


def sniff(data: bytes) -> str:
    """`zip`, `ole` (a compound file: encrypted OOXML or legacy .xls) or `other`, from the first bytes."""
    if data.startswith(ZIP_MAGIC):
        return "zip"
    if data.startswith(OLE_MAGIC):
        return "ole"
    return "other"


def size_finding(data: bytes, source: str, limits: Limits) -> Finding | None:
    if len(data) <= limits.max_bytes:
        return None
    return Finding("error", "too_large", f"{source} is {_mb(len(data))}; kpibot accepts files up to "
                   f"{_mb(limits.max_bytes)}", fix="Send only the return (one workbook or CSV), without "
                   "pictures or extra sheets.")


def ole_finding(data: bytes, source: str) -> Finding:
    """Explain a compound (OLE) file: a password-protected workbook, an old .xls, or another Office file."""
    # Directory entry names are UTF-16LE; looking for them avoids parsing the compound file at all.
    if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
        return Finding("error", "encrypted", f"{source} is protected with a password, so kpibot cannot read it",
                       fix="Remove the password (File > Info > Protect Workbook > Encrypt with Password, clear it), "
                           "save and send it again. Send passwords separately, never with the file.")
    if "Workbook".encode("utf-16-le") in data or "Book".encode("utf-16-le") in data:
        return Finding("error", "legacy_xls", f"{source} is in the old Excel 97-2003 format (.xls)",
                       fix=SAVE_AS)
    return Finding("error", "not_a_workbook", f"{source} is an older Office document, not an Excel workbook",
                   fix="Send the return workbook (.xlsx) or a CSV file.")


def open_package(data: bytes, source: str, limits: Limits) -> tuple[Package | None, list[Finding]]:
    """Check a zip container and inflate the parts the reader needs; refuse anything unsafe with a finding."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except Exception as exc:  # noqa: BLE001 - zipfile raises a dozen kinds of error on damaged archives
        return None, [_corrupt(source, str(exc) or type(exc).__name__)]
    names = frozenset(i.filename for i in infos)
    refusal = _refuse_by_content(source, names, data, infos)
    if refusal is not None:
        return None, [refusal]
    problems = _directory_problems(source, infos, limits)
    if problems:
        return None, problems
    package = Package(names=names)
    for info in infos:
        keep = info.filename.startswith(KEEP_PREFIXES) or "sharedstrings" in info.filename.lower()
        try:
            size, crc, content = _inflate(data, info, limits.max_uncompressed_bytes - package.uncompressed_bytes,
                                          keep)
        except _TooLarge:
            return None, [_bomb(source, f"its parts inflate beyond {_mb(limits.max_uncompressed_bytes)}")]
        except _Corrupt as exc:
            return None, [_corrupt(source, f"{info.filename}: {exc}")]
        if crc != info.CRC:  # damaged in transit or on disk
            return None, [_corrupt(source, f"{info.filename}: its checksum does not match")]
        if size != info.file_size:  # intact content under a false size: made to mislead a reader
            return None, [_bomb(source, f"part {info.filename} declares {info.file_size:,} bytes but holds "
                                        f"{size:,}")]
        package.uncompressed_bytes += size
        if content is not None:
            package.parts[info.filename] = content
    return package, []


def _refuse_by_content(source: str, names: frozenset[str], data: bytes,
                       infos: list[zipfile.ZipInfo]) -> Finding | None:
    lower = {n.lower() for n in names}
    if any(n.endswith("vbaproject.bin") for n in lower) or b"macroEnabled" in _content_types(data, infos):
        return Finding("error", "macro_enabled", f"{source} is a macro-enabled workbook; kpibot never opens files "
                       "that carry macros", fix="Save it as an Excel Workbook (.xlsx, without macros) and send it "
                                                "again.")
    if "mimetype" in lower and any(n == "content.xml" for n in lower):
        return Finding("error", "ods_workbook", f"{source} is an OpenDocument spreadsheet (.ods)",
                       fix="Save it as Excel 2007-365 (.xlsx) and send it again.")
    if "xl/workbook.bin" in lower:
        return Finding("error", "xlsb_workbook", f"{source} is an Excel binary workbook (.xlsb)", fix=SAVE_AS)
    if "xl/workbook.xml" not in lower:
        what = "a Word document" if "word/document.xml" in lower else (
            "a PowerPoint file" if "ppt/presentation.xml" in lower else
            "an Apple Numbers spreadsheet" if "index/document.iwa" in lower else "a zip archive (a compressed folder)")
        return Finding("error", "not_a_workbook", f"{source} is {what}, not an Excel workbook",
                       fix="Send the return workbook (.xlsx) or a CSV file.")
    if any(i.flag_bits & 0x1 for i in infos):
        return Finding("error", "encrypted", f"{source} holds encrypted parts, so kpibot cannot read it",
                       fix="Save the workbook without a password and send it again.")
    return None


def _content_types(data: bytes, infos: list[zipfile.ZipInfo]) -> bytes:
    info = next((i for i in infos if i.filename == "[Content_Types].xml"), None)
    if info is None or info.file_size > MIB:
        return b""
    try:
        return _inflate(data, info, MIB, keep=True)[2] or b""
    except (_TooLarge, _Corrupt):
        return b""


def _directory_problems(source: str, infos: list[zipfile.ZipInfo], limits: Limits) -> list[Finding]:
    if len(infos) > limits.max_parts:
        return [_bomb(source, f"it holds {len(infos):,} parts (a workbook has a few dozen)")]
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed_bytes:
        return [_bomb(source, f"it would inflate to {_mb(total)}, over the limit of "
                              f"{_mb(limits.max_uncompressed_bytes)}")]
    for info in infos:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return [_corrupt(source, f"part {info.filename} uses a compression Excel never writes")]
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            return [_bomb(source, f"part {info.filename} inflates {ratio:,} times, to {_mb(info.file_size)}")]
    return []


class _TooLarge(Exception):
    pass


class _Corrupt(Exception):
    pass


def _inflate(data: bytes, info: zipfile.ZipInfo, budget: int, keep: bool) -> tuple[int, int, bytes | None]:
    """Inflate one part from its local header, at most `budget` bytes; return its true size, CRC-32 and (when
    `keep`) content."""
    start = info.header_offset
    header = data[start:start + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise _Corrupt("its local header is missing")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    body = start + 30 + name_len + extra_len
    raw = memoryview(data)[body:body + info.compress_size]
    if len(raw) < info.compress_size:
        raise _Corrupt("the file is cut short")
    if info.compress_type == zipfile.ZIP_STORED:
        if len(raw) > budget:
            raise _TooLarge
        return len(raw), zlib.crc32(raw), bytes(raw) if keep else None
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    size, crc = 0, 0
    out: list[bytes] | None = [] if keep else None
    try:
        # Feed the input in slices and cap each output step, so memory stays bounded whatever the part claims.
        for offset in range(0, len(raw), CHUNK):
            pending: bytes | memoryview = raw[offset:offset + CHUNK]
            while pending and not inflater.eof:
                chunk = inflater.decompress(pending, CHUNK)
                size += len(chunk)
                if size > budget:
                    raise _TooLarge
                crc = zlib.crc32(chunk, crc)
                if out is not None:
                    out.append(chunk)
                pending = inflater.unconsumed_tail
            if inflater.eof:
                break
        tail = inflater.flush()
        size += len(tail)
        if size > budget:
            raise _TooLarge
        crc = zlib.crc32(tail, crc)
        if out is not None:
            out.append(tail)
    except zlib.error as exc:
        raise _Corrupt(f"damaged data ({exc})") from None
    if not inflater.eof:
        raise _Corrupt("the compressed data ends early")
    return size, crc, b"".join(out) if out is not None else None


def _bomb(source: str, why: str) -> Finding:
    return Finding("error", "zip_bomb", f"{source} was refused: {why}", fix="Send the return workbook as kpibot "
                   "made it, or a CSV file; a normal return is well under 1 MB.")


def _corrupt(source: str, why: str) -> Finding:
    return Finding("error", "corrupt_workbook", f"{source} is damaged and cannot be opened as a workbook ({why})",
                   fix="Open it in Excel, save it again as .xlsx and send the new file.")


def _mb(size: int) -> str:
    return f"{size / MIB:,.1f} MB" if size >= MIB else f"{size / 1024:,.0f} KB"
