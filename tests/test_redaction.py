"""Secrets are redacted wherever text leaves kpibot (bot/settings/redaction.py): the values the settings read from
the environment, anything shaped like a Telegram bot token, and a password in a URL (issue 19, item 7; the whole
service with its connections broken: test_secrets.py)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from intake_fixtures import deployment

from bot import config
from bot.outbox.transport import TransportError
from bot.settings import redaction
from bot.settings.redaction import HIDDEN, install_log_redaction, redact, redacted


@pytest.fixture(autouse=True)
def registered() -> None:
    redaction.register("987654:SECRETtelegramTOKEN", "smtp p@ss/word")  # conftest forgets them after the test


@pytest.mark.parametrize(("text", "expected"), [
    ("The token `987654:SECRETtelegramTOKEN` was rejected by the server.", f"The token `{HIDDEN}` was rejected by "
                                                                          "the server."),
    ("POST https://api.telegram.org/bot987654:SECRETtelegramTOKEN/getMe", f"POST https://api.telegram.org/bot{HIDDEN}"
                                                                          "/getMe"),
    ("the secret half SECRETtelegramTOKEN alone", f"the secret half {HIDDEN} alone"),
    ("535 authentication failed for smtp p@ss/word", f"535 authentication failed for {HIDDEN}"),
    ("quoted smtp%20p%40ss%2Fword in a URL", f"quoted {HIDDEN} in a URL"),
    # shapes, whatever was registered: another bot token, a password in a database URL
    ("https://api.telegram.org/bot1234567:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getUpdates",
     f"https://api.telegram.org/bot{HIDDEN}/getUpdates"),
    ("postgresql+psycopg://kpibot:hunter2@db/kpibot", f"postgresql+psycopg://kpibot:{HIDDEN}@db/kpibot"),
    ("nothing secret at 10:30 on 2025-26-Q2, chat 1001", "nothing secret at 10:30 on 2025-26-Q2, chat 1001"),
])
def test_secrets_and_their_shapes_are_hidden(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_a_json_detail_an_error_and_a_log_record_with_its_traceback_are_redacted(
        caplog: pytest.LogCaptureFixture) -> None:
    assert redacted({"error": ["bad 987654:SECRETtelegramTOKEN"], "n": 3}) == {"error": [f"bad {HIDDEN}"], "n": 3}
    assert str(TransportError("SMTP said smtp p@ss/word")) == f"SMTP said {HIDDEN}"
    install_log_redaction()
    log = logging.getLogger("test.redaction")
    with caplog.at_level(logging.INFO):
        log.warning("token %s refused", "987654:SECRETtelegramTOKEN")
        try:
            raise RuntimeError("The token `987654:SECRETtelegramTOKEN` was rejected")
        except RuntimeError:
            log.exception("polling failed")
    assert "SECRET" not in caplog.text and f"token {HIDDEN} refused" in caplog.text
    assert any("SECRET" not in (r.exc_text or "") and "RuntimeError" in (r.exc_text or "") for r in caplog.records)


def test_the_settings_register_their_secrets_as_they_are_read(tmp_path: Path) -> None:
    redaction.forget_all()
    deployment(tmp_path, "sqlite:///x.db")
    config.load(tmp_path / "config.toml", environ={
        "KPIBOT_IMAP_PASSWORD": "imap-Secret-1", "DATABASE_URL": "postgresql://kpibot:db%40Secret@db/kpibot"})
    assert redact("imap-Secret-1 db%40Secret db@Secret") == f"{HIDDEN} {HIDDEN} {HIDDEN}"
