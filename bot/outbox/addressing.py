"""Which channel and address a message to a contact goes to: the one rule every notice and reply to a third party
follows (the scheduler's notices, the intake's word to the commissioners)."""

from __future__ import annotations

from bot.storage.models import Contact


def channel_of(contact: Contact, telegram: bool) -> tuple[str, str] | None:
    """The channel and address a message to `contact` goes to, or None when none works: Telegram when they have
    linked a chat (an opt-in they made themselves), it has not failed for good and a bot token is configured
    (`telegram`); otherwise email, unless email to them has failed for good."""
    if telegram and contact.telegram_chat_id is not None and not contact.telegram_disabled:
        return "telegram", str(contact.telegram_chat_id)
    if not contact.email_disabled:
        return "email", contact.email
    return None
