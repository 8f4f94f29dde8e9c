"""The demo's Teams: each card written as the message it would be posted as, in a folder beside the emails."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from bot.channels.teams import cards
from bot.outbox.transport import Outbound


class TeamsFolder:
    def __init__(self, folder: str | Path, limit: int = cards.MAX_BYTES) -> None:
        self.folder = Path(folder)
        self.limit = limit

    def send(self, message: Outbound) -> None:
        """Write `<message id>-teams-<channel>.json`: the POST body a Workflows webhook would get, indented."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{message.message_id or 'message'}-teams-{message.address}")
        if len(name) > 120:  # file names are limited (255 bytes): keep it short and still unique
            name = f"{name[:80]}-{hashlib.sha256(name.encode()).hexdigest()[:16]}"
        body, _ = cards.fitted(cards.card_of(message), self.limit)
        (self.folder / f"{name}.json").write_text(
            json.dumps(json.loads(body), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
