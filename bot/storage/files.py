"""The raw file store: every received file, content-addressed by sha256, written once and never changed.

Files are written to a temporary name and renamed into place, so a crash never leaves half a file under a
final name; an existing file is never overwritten (same name means same content).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        """Store `data` durably and return its sha256; storing the same bytes again changes nothing."""
        digest = sha256_of(data)
        final = self.path(digest)
        if final.exists():
            return digest
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o440)
            if not final.exists():
                os.replace(tmp, final)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return digest

    def get(self, sha256: str) -> bytes:
        data = self.path(sha256).read_bytes()
        if sha256_of(data) != sha256:
            raise OSError(f"stored file {sha256} is corrupt (its content no longer matches its hash)")
        return data

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).exists()

    def delete(self, sha256: str) -> None:
        """Remove a file for good (a restricted file whose time is up); the database keeps the record of it."""
        self.path(sha256).unlink(missing_ok=True)
