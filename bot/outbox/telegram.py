"""Telegram out through python-telegram-bot; long texts are split at Telegram's limit (bot.reports.chat)."""

from __future__ import annotations

import asyncio

from telegram import Bot
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError

from bot.outbox.transport import Outbound, TransportError
from bot.reports.chat import split_message


class TelegramTransport:
    def __init__(self, token: str, base_url: str, base_file_url: str) -> None:
        self.token, self.base_url, self.base_file_url = token, base_url, base_file_url

    async def _send(self, chat_id: int, message: Outbound) -> None:
        bot = Bot(self.token, base_url=self.base_url, base_file_url=self.base_file_url)
        async with bot:
            parts = split_message(message.text) if message.text else []
            for index, part in enumerate(parts):
                if index < message.parts_sent:
                    continue  # delivered before an interruption: never repeated
                await bot.send_message(chat_id, part)
                if message.on_part is not None:
                    message.on_part(index + 1)
            if message.attachment is not None:
                await bot.send_document(chat_id, message.attachment, filename=message.attachment_name or "report")

    def send(self, message: Outbound) -> None:
        try:
            chat_id = int(message.address)
        except ValueError:
            raise TransportError(f"{message.address!r} is not a Telegram chat id", permanent=True) from None
        try:
            asyncio.run(self._send(chat_id, message))
        except (Forbidden, InvalidToken) as exc:
            raise TransportError(f"Telegram refused: {exc}", permanent=True) from None
        except BadRequest as exc:
            permanent = "chat not found" in str(exc).lower()
            raise TransportError(f"Telegram bad request: {exc}", permanent=permanent) from None
        except (RetryAfter, NetworkError, TelegramError) as exc:
            raise TransportError(f"Telegram delivery failed: {exc}") from None
