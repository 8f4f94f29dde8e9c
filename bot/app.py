"""The composition root: wire the application together from settings.

`App` builds the parts (database, file store, isolated reader, intake, render queue, outbox and its transports);
`service_for` chooses what `kpibot run` runs: the core tasks, the scheduler's sweeps from jobs/, and the channels
this deployment has settings for. Everything here imports downward; the layers above (commands, the demo) are
given an App, and the channels see it through `bot.service.parts.Parts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, select

from bot import config
from bot.assessment.in_context import terms_of
from bot.intake.fetching import Fetcher
from bot.intake.service import Intake
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.local import LocalTransport
from bot.outbox.transport import Transport
from bot.processes.checks import Check
from bot.processes.tasks import Channel, Task
from bot.reports.isolated import RenderPool
from bot.reports.queue import RenderQueue
from bot.service.loop import Service
from bot.storage import db
from bot.storage.deployment import record_start
from bot.storage.files import FileStore
from bot.storage.models import Contract
from bot.storage.retention import purge_due
from bot.storage.sync import ensure_obligations, sync_settings
from bot.workbooks.isolated import IsolatedReader
from jobs.tasks import scheduler_tasks


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
        return Intake(self.engine, self.settings, self.files, self.reader.read, fetchers=fetchers_from(self.settings))

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

    def today(self, now: datetime) -> date:
        return now.astimezone(ZoneInfo(self.settings.timezone)).date()

    def init(self, now: datetime) -> dict[str, int]:
        """Create or upgrade the schema and load the configuration; safe to run any number of times."""
        db.upgrade(self.engine)
        with Session(self.engine) as session:
            record_start(session, self.today(now), now)  # the first init: returns due before are not chased
            changed = sync_settings(session, self.settings, now)
            changed["obligations"] = sum(ensure_obligations(session, c, self.today(now),
                                                            terms_of(self.settings, c).returns)
                                         for c in session.exec(select(Contract)))
            session.commit()
        return changed


def transports_from(settings: config.Settings) -> dict[str, Transport]:
    """Local always; email when an SMTP host is set; Telegram when a bot token is in the environment; Teams when
    config.toml has a [[teams]] entry (each posts once its URL is in the environment). (The
    channels' transports are imported only here and only when configured: python-telegram-bot and smtplib stay
    out of commands that send nothing.)"""
    transports: dict[str, Transport] = {"local": LocalTransport(Path(settings.storage.outbox_dir))}
    if settings.email.smtp_host:
        from bot.channels.email.oauth import token_provider
        from bot.channels.email.transport import EmailTransport

        e = settings.email
        transports["email"] = EmailTransport(e.smtp_host, e.smtp_port, e.from_address, e.smtp_user,
                                             settings.smtp_password, e.smtp_security,
                                             tokens=token_provider(settings))
    if settings.telegram_token:
        from bot.channels.telegram.transport import shared_transport

        t = settings.telegram
        transports["telegram"] = shared_transport(settings.telegram_token, t.base_url, t.base_file_url,
                                                  settings.storage.database_url)
    if settings.teams:
        from bot.channels.teams.transport import TeamsTransport

        transports["teams"] = TeamsTransport.from_settings(settings)
    return transports


def fetchers_from(settings: config.Settings) -> dict[str, Fetcher]:
    """How the intake fetches a file recorded before it came: Telegram's documents, when a bot token is set (so
    the service's resume task and `kpibot init` can finish an upload a stopped process left)."""
    if not settings.telegram_token:
        return {}
    from bot.channels.telegram.transport import shared_transport

    t = settings.telegram
    return {"telegram": shared_transport(settings.telegram_token, t.base_url, t.base_file_url,
                                         settings.storage.database_url).download}


def core_tasks(app: App) -> list[Task]:
    """What keeps returns flowing: resume interrupted submissions, draw PDFs, deliver messages, purge."""
    dispatcher = app.dispatcher()

    def resume(now: datetime) -> int:
        from bot.intake import documents  # files for requests for information, recorded but not taken

        taken = documents.resume(app.engine, app.settings, app.intake.files, app.intake.fetchers, app.intake.clock)
        return len(app.intake.resume_unfinished()) + len(taken)

    return [
        Task("resume", resume, 60),
        Task("render", lambda now: app.render_queue.run_once(), 2),
        Task("outbox", lambda now: dispatcher.run_once(now), 2),
        Task("purge", lambda now: purge_due(app.engine, app.files, now), 3600),
    ]


def all_tasks(app: App) -> list[Task]:
    """The core tasks and the scheduler's sweeps (reminders, notices, escalations, reports) from jobs/; the web
    workspace's when it is served."""
    tasks = [*core_tasks(app), *scheduler_tasks(app.engine, app.settings, app.files)]
    if app.settings.web.enabled:
        from bot.web.server import web_tasks

        tasks += web_tasks(app)
    return tasks


def configured_channels(app: App) -> list[Channel]:
    """The channels this deployment has settings for (Telegram: a bot token in the environment; email: a
    mailbox in `[email]`, its password in the environment; the web workspace: `[web] enabled`)."""
    from bot.channels.email.channel import channels_for as email_channels

    channels: list[Channel] = []
    if app.settings.telegram_token:
        from bot.channels.telegram.channel import TelegramChannel

        channels.append(TelegramChannel(app))
    channels += list(email_channels(app))
    if app.settings.web.enabled:  # the web workspace, on the same event loop (bot/web/server.py)
        from bot.web.server import WebChannel

        channels.append(WebChannel(app))
    return channels


def connection_checks(app: App) -> list[Check]:
    """What `kpibot check-connections` tries, in order: the database, then each way kpibot reaches people or
    reads what they send, as this deployment has them set up. (A new channel adds its check here.)"""
    from bot.channels.email.connection import check_imap, check_smtp
    from bot.channels.telegram.connection import check_bot
    from bot.storage.connection import check_database

    s = app.settings
    return [
        Check("Database", lambda: check_database(s.storage.database_url, s.storage.sqlite_path, lambda: app.engine)),
        Check("SMTP", lambda: check_smtp(s)),
        Check("IMAP", lambda: check_imap(s)) if s.email.mailbox_configured else
        Check("IMAP", None, "not set up: [email] imap_user is empty, so no mailbox is read (returns come by "
                            "Telegram or `kpibot submit`)"),
        Check("Telegram", lambda: check_bot(s)) if s.telegram_token else
        Check("Telegram", None, "not set up: KPIBOT_TELEGRAM_TOKEN is not set, so notices go by email"),
        *(_teams_check(entry.name, entry.url_env, s.teams_urls.get(entry.name, "")) for entry in s.teams),
    ]


def _teams_check(name: str, url_env: str, url: str) -> Check:
    """A Teams webhook can only be tried by posting to it: the check posts one test card, saying so."""
    from bot.channels.teams.check import check

    if not url:
        return Check(f"Teams {name}", None, f"not set up: {url_env} is not set, so this channel is told nothing")
    return Check(f"Teams {name}", lambda: check(url))


def secrets_of(settings: config.Settings) -> list[str]:
    """The secrets a message must never show, for `run_checks`."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.storage.database_url)
    return [v for v in (settings.telegram_token, settings.smtp_password, settings.imap_password,
                        settings.oauth_client_secret, url.password or "") if v]


def service_for(app: App, *, with_channels: bool = True) -> Service:
    """`kpibot run`: every task, and the configured channels unless `with_channels` is off (`--once`)."""
    return Service(app, all_tasks(app), configured_channels(app) if with_channels else [])
