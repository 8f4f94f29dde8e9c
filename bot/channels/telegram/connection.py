"""Ask Telegram who the bot is (`getMe`) with the token and server kpibot will use (`kpibot check-connections`).

The token is never put in the message: Telegram's answer, the bot's name and the server's address are enough.
"""

from __future__ import annotations

import asyncio

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot import config

TIMEOUT = 15.0


def check_bot(settings: config.Settings) -> tuple[bool, str]:
    """`getMe` on the configured Bot API server with KPIBOT_TELEGRAM_TOKEN."""
    t = settings.telegram
    server = t.base_url.removesuffix("/bot")

    async def get_me():  # type: ignore[no-untyped-def]
        request = HTTPXRequest(connect_timeout=TIMEOUT, read_timeout=TIMEOUT)
        async with Bot(settings.telegram_token, base_url=t.base_url, base_file_url=t.base_file_url,
                       request=request) as bot:
            return bot.bot

    try:
        me = asyncio.run(get_me())
    except InvalidToken:
        return False, (f"{server} refused the token in KPIBOT_TELEGRAM_TOKEN; copy it again from @BotFather "
                       "(/mybots, API Token)")
    except NetworkError as exc:
        return False, (f"cannot reach {server} ({exc.message}); check this machine's outbound HTTPS (port 443), any "
                       "proxy, and [telegram] base_url")
    except TelegramError as exc:
        return False, f"{server} answered: {exc.message}"
    mode = (f"webhook at {t.webhook_url}" if t.mode == "webhook" else "long polling")
    return True, f"{server}: the token works for @{me.username} ({me.first_name}); it will use {mode}"
