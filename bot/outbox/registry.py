"""Which transport delivers each channel, from the settings."""

from __future__ import annotations

from pathlib import Path

from bot import config
from bot.mail_oauth import token_provider
from bot.outbox.email import EmailTransport
from bot.outbox.local import LocalTransport
from bot.outbox.telegram import shared_transport
from bot.outbox.transport import Transport


def transports_from(settings: config.Settings) -> dict[str, Transport]:
    """Local always; email when an SMTP host is set; Telegram when a bot token is in the environment; Teams when
    config.toml has a [[teams]] entry (each posts once its URL is in the environment)."""
    transports: dict[str, Transport] = {"local": LocalTransport(Path(settings.storage.outbox_dir))}
    if settings.email.smtp_host:
        e = settings.email
        transports["email"] = EmailTransport(e.smtp_host, e.smtp_port, e.from_address, e.smtp_user,
                                             settings.smtp_password, e.smtp_security,
                                             tokens=token_provider(settings))
    if settings.telegram_token:
        t = settings.telegram
        transports["telegram"] = shared_transport(settings.telegram_token, t.base_url, t.base_file_url,
                                                  settings.storage.database_url)
    if settings.teams:
        from bot.channels.teams.transport import TeamsTransport  # the outbox's layer is below the channels'

        transports["teams"] = TeamsTransport.from_settings(settings)
    return transports
