"""The command line run on the review desk (review_fixtures.py), as its people run it, and its one-line errors."""

from __future__ import annotations

from click.testing import CliRunner, Result
from review_fixtures import Desk

from bot.cli import main


def kpibot(desk: Desk, *args: str) -> Result:
    """`kpibot ARGS` on the desk's config, with no Telegram token and no database URL from the environment."""
    return CliRunner().invoke(main, ["--config", desk.settings.source, *args], catch_exceptions=False,
                              env={"KPIBOT_TELEGRAM_TOKEN": "", "DATABASE_URL": ""})


def error_line(result: Result) -> str:
    """The one `Error:` line a refused command ends with (exit code 1, no traceback)."""
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("Error: ") and "Traceback" not in result.output
    return lines[-1]
