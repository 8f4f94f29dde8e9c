"""What commands share: lazily loaded settings, JSON output and a plain-text table."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from collections.abc import Sequence
from typing import Any

import click

from bot import config
from bot.app import App


class State:
    """Per-invocation state; settings are read only by commands that need them."""

    def __init__(self, config_path: str | None) -> None:
        self.config_path = config_path
        self._settings: config.Settings | None = None
        self._app: App | None = None

    @property
    def settings(self) -> config.Settings:
        if self._settings is None:
            try:
                self._settings = config.load(self.config_path)
            except config.ConfigError as exc:
                raise click.ClickException(str(exc)) from None
        return self._settings

    @property
    def app(self) -> App:
        if self._app is None:
            self._app = App(self.settings)
        return self._app

    def close(self) -> None:
        """Stop what the app started (the reader process, database connections)."""
        if self._app is not None:
            self._app.close()

    def contract(self, contract_id: str) -> config.Contract:
        try:
            return self.settings.contract(contract_id)
        except config.ConfigError as exc:
            raise click.ClickException(str(exc)) from None


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> str:
    """A left-aligned plain-text table; wide last columns are left to wrap."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def fail(message: str, code: int = 1) -> None:
    click.echo(message, err=True)
    sys.exit(code)


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
        fail(f"Cannot write {target}: {exc.strerror or exc}. Check the folder exists and is writable.")
