"""Where a message to a contact goes: the one rule every notice, reply and review message follows.

Telegram when the contact has linked a chat (an opt-in they made themselves), the chat has not failed for good and
a bot token is configured; otherwise email, unless email to them has failed for good. A contact with neither is
not written to: nothing is queued into a void.
"""

from __future__ import annotations

from bot.storage.models import Contact


def channel_of(contact: Contact, telegram: bool) -> tuple[str, str] | None:
    """The channel and address a message to `contact` goes to, or None when none works."""
    if telegram and contact.telegram_chat_id is not None and not contact.telegram_disabled:
        return "telegram", str(contact.telegram_chat_id)
    if not contact.email_disabled:
        return "email", contact.email
    return None
