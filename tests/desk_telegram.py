"""The review desk (review_fixtures.py) with Telegram turned on: kpibot's app on the desk's database, talking to a
fake Bot API, with the given people's chats linked. Shared by the chat tests of reviews, plans and requests."""

from __future__ import annotations

from fake_telegram import TOKEN, FakeBotApi
from intake_fixtures import NOW
from review_fixtures import Desk
from sqlmodel import Session, select

from bot.app import App, fetchers_from
from bot.intake.service import Intake
from bot.reports.queue import RenderQueue
from bot.storage.models import Contact


def telegram_app(desk: Desk, api: FakeBotApi, chats: dict[str, int]) -> App:
    """kpibot with a bot token on the desk's database (the desk's settings and intake now use it too), and each
    person in `chats` (email -> chat id) linked to their chat."""
    t = desk.settings.telegram.model_copy(update={"base_url": api.base_url, "base_file_url": api.base_file_url})
    settings = desk.settings.model_copy(update={"telegram": t, "telegram_token": TOKEN})
    desk.settings, desk.intake = settings, Intake(desk.engine, settings, desk.files, fetchers=fetchers_from(settings))
    app = App(settings)
    app.__dict__.update(engine=desk.engine, intake=desk.intake,
                        render_queue=RenderQueue(desk.engine, settings, desk.files, clock=lambda: NOW))
    with Session(desk.engine) as session:
        for email, chat in chats.items():
            session.exec(select(Contact).where(Contact.email == email)).one().telegram_chat_id = chat
        session.commit()
    return app
