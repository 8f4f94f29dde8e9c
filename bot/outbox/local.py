"""The local channel (the command line): messages are written as files in a folder."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from bot.outbox.transport import Outbound


class LocalTransport:
    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def send(self, message: Outbound) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9@._-]+", "_", f"{message.message_id or 'message'}-{message.address}")
        if len(name) > 120:  # file names are limited (255 bytes): keep it short and still unique
            name = f"{name[:80]}-{hashlib.sha256(name.encode()).hexdigest()[:16]}"
        (self.folder / f"{name}.txt").write_text(f"To: {message.address}\nSubject: {message.subject}\n\n"
                                                 f"{message.text}\n", encoding="utf-8")
        if message.attachment is not None and message.attachment_name:
            attachment = Path(message.attachment_name).name[-100:]
            (self.folder / f"{name}-{attachment}").write_bytes(message.attachment)
