"""A submission recorded before its file came: fetch the file from its channel, store it, and carry on.

A Telegram upload is recorded (the file's id, the chat, the caption, the message) before Telegram is told the update
arrived and before the chat hears "Received" (bot/channels/telegram/receipts.py), so a process killed while the
file downloads loses nothing: whoever processes the submission next (the same handler, the service's resume task,
`kpibot init`) downloads it through the channel's fetcher (`Intake.fetchers`), which retries 5xx answers and
time-outs itself. When the file still cannot be had, the submission waits (its lease released for RETRY, so any
process may try again then); after GIVE_UP since it was received, or when the channel refuses the file for good,
it is refused asking for the file again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import col

from bot import config
from bot.intake.received import Received
from bot.intake.records import mine
from bot.settings.redaction import redact
from bot.storage.db import insert_ignore, retrying, write_session
from bot.storage.files import FileStore
from bot.storage.models import StoredFile
from kpi_core.findings import Finding

Fetcher = Callable[[str, int], bytes]  # (the channel's reference to the file, the most bytes to take) -> the file
RETRY = timedelta(minutes=1)
GIVE_UP = timedelta(days=1)


class FetchError(Exception):
    """The file could not be had from the channel: `permanent` when the channel refuses it for good."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(redact(message))
        self.permanent = permanent


class Fetching:
    def __init__(self, engine: sa.Engine, settings: config.Settings, files: FileStore,
                 fetchers: dict[str, Fetcher], clock: Callable[[], datetime],
                 sleep: Callable[[float], None]) -> None:
        self.engine, self.settings, self.files = engine, settings, files
        self.fetchers, self.clock, self.sleep = fetchers, clock, sleep

    def can_fetch(self, channel: str) -> bool:
        return channel in self.fetchers

    def fetch(self, submission_id: int, received: Received) -> Received | Finding | None:
        """The received file with its bytes, stored and recorded; a Finding when it must be refused (too large,
        refused by the channel, or waited for too long); None when it should be tried again later (the lease is
        released until then)."""
        limit = self.settings.intake.max_upload_bytes
        fetcher = self.fetchers.get(received.channel)
        try:
            if fetcher is None:
                raise FetchError(f"no way to fetch files from {received.channel} is configured")
            data = fetcher(received.source, limit)
        except FetchError as exc:
            waited = self.clock() - received.received_at
            if exc.permanent or waited >= GIVE_UP:
                return Finding("error", "download_failed", f"kpibot could not download {received.filename} from "
                               f"Telegram: {exc}", fix="Please send the file again.")
            retrying(lambda: self._later(submission_id), sleep=self.sleep)
            return None
        if len(data) > limit:
            return Finding("error", "file_too_large", f"{received.filename} is {len(data):,} bytes; the limit is "
                           f"{limit:,} bytes", fix="Send the return workbook on its own, without embedded pictures.")
        digest = self.files.put(data)  # before the transaction: no lock held during disk writes
        retrying(lambda: self._stored(submission_id, digest, len(data), received), sleep=self.sleep)
        return replace(received, data=data)

    def _later(self, submission_id: int) -> None:
        """Release the submission until RETRY from now: then any process may take it and try again."""
        with write_session(self.engine) as session:
            submission = mine(session, submission_id)
            submission.lease_owner, submission.lease_until = None, self.clock() + RETRY
            session.commit()

    def _stored(self, submission_id: int, digest: str, size: int, received: Received) -> None:
        with write_session(self.engine) as session:
            submission = mine(session, submission_id)
            insert_ignore(session, StoredFile, dict(sha256=digest, size=size, first_seen_at=received.received_at))
            session.execute(sa.update(StoredFile).where(col(StoredFile.sha256) == digest,
                                                        col(StoredFile.restricted) == True)  # noqa: E712
                            .values(restricted=False, purge_after=None, purged_at=None))
            submission.sha256, submission.size = digest, size
            session.commit()
