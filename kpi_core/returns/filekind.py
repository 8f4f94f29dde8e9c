"""Say what a received file really is from its first bytes, whatever its name: a PDF renamed `.xlsx` is a PDF.

Workbooks (zip), compound Office files (OLE) and plain text are read on by the reader; everything recognised here is
refused at once with its real kind named, before any reader looks at it.
"""

from __future__ import annotations

import re

# (what the file is, test on its first bytes), most specific first. Prefixes are checked at offset 0 unless said.
_HEAD = 4096
_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image (a photo or scan)"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image (a scan)"),
    (b"MM\x00*", "a TIFF image (a scan)"),
    (b"{\\rtf", "a Rich Text (RTF) document"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x7fELF", "a program (an executable file)"),
)
_FTYP_IMAGES = (b"heic", b"heix", b"heif", b"mif1", b"msf1", b"avif")
_TEXT_KINDS: tuple[tuple[re.Pattern[bytes], str], ...] = (
    (re.compile(rb"urn:schemas-microsoft-com:office:spreadsheet"), "an Excel 2003 XML spreadsheet"),
    (re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html)", re.I | re.S),
     "a web page (HTML)"),
)


def foreign_kind(data: bytes) -> str | None:
    """What the file is when it is plainly neither a workbook nor CSV text (`a PDF document`), else None."""
    head = data[:_HEAD]
    # A PDF may carry a few bytes before its header (PDF 1.7, section 7.5.2); readers accept it within 1 KB.
    if b"%PDF-" in head[:1024]:
        return "a PDF document"
    for prefix, what in _PREFIXES:
        if head.startswith(prefix):
            return what
    if head.startswith(b"BZh") and head[4:10] == b"1AY&SY":
        return "a bzip2-compressed file"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "a WebP image"
    if head.startswith(b"BM") and head[6:10] == b"\0\0\0\0" and len(head) >= 26:
        return "a BMP image"
    if head[4:8] == b"ftyp":
        return "a HEIC/HEIF image (a phone photo)" if head[8:12] in _FTYP_IMAGES else "a video or audio file"
    if head.startswith(b"MZ") and b"This program cannot be run" in head[:512]:
        return "a program (an executable file)"
    text = _as_ascii(head)
    for pattern, what in _TEXT_KINDS:
        if pattern.search(text):
            return what
    return None


def looks_like_text(data: bytes) -> bool:
    """Text (any common encoding) rather than binary: no NUL bytes, or a UTF-16 byte-order mark."""
    head = data[:_HEAD]
    return head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" not in head


def _as_ascii(head: bytes) -> bytes:
    """UTF-16 text with a byte-order mark, narrowed to ASCII so one pattern matches every encoding."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace").encode("ascii", errors="replace")
    return head
