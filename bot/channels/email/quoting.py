"""The words a person wrote in an email reply, without the message they quote or their signature.

Mail clients put the quoted message under a line of their own ("On Tue, 7 Oct 2025, kpibot <...> wrote:",
"-----Original Message-----", Outlook's "From: ..." block or a rule of underscores) or mark each quoted line with
`>`; the reply is what comes before. A reply written between quoted lines keeps its own lines only.
"""

from __future__ import annotations

import re

MAX_WORDS = 4000  # characters of an answer kept (the review bounds it too)
_HEADS = re.compile(r"^(-{2,}\s*original message\s*-{2,}|_{8,}|from:\s.*|sent from my \S.*|"
                    r"le .* a écrit\s*:|am .* schrieb .*:)$", re.IGNORECASE)
_ON = re.compile(r"^on\b.*", re.IGNORECASE)


def reply_text(body: str) -> str:
    """The reply's own words: up to the quoted message or the signature, without quoted (`>`) lines."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        words = line.strip()
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if _HEADS.match(words) or words in ("--", "-- ") or (
                _ON.match(words) and (words.endswith("wrote:") or following.endswith("wrote:"))):
            break
        if words.startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()[:MAX_WORDS]
