"""A document sent in answer to a request for information, checked before it is kept: never read as a return.

Any ordinary document is welcome (PDF, Word, OpenDocument, Excel, an image, plain text) within the intake's size cap
(`[intake] max_upload_bytes`). Refused, with a clear answer and nothing linked to the request (a file sent by
Telegram or email stays in the file store as sent, like a refused return's: bot/intake/documents.py): a file whose
content is not what its name says, a program, a macro-enabled or encrypted Office file, a PDF that runs scripts or
launches programs, and a zip whose parts declare more than `[intake] max_uncompressed_bytes` (kpibot never opens it,
but a council officer will). A file name that looks like personal data is kept and shown under a neutral name.
"""

from __future__ import annotations

import io
import re
import zipfile

from kpi_core.returns.personal_data import looks_personal

ZIPPED = {"docx", "xlsx", "pptx", "odt", "ods", "odp"}
MAGIC = {"pdf": (b"%PDF-",), "png": (b"\x89PNG\r\n\x1a\n",), "jpg": (b"\xff\xd8\xff",), "jpeg": (b"\xff\xd8\xff",)}
TEXT = {"txt", "csv"}
ALLOWED = tuple(sorted(ZIPPED | set(MAGIC) | TEXT))
PROGRAMS = (b"MZ", b"\x7fELF", b"#!", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe")
ACTIVE_PDF = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile)\b")
WITHHELD = "document (name withheld)"


class Unsafe(Exception):
    """The file is refused: the message says why and what to send instead."""


def shown_name(name: str) -> str:
    """The file's own name made safe (no folders, no control characters), or a neutral one if it looks personal."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip()[:200] or "document"
    stem, dot, ext = base.rpartition(".")
    if looks_personal(stem if dot else base):
        return WITHHELD + (f".{ext.lower()}" if dot and len(ext) <= 5 else "")
    return base


def check(name: str, data: bytes, max_bytes: int, max_uncompressed: int) -> str:
    """The file's kind (its extension) when it may be kept; raise Unsafe otherwise."""
    ext = name.rpartition(".")[2].lower() if "." in name else ""
    if not data:
        raise Unsafe(f"{name} is empty: send the document itself.")
    if len(data) > max_bytes:
        raise Unsafe(f"{name} is {len(data) / 1048576:.1f} MB, over the {max_bytes / 1048576:.0f} MB limit: send a "
                     "smaller file (a PDF of the document, or its pages in parts).")
    if data.startswith(PROGRAMS):
        raise Unsafe(f"{name} is a program, not a document: it was refused and not kept.")
    if ext not in ALLOWED:
        raise Unsafe(f"{name}: kpibot keeps documents of these kinds: {', '.join('.' + k for k in ALLOWED)}. Save "
                     "it as a PDF and send it again.")
    if ext in MAGIC and not data.startswith(MAGIC[ext]):
        raise Unsafe(f"{name} is not the .{ext} file its name says: save it as a PDF and send it again.")
    if ext == "pdf" and ACTIVE_PDF.search(data):
        raise Unsafe(f"{name} holds scripts, attachments or commands that run when it is opened: print it to a "
                     "plain PDF and send that instead.")
    if ext in TEXT and b"\x00" in data:
        raise Unsafe(f"{name} is not a text file: save it as a PDF and send it again.")
    if ext in ZIPPED:
        _zipped(name, data, max_uncompressed)
    return ext


def _zipped(name: str, data: bytes, max_uncompressed: int) -> None:
    if not data.startswith(b"PK\x03\x04"):
        raise Unsafe(f"{name} is not the Office document its name says (it may be encrypted or an older format): "
                     "save it as a PDF and send it again.")
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except Exception:  # noqa: BLE001 - zipfile raises many kinds of error on damaged archives
        raise Unsafe(f"{name} is damaged and cannot be opened: save it again and resend it.") from None
    names = {i.filename.lower() for i in infos}
    if any(n.endswith("vbaproject.bin") for n in names):
        raise Unsafe(f"{name} contains macros: save it without them (.docx or .xlsx, or as a PDF) and send it again.")
    if any(i.flag_bits & 0x1 for i in infos):
        raise Unsafe(f"{name} is password-protected: send it without the password, or as a PDF.")
    if sum(i.file_size for i in infos) > max_uncompressed:
        raise Unsafe(f"{name} would expand to more than {max_uncompressed / 1048576:.0f} MB when opened: send it as "
                     "a PDF instead.")
