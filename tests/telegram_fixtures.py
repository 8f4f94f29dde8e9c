"""The Telegram channel under test: the real python-telegram-bot Application on an event loop of its own, talking
HTTP to the fake Bot API on 127.0.0.1, over the deployment of intake_fixtures.py on a real database.

Message pacing runs on a fake clock (the throttle's sleeps advance it at once), so tests take seconds, and the
channel's `now` is the fixed NOW of intake_fixtures (1 October 2025: Q2 2025-26 has just ended).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner
from fake_telegram import TOKEN, FakeBotApi, message
from intake_fixtures import NOW

from bot import config
from bot.app import App, fetchers_from
from bot.channels.telegram.channel import TelegramChannel
from bot.channels.telegram.throttle import Throttle
from bot.cli import main
from bot.intake.service import Intake
from bot.reports.queue import RenderQueue
from bot.workbooks.fill import fill
from bot.workbooks.template import build_template
from kpi_core import loader
from kpi_core.calendar import parse_period
from kpi_core.values import Key

os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")
WHEN = int(NOW.timestamp())  # the date Telegram gives the messages
ALICE_CHAT = 1001  # linked in the deployment's config
DAVE_CHAT = 2002  # linked by the tests with an invite
CAROL_CHAT = 3003
STRANGER_CHAT = 9009

# A complete City and Hackney quarterly return that passes every check (as in test_cli.py): Q1 80 quits of 160
# quit dates and Q2 130 of 240 make 210 of 400, a 52.5% quit rate for the year, which pays £9,000 of the £36,000
# pot (the seed's worked example).
OTHER_FIGURES = {"harm_reduction": 10, "harm_reduction_no_quit": 5, "longer_term": 8, "longer_term_quit": 4,
                 "sdcs_records": 200, "sdcs_records_complete": 195, "calls_received": 300,
                 "calls_answered_first": 290, "referrals": 250, "referrals_contacted_2wd": 240,
                 "referrals_offered_5wd": 220, "vba_sessions": 2, "practitioner_sessions": 1, "refresher_sessions": 1,
                 "trainees_rating": 20, "trainees_good": 19}


def ch_figures(quit_dates: int, quits_4wk: int) -> dict[Key, Fraction]:
    figures = dict(OTHER_FIGURES, quit_dates=quit_dates, quits_4wk=quits_4wk, quits_4wk_co=quits_4wk,
                   quits_12wk=quits_4wk // 2, lost_4wk=(quit_dates - quits_4wk) // 4,
                   lost_12wk=(quit_dates - quits_4wk) // 3, followed_6m=quits_4wk // 2,
                   followed_12m=quits_4wk // 3, quitters_satisfied=quits_4wk)
    return {(item, ""): Fraction(value) for item, value in figures.items()}


def ch_csv(quit_dates: int, quits_4wk: int) -> bytes:
    rows = ["item,breakdown,value"] + [f"{item},,{value}" for (item, _), value in
                                       ch_figures(quit_dates, quits_4wk).items()]
    return ("\n".join(rows) + "\n").encode()


def filled_workbook(contract_id: str, period_id: str, values: dict[Key, Fraction],
                    earlier: dict[str, dict[Key, Fraction]] | None = None) -> bytes:
    """The kpibot workbook of a contract and period, typed in as a provider would."""
    framework_id = {"ch-stop-smoking": "ch-stop-smoking", "ch-substance-misuse": "ch-substance-misuse"}[contract_id]
    framework = loader.get(framework_id)
    template = build_template(framework, contract_id=contract_id, contract_name=contract_id, provider_name="p",
                              period=parse_period(period_id, 4), earlier=earlier)
    return fill(template, values, framework)


class FakeTime:
    """The throttle's clock: its sleeps advance it at once, and are recorded."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def telegram_app(settings: config.Settings, api: FakeBotApi, intake: Intake, render_queue: RenderQueue,
                 **telegram: Any) -> App:
    """The application with a bot token and the fake Bot API, on the test's database, intake and render queue."""
    t = settings.telegram.model_copy(update={"base_url": api.base_url, "base_file_url": api.base_file_url,
                                             **telegram})
    app = App(settings.model_copy(update={"telegram": t, "telegram_token": TOKEN}))
    intake.fetchers.update(fetchers_from(app.settings))  # as App.intake has: the channel's uploads come by file id
    app.__dict__.update(engine=intake.engine, intake=intake, render_queue=render_queue)
    return app


class Running:
    """A channel running on its own event loop thread, as the service runs it."""

    def __init__(self, channel: TelegramChannel) -> None:
        self.channel = channel
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def run(self, work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(60)


@contextmanager
def running_channel(app: App, time: FakeTime | None = None) -> Iterator[Running]:
    time = time or FakeTime()
    channel = TelegramChannel(app, clock=lambda: NOW, throttle=Throttle(time.clock, time.sleep), poll_seconds=2)
    running = Running(channel)
    running.thread.start()
    running.run(channel.start())
    try:
        yield running
    finally:
        running.run(channel.stop())
        running.loop.call_soon_threadsafe(running.loop.stop)
        running.thread.join(10)
        running.loop.close()


def send(api: FakeBotApi, chat_id: int, message_id: int, date: int = WHEN, **fields: Any) -> int:
    """The person in `chat_id` sends a message (dated NOW unless said); return its update id."""
    return api.push(message(chat_id, message_id, date=date, **fields))


def invite(config_path: Path, email: str, *extra: str) -> str:
    """Run `kpibot invite` and return the code it printed."""
    result = CliRunner().invoke(main, ["--config", str(config_path), "invite", "--contact", email, *extra],
                                catch_exceptions=False, env={"KPIBOT_TELEGRAM_TOKEN": ""})
    assert result.exit_code == 0, result.output
    return next(line.split()[-1] for line in result.output.splitlines() if "/start" in line)


def config_path(settings: config.Settings) -> Path:
    return Path(settings.source)


def count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
