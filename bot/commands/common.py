"""What commands share: lazily loaded settings and application, checked output paths, JSON and plain-text tables.

Nothing heavy is imported here: `kpibot --help` and `kpibot calendar` load this module, and only the commands that
use the database or draw PDFs pay for SQLAlchemy or WeasyPrint.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from kpi_core.formatting import plural

if TYPE_CHECKING:
    import sqlalchemy as sa

    from bot import config
    from bot.app import App
    from bot.settings import people
    from kpi_core.calendar import Period

FIRST_YEAR, LAST_YEAR = 1990, 2999  # reporting years a user may name (due dates fall in the year after)
NOT_SET_UP = "the database is not set up yet; run `kpibot init`"


class State:
    """Per-invocation state; settings are read only by commands that need them."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._settings: config.Settings | None = None
        self._app: App | None = None
        self._engine: sa.Engine | None = None

    @property
    def settings(self) -> config.Settings:
        from bot import (
            config,  # pydantic and the frameworks load only for commands that read the settings
        )

        if self._settings is None:
            try:
                self._settings = config.load(self.config_path)
            except config.ConfigError as exc:
                raise click.ClickException(str(exc)) from None
        return self._settings

    @property
    def app(self) -> App:
        """The application on a database that is set up and up to date; else exit with what to run."""
        app = self.unchecked_app()
        problem = schema_problem(app)
        if problem:
            raise click.ClickException(problem)
        return app

    def unchecked_app(self) -> App:
        """The application without checking its database (for `kpibot init`, which creates it)."""
        if self._app is None:
            from bot.app import (
                App,  # SQLAlchemy, the intake and the outbox load only for commands that use them
            )

            self._app = App(self.settings)
        return self._app

    def engine(self) -> sa.Engine:
        """The database alone, for commands that only read it (`kpibot score`): the app (intake, outbox, channels,
        PDF drawing) is not loaded, so such a command starts at once."""
        if self._app is not None:
            return self._app.engine
        if self._engine is None:
            from bot.storage.db import make_engine

            self._engine = make_engine(self.settings.storage.database_url)
        return self._engine

    def database_exists(self) -> bool:
        """Whether the configured database may hold data, without creating an empty SQLite file to find out."""
        path = self.settings.storage.sqlite_path
        return path is None or path.is_file()

    def close(self) -> None:
        """Stop what the app started (the reader process, database connections)."""
        if self._app is not None:
            self._app.close()
        if self._engine is not None:
            self._engine.dispose()

    def contract(self, contract_id: str) -> people.Contract:
        from bot import config

        try:
            return self.settings.contract(contract_id)
        except config.ConfigError as exc:
            raise click.ClickException(str(exc)) from None


def schema_problem(app: App) -> str | None:
    """Why the app's database cannot be used as it is (missing, or older than this kpibot), or None."""
    return database_problem(app.settings, lambda: app.engine)


def database_problem(settings: config.Settings, engine: Callable[[], sa.Engine]) -> str | None:
    """Why the configured database cannot be used as it is (missing, or older than this kpibot), or None. The
    engine is made only once a SQLite file is known to exist: making one creates its folder."""
    from bot.storage import db

    path = settings.storage.sqlite_path
    if path is not None and not path.is_file():
        return NOT_SET_UP
    return revision_problem(db.current_revision(engine()))


def revision_problem(current: str | None) -> str | None:
    """Why a database at revision `current` (None: no schema) cannot be used by this kpibot, or None."""
    from bot.storage.revisions import head_revision

    if current is None:
        return NOT_SET_UP
    if current != head_revision():
        return (f"the database is at revision {current} and this kpibot needs {head_revision()}; run "
                "`kpibot init` to upgrade it")
    return None


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> str:
    """A left-aligned plain-text table; wide last columns are left to wrap."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def fail(message: str) -> NoReturn:
    """Stop the command with `Error: message` on stderr and exit code 1."""
    raise click.ClickException(message)


def output_path(path: str, suffix: str, what: str) -> Path:
    """Check, before any work, that `path` names a `suffix` file in a folder that exists."""
    target = Path(path)
    if target.suffix.lower() != suffix:
        fail(f"{path}: kpibot writes {what} here; name the file with {suffix}, e.g. {target.with_suffix(suffix).name}")
    if target.is_dir():
        fail(f"{path} is a folder; name the {suffix} file to write")
    if not target.parent.is_dir():
        fail(f"cannot write {path}: the folder {target.parent} does not exist")
    return target


def period_arg(text: str, start_month: int) -> Period:
    """A period or year the user typed, read in a contract's calendar; exit 1 explaining a bad one."""
    from kpi_core.calendar import PeriodError, parse_period

    try:
        period = parse_period(text, start_month)
    except PeriodError as exc:
        fail(str(exc))
    except (ValueError, OverflowError):  # a year the date arithmetic cannot hold, e.g. 9999-00
        period = None
    if period is None or not FIRST_YEAR <= period.year.start.year <= LAST_YEAR:
        fail(f"{text!r} is outside the years kpibot handles ({FIRST_YEAR} to {LAST_YEAR}); write a year such as "
             "2025-26")
    return period


def write_atomically(path: str | Path, data: bytes) -> None:
    """Write the whole file or nothing: a half-written report must never replace a good one. Exit 1 with a
    plain message when the folder is missing or not writable."""
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        fail(f"cannot write {target}: {exc.strerror or exc}; check the folder exists and is writable")


def counts_text(counts: dict[str, int]) -> str:
    """`2 red, 1 amber, 30 green, 1 no data`: red first, in words."""
    order = ("red", "amber", "part", "green", "no_data", "info")
    words = {"no_data": "no data", "part": "part payment"}
    return ", ".join(f"{counts[s]} {words.get(s, s)}" for s in order if counts.get(s))


__all__ = ["NOT_SET_UP", "State", "counts_text", "echo_json", "fail", "output_path", "period_arg", "plural",
           "table", "write_atomically"]
