"""`[storage]`: the database, the raw file store and the local outbox folder."""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator

from bot.settings.base import Model

SQLITE_PREFIX = "sqlite:///"
DATABASE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


class Storage(Model):
    """Where kpibot keeps its data. Relative paths in the file are read from the config file's folder."""

    database_url: str = "sqlite:///var/kpibot.db"
    files_dir: Path = Path("var/files")
    outbox_dir: Path = Path("var/outbox")  # where the local (command line) channel leaves its messages

    @field_validator("database_url")
    @classmethod
    def _supported(cls, value: str) -> str:
        scheme = value.partition("://")[0]
        if "://" not in value or scheme not in DATABASE_SCHEMES:
            shown = f"{scheme}://..." if "://" in value else repr(value)  # never echo a password
            raise ValueError(f"{shown} is not a database kpibot supports; use SQLite (sqlite:///path/to/kpibot.db) "
                             "or PostgreSQL (postgresql+psycopg://user@host/database)")
        return value

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite database file, or None for PostgreSQL (and an in-memory SQLite database)."""
        if not self.database_url.startswith(SQLITE_PREFIX):
            return None
        path = self.database_url[len(SQLITE_PREFIX):].partition("?")[0]
        return Path(path) if path and path != ":memory:" else None

    def resolved(self, base: Path, url_base: Path) -> "Storage":
        """The same storage with relative paths read from `base` (and a relative SQLite file from `url_base`)."""
        url = self.database_url
        path = self.sqlite_path
        if path is not None and not path.is_absolute():
            query = url.partition("?")[1] + url.partition("?")[2]
            url = f"{SQLITE_PREFIX}{(url_base / path).absolute()}{query}"
        return self.model_copy(update={"database_url": url, "files_dir": (base / self.files_dir).absolute(),
                                       "outbox_dir": (base / self.outbox_dir).absolute()})
