"""A cache of parsed and validated framework files, so a command line does not parse and check every framework's
TOML on each start (a tenth of a second for the four shipped ones; `kpibot score` should start at once).

An entry is keyed by the SHA-256 of the file's text and of kpi_core's own source (and the Python and pydantic
versions that built it): a framework file that changes, or a kpibot that checks frameworks differently, has another
key, so a stale framework is never used. Only a valid framework is stored; a file with a mistake is checked in full
every time, so its errors read as they always do. Entries are written to a temporary file and renamed into place,
so two processes writing at once leave one whole entry; an entry that cannot be read is treated as missing.

Entries are pickles, which run code when read: the folder must belong to the user running kpibot and be writable by
no one else (it is created so), or the cache is not used. The loader also keeps here which shipped file holds each
framework id, and bot/settings/kept.py keeps validated settings the same way in a folder beside this one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import stat
import sys
from functools import cache
from pathlib import Path
from typing import Any

FORMAT = "1"  # bump when what an entry holds changes


@cache
def code_digest() -> str:
    """What built the objects: kpi_core's source files, Python's and pydantic's versions."""
    import pydantic
    import pydantic_core

    digest = hashlib.sha256(f"{FORMAT}|{sys.version}|{pydantic.VERSION}|{pydantic_core.__version__}".encode())
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def key_of(text: str) -> str:
    """The key of a framework file's text, as this kpi_core would check it."""
    return hashlib.sha256(f"{code_digest()}\0{text}".encode()).hexdigest()


class FrameworkCache:
    """Validated frameworks in `folder`, one file per key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _usable(self) -> bool:
        """Whether the folder is there (made if not) and only its owner, this user, can write to it."""
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = self.folder.stat()
        except OSError:
            return False
        own = not hasattr(os, "getuid") or info.st_uid == os.getuid()
        return own and stat.S_ISDIR(info.st_mode) and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)

    def get(self, text: str) -> Any | None:
        """The value stored for this text, or None (not stored, unreadable, or the folder is not safe)."""
        key = key_of(text)
        path = self.folder / f"{key}.pickle"
        if not path.is_file() or not self._usable():
            return None
        try:
            stored_key, value = pickle.loads(path.read_bytes())
        except Exception:  # a torn or foreign file, or classes that changed: check the framework in full instead
            return None
        return value if stored_key == key else None

    def put(self, text: str, value: Any) -> None:
        """Store `value` for this text; a cache that cannot be written is left alone (the next start checks the
        framework in full)."""
        if not self._usable():
            return
        key = key_of(text)
        try:
            payload = pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL)
            import tempfile  # only a run that writes an entry needs it

            handle, name = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".tmp")
        except (OSError, pickle.PicklingError):
            return
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(payload)
            os.replace(name, self.folder / f"{key}.pickle")  # atomic: a reader sees the old entry or the new one
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(name)
