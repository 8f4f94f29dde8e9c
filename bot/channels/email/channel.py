"""The email channel: returns emailed to the configured mailbox go through the one intake; answers go back in
the same thread through the outbox (bot/outbox/email.py).

It runs inside `kpibot run` on a thread of its own (imap-tools is synchronous), never blocking the event loop:

1. Connect (reading.py) and go through the folder's messages, oldest first: each is dealt with once
   (processing.py), recorded and committed, and only then moved to the processed folder. Mail is never
   deleted, except a message that carried a file refused as possible personal data: it leaves the mailbox.
2. Wait for new mail: IDLE where the server offers it, re-issued every `poll_seconds` (under the 29 minutes RFC 2177
   allows), so a missed notification costs at most one interval; a plain poll at that interval otherwise.
3. On any mailbox or database fault, log it, record it in the heartbeat (`kpibot status` shows it), wait (longer
   each time, up to the poll interval) and start again from 1. Stopping wakes the wait at once.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bot import config
from bot.channels.email import ledger as ledger
from bot.channels.email.oauth import SECRET_ENV as OAUTH_SECRET_ENV
from bot.channels.email.oauth import token_provider
from bot.channels.email.processing import Processor
from bot.channels.email.reading import Mailbox, MailboxError
from bot.clock import utc_now
from bot.intake.service import Intake, Unavailable
from bot.storage.db import retrying, write_session
from bot.workbooks.isolated import IsolatedReader

if TYPE_CHECKING:
    from bot.service.parts import Parts

log = logging.getLogger("kpibot.email")
FIRST_RETRY_SECONDS = 15.0


class EmailChannel:
    name = "email"

    def __init__(self, app: Parts, intake: Intake | None = None, mailbox: Callable[[], Mailbox] | None = None,
                 clock: Callable[[], datetime] = utc_now) -> None:
        """`intake` defaults to one reading files in a worker process of the channel's own (a reader process
        serves one caller at a time); `mailbox` makes the IMAP connection (tests pass one with TLS settings)."""
        self.settings = app.settings
        self.engine = app.engine
        self._reader: IsolatedReader | None = None
        if intake is None:
            self._reader = IsolatedReader(limits=config.read_limits(app.settings))
            intake = Intake(app.engine, app.settings, app.files, self._reader.read)
        self.processor = Processor(app.engine, intake, app.settings, clock)
        tokens = token_provider(app.settings)
        self.mailbox = mailbox or (lambda: Mailbox(app.settings.email, app.settings.imap_password, tokens=tokens))
        self.clock = clock
        self._stopping = threading.Event()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._thread: threading.Thread | None = None

    # -- the Channel protocol (bot/processes/tasks.py) ----------------------------------------------------------------

    async def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="kpibot-email", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        self._stopping.set()
        self._wake()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 60)
        if self._reader is not None:
            self._reader.close()

    # -- the loop, on the channel's thread ---------------------------------------------------------------------

    def run(self) -> None:
        """Read the mailbox until stopped, reconnecting after faults."""
        retry = FIRST_RETRY_SECONDS
        while not self._stopping.is_set():
            mailbox = self.mailbox()
            try:
                mailbox.open()
                log.info("reading %s, folder %r", mailbox.describe(), self.settings.email.folder)
                retry = FIRST_RETRY_SECONDS
                while not self._stopping.is_set():
                    self.scan(mailbox)
                    mailbox.wait(self.settings.email.poll_seconds, self._wake_reader)
                    self._drain()
            except (MailboxError, Unavailable) as exc:
                log.warning("email: %s; trying again in %.0f s", exc, retry)
                self._beat(-1, str(exc))
            except Exception as exc:  # noqa: BLE001 - logged; the channel must keep reading
                log.exception("email channel fault; trying again in %.0f s", retry)
                self._beat(-1, f"{type(exc).__name__}: {exc}")
            finally:
                mailbox.close()
            self._stopping.wait(retry)
            retry = min(retry * 2, float(self.settings.email.poll_seconds))

    def scan(self, mailbox: Mailbox) -> int:
        """Deal with every message in the folder now; return how many were recorded and moved."""
        uidvalidity = mailbox.uidvalidity()
        done = 0
        for uid in mailbox.uids():
            if self._stopping.is_set():
                break
            fetched = mailbox.fetch(uid, uidvalidity)
            if fetched is None or not self.processor.handle_safely(fetched):
                continue
            if self.processor.to_delete(fetched.where):
                mailbox.delete(uid)  # it carried a file refused as possible personal data
            else:
                mailbox.move(uid)
            retrying(lambda: self._moved(fetched.where))
            done += 1
        self._beat(done)
        return done

    def _moved(self, where: ledger.Location) -> None:
        with write_session(self.engine) as session:
            ledger.moved(session, where, self.clock())
            session.commit()

    def _beat(self, found: int, error: str = "") -> None:
        from bot.processes.heartbeats import beat

        try:
            retrying(lambda: beat(self.engine, self.name, self.clock(), {"found": found, "error": error[:300]}))
        except Exception:  # noqa: BLE001 - a heartbeat must not take the channel down
            log.exception("recording the email heartbeat failed")

    def _wake(self) -> None:
        try:
            self._wake_writer.send(b"x")
        except OSError:
            pass

    def _drain(self) -> None:
        self._wake_reader.setblocking(False)
        try:
            while self._wake_reader.recv(64):
                pass
        except OSError:
            pass
        finally:
            self._wake_reader.setblocking(True)


def channels_for(app: Parts) -> list[EmailChannel]:
    """The email channel when a mailbox is configured (`[email] imap_user`), else none. Refuses to start without
    the secret the settings need (the IMAP password, or with `auth = "oauth2"` the app's client secret), or with
    the DMARC hold on but no receiving server named to trust."""
    if app.settings.email.auth == "oauth2" and not app.settings.oauth_client_secret:
        raise config.ConfigError(f'[email] auth = "oauth2" but {OAUTH_SECRET_ENV} is not set: set it in the '
                                 "environment to the app's client secret (docs/email.md)")
    if not app.settings.email.mailbox_configured:
        return []
    if app.settings.email.auth == "password" and not app.settings.imap_password:
        raise config.ConfigError(f"[email] imap_user is set ({app.settings.email.imap_user}) but "
                                 "KPIBOT_IMAP_PASSWORD is not: set it in the environment, or leave imap_user empty")
    if app.settings.email.require_dmarc_pass and not app.settings.email.authserv_id:
        raise config.ConfigError(
            "[email] require_dmarc_pass is on but authserv_id is empty: set it to the name your mail server writes "
            'first in its Authentication-Results header (e.g. "mx.example-council.gov.uk"; "microsoft365" for '
            "Exchange Online), or kpibot cannot tell that server's result from one a sender wrote (docs/email.md)")
    return [EmailChannel(app)]
