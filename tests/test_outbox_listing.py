"""`kpibot outbox list` shows what waits, and says what it leaves out: nothing is hidden without a word."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from click.testing import CliRunner
from intake_fixtures import NOW
from sqlmodel import Session

from bot import config
from bot.cli import main
from bot.storage.models import OutboxMessage


def _messages(engine: sa.Engine, **by_status: int) -> None:
    with Session(engine) as session:
        n = 0
        for status, count in by_status.items():
            for _ in range(count):
                n += 1
                session.add(OutboxMessage(dedupe_key=f"m{n}", created_at=NOW + timedelta(minutes=n), channel="email",
                                          address=f"person{n}@example.org", kind="reminder", subject="s",
                                          body_text="t", status=status, next_attempt_at=NOW))
        session.commit()


def _list(settings: config.Settings, *args: str) -> str:
    result = CliRunner().invoke(main, ["--config", settings.source, "outbox", "list", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_sent_messages_left_out_of_the_listing_are_counted_at_its_foot(settings: config.Settings,
                                                                        loaded: sa.Engine) -> None:
    """Issue 20: "`outbox list` hiding sent messages without saying so"."""
    _messages(loaded, pending=2, sent=5, failed=1)
    out = _list(settings)
    assert out.count("person") == 3 and "sent  " not in out
    assert out.rstrip().endswith("Not shown: 5 sent (add --status sent, or use --all).")


def test_all_lists_every_message_and_a_limit_says_how_many_it_left_out(settings: config.Settings,
                                                                       loaded: sa.Engine) -> None:
    _messages(loaded, pending=2, sent=5)
    assert _list(settings, "--all").count("person") == 7
    out = _list(settings, "--all", "--limit", "3")
    assert out.count("person") == 3
    assert out.rstrip().endswith("The newest 3 of 7 are shown (--limit 7 shows them all).")


def test_an_empty_listing_still_says_what_else_the_outbox_holds(settings: config.Settings,
                                                                 loaded: sa.Engine) -> None:
    _messages(loaded, sent=4)
    assert _list(settings).strip() == ("No messages waiting, failed or interrupted; not shown: 4 sent (add --status "
                                       "sent, or use --all).")
    sent = _list(settings, "--status", "sent")
    assert sent.count("person") == 4 and "Not shown" not in sent
