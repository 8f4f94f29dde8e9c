"""Secrets never become text: every error from a library kpibot talks to the world through is redacted before it is
logged, stored or shown.

python-telegram-bot puts the bot token in its InvalidToken message ("The token `123:ABC...` was rejected") and
httpx puts it in every request URL (`/bot123:ABC.../getUpdates`); a database URL may carry its password; an SMTP or
IMAP server may echo what it was sent. So the secrets are registered once, when the settings are read from the
environment (bot/config.py), and `redact` replaces them, and anything shaped like a bot token or a password in a
URL, wherever text leaves kpibot: log records (`install_log_redaction`), heartbeat and audit rows, outbox notes,
channel pauses, failure reasons, transport and mailbox errors, and every `Error:` line of the command line.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from typing import Any
from urllib.parse import quote

HIDDEN = "[hidden]"
MIN_LENGTH = 4  # shorter values would be replaced inside ordinary words; no usable secret is that short
_TOKEN = re.compile(r"(?<!\d)\d{5,16}:[A-Za-z0-9_-]{30,}")  # a Telegram bot token: bot id, colon, secret
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://[^:/@\s]*):([^@\s/]+)@")
_known: set[str] = set()
_lock = threading.Lock()


def register(*secrets: str) -> None:
    """Remember values that must never appear in text kpibot writes (the settings' secrets)."""
    found: set[str] = set()
    for secret in secrets:
        if not secret or len(secret) < MIN_LENGTH:
            continue
        found.update((secret, quote(secret, safe=""), quote(secret, safe=":")))
        bot_id, colon, rest = secret.partition(":")
        if colon and bot_id.isdigit() and len(rest) >= MIN_LENGTH:  # a bot token: its secret half alone too
            found.add(rest)
    with _lock:
        _known.update(found)


def forget_all() -> None:
    """Drop every registered secret (tests that load several deployments in one process)."""
    with _lock:
        _known.clear()


def redact(text: str) -> str:
    """`text` with every registered secret, bot token and password in a URL replaced by `[hidden]`."""
    if not text:
        return text
    with _lock:
        known = sorted(_known, key=len, reverse=True)  # a longer secret before a part of it
    for secret in known:
        if secret in text:
            text = text.replace(secret, HIDDEN)
    text = _TOKEN.sub(HIDDEN, text)
    return _URL_PASSWORD.sub(rf"\1:{HIDDEN}@", text)


def redacted(value: Any) -> Any:
    """A JSON-like value (dict, list, str, numbers) with every string in it redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redacted(v) for v in value]
    return value


def _scrubbed(record: logging.LogRecord) -> logging.LogRecord:
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a record that cannot format is the logging module's to report
        return record
    clean = redact(message)
    if clean != message:
        record.msg, record.args = clean, ()
    if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        clean = redact(text)
        if clean != text:  # the formatter uses exc_text as it is: the traceback is printed redacted
            record.exc_text = clean
    return record


def install_log_redaction() -> None:
    """Redact every log record of this process as it is made, whichever library logs it and wherever it goes."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "kpibot_redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _scrubbed(previous(*args, **kwargs))

    factory.kpibot_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
