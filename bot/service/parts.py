"""What a channel, the web workspace or the run loop may use of the running application.

`bot.app.App` builds these parts; the layers above it are given an App and see it through this protocol, so that
nothing below the composition root imports it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

import sqlalchemy as sa

from bot import config
from bot.intake.service import Intake
from bot.outbox.dispatcher import Dispatcher
from bot.reports.queue import RenderQueue
from bot.storage.files import FileStore


class Parts(Protocol):
    settings: config.Settings

    @property
    def engine(self) -> sa.Engine: ...

    @property
    def files(self) -> FileStore: ...

    @property
    def intake(self) -> Intake: ...

    @property
    def render_queue(self) -> RenderQueue: ...

    def dispatcher(self) -> Dispatcher: ...

    def today(self, now: datetime) -> date: ...
