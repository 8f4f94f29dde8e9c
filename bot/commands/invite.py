"""`kpibot invite --contact EMAIL [--revoke]`: link a contact's Telegram chat to kpibot, or unlink it."""

from __future__ import annotations

import click
import sqlalchemy as sa

from bot.channels.telegram import linking as linking
from bot.clock import utc_now
from bot.commands.common import State, fail

PLACEHOLDER_BOT = "YOUR_BOT"


@click.command("invite")
@click.option("--contact", "email", required=True, help="The contact's email, as in config.toml.")
@click.option("--days", default=linking.DEFAULT_DAYS, show_default=True, type=click.IntRange(1, 90),
              help="Days the invite stays valid.")
@click.option("--revoke", is_flag=True, help="Unlink the contact's chat and cancel their unused invites.")
@click.pass_obj
def command(state: State, email: str, days: int, revoke: bool) -> None:
    """Print a single-use Telegram invite (code and link) for a contact, or revoke their access."""
    app = state.app
    if not sa.inspect(app.engine).has_table("alembic_version"):
        fail("The database does not exist yet: run `kpibot init` first.")
        return
    now = utc_now()
    try:
        if revoke:
            done = linking.revoke(app.engine, email, now)
        else:
            issued = linking.issue(app.engine, email, now, days)
    except LookupError as exc:
        fail(f"Cannot {'revoke' if revoke else 'invite'}: {exc}.")
        return
    if revoke:
        chat = f"chat {done.unlinked_chat} unlinked" if done.unlinked_chat else "no chat was linked"
        click.echo(f"{done.contact_email}: {chat}; {done.invites} unused invite(s) cancelled.")
        return
    username, note = _bot_username(state)
    click.echo(f"Invite for {issued.contact_name} <{issued.contact_email}>, valid until "
               f"{issued.expires_at:%d %B %Y %H:%M} UTC, usable once:")
    click.echo(f"  link: https://t.me/{username}?start={issued.code}")
    click.echo(f"  or send the bot: /start {issued.code}")
    if issued.revoked_earlier:
        click.echo(f"  ({issued.revoked_earlier} earlier unused invite(s) for this contact no longer work.)")
    if note:
        click.echo(note, err=True)


def _bot_username(state: State) -> tuple[str, str]:
    """The bot's username from Telegram (getMe), or a placeholder and why."""
    settings = state.settings
    if not settings.telegram_token:
        return PLACEHOLDER_BOT, (f"Note: KPIBOT_TELEGRAM_TOKEN is not set, so the link shows {PLACEHOLDER_BOT} where "
                                 "your bot's username goes (the /start line works as it is).")
    from telegram.error import TelegramError

    from bot.channels.telegram.transport import shared_transport

    t = settings.telegram
    try:
        return shared_transport(settings.telegram_token, t.base_url, t.base_file_url).username(), ""
    except TelegramError as exc:
        return PLACEHOLDER_BOT, (f"Note: Telegram could not be asked for the bot's username ({exc}), so the link "
                                 f"shows {PLACEHOLDER_BOT} in its place (the /start line works as it is).")
