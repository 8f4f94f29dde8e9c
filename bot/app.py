"""Wire the application together from settings: database, file store, intake, render queue and outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from bot import config
from bot.assessing import terms_of
from bot.intake import Intake
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.registry import transports_from
from bot.render_queue import RenderQueue
from bot.reports.isolated import RenderPool
from bot.storage import db
from bot.storage.files import FileStore
from bot.storage.models import Contract
from bot.storage.sync import ensure_obligations, sync_settings
from bot.workbooks.isolated import IsolatedReader


@dataclass
class App:
    settings: config.Settings

    @cached_property
    def engine(self) -> sa.Engine:
        return db.make_engine(self.settings.storage.database_url)

    @cached_property
    def files(self) -> FileStore:
        return FileStore(self.settings.storage.files_dir)

    @cached_property
    def reader(self) -> IsolatedReader:
        """Return files are read in a worker process with a memory cap, so a hostile file cannot take kpibot down."""
        return IsolatedReader(limits=config.read_limits(self.settings))

    @cached_property
    def intake(self) -> Intake:
        return Intake(self.engine, self.settings, self.files, self.reader.read)

    @cached_property
    def render_pool(self) -> RenderPool:
        """PDFs are laid out in worker processes, bounded in time and memory, several at once."""
        r = self.settings.reports
        return RenderPool(r.render_workers, r.render_memory_mb * 1024 * 1024, r.render_timeout_seconds)

    @cached_property
    def render_queue(self) -> RenderQueue:
        return RenderQueue(self.engine, self.settings, self.files, pool=self.render_pool)

    def close(self) -> None:
        if "reader" in self.__dict__:
            self.reader.close()
        if "render_pool" in self.__dict__:
            self.render_pool.close()
        if "engine" in self.__dict__:
            self.engine.dispose()

    def dispatcher(self) -> Dispatcher:
        o = self.settings.outbox
        return Dispatcher(self.engine, transports_from(self.settings), self.files, o.max_attempts,
                          timedelta(seconds=o.backoff_seconds))

    def today(self, now: datetime):  # type: ignore[no-untyped-def]
        return now.astimezone(ZoneInfo(self.settings.timezone)).date()

    def init(self, now: datetime) -> dict[str, int]:
        """Create or upgrade the schema and load the configuration; safe to run any number of times."""
        db.upgrade(self.engine)
        with Session(self.engine) as session:
            changed = sync_settings(session, self.settings, now)
            changed["obligations"] = sum(ensure_obligations(session, c, self.today(now),
                                                            terms_of(self.settings, c).returns)
                                         for c in session.exec(select(Contract)))
            session.commit()
        return changed
