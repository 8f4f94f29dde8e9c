"""`kpibot invite`: single-use codes stored hashed, the deep link, revoking; and linking survives `kpibot init`."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner, Result
from fake_telegram import TOKEN, running_fake_bot_api
from intake_fixtures import DAVE, NOW
from sqlmodel import Session, select

from bot import config
from bot.app import App
from bot.channels.telegram import linking as linking
from bot.cli import main
from bot.storage.models import Contact, Invite

CODE_LINE = "or send the bot: /start "


def kpibot(settings: config.Settings, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--config", settings.source, *args], catch_exceptions=False,
                              env={"KPIBOT_TELEGRAM_TOKEN": "", **(env or {})})


def code_of(result: Result) -> str:
    return next(line.split(CODE_LINE)[1] for line in result.output.splitlines() if CODE_LINE in line)


def test_an_invite_prints_a_single_use_code_and_keeps_only_its_hash(settings: config.Settings,
                                                                    loaded: sa.Engine) -> None:
    result = kpibot(settings, "invite", "--contact", DAVE)
    assert result.exit_code == 0, result.output
    code = code_of(result)
    assert f"link: https://t.me/YOUR_BOT?start={code}" in result.output
    assert "KPIBOT_TELEGRAM_TOKEN is not set" in result.output
    assert 20 <= len(code) <= 64 and set(code) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    with Session(loaded) as session:
        [invite] = session.exec(select(Invite)).all()
    assert invite.code_hash == linking.code_hash(code) and code not in invite.code_hash
    assert invite.expires_at - invite.created_at == __import__("datetime").timedelta(days=7)
    assert linking.redeem(loaded, code, 2002, invite.created_at).outcome == "linked"
    assert linking.redeem(loaded, code, 2003, invite.created_at).outcome == "used"


def test_with_a_token_the_link_names_the_bot_from_getme(settings: config.Settings, loaded: sa.Engine,
                                                        tmp_path: Path) -> None:
    with running_fake_bot_api() as api:
        path = tmp_path / "with-bot.toml"
        path.write_text(Path(settings.source).read_text() + f'\n[telegram]\nbase_url = "{api.base_url}"\n'
                        f'base_file_url = "{api.base_file_url}"\n', encoding="utf-8")
        result = CliRunner().invoke(main, ["--config", str(path), "invite", "--contact", DAVE],
                                    catch_exceptions=False, env={"KPIBOT_TELEGRAM_TOKEN": TOKEN,
                                                                 "NO_PROXY": "127.0.0.1,localhost"})
    assert result.exit_code == 0, result.output
    assert f"link: https://t.me/kpibot_test_bot?start={code_of(result)}" in result.output


def test_a_new_invite_cancels_the_unused_one_and_revoke_unlinks(settings: config.Settings,
                                                                loaded: sa.Engine) -> None:
    first = code_of(kpibot(settings, "invite", "--contact", DAVE))
    second = kpibot(settings, "invite", "--contact", DAVE, "--days", "2")
    assert "1 earlier unused invite(s) for this contact no longer work" in second.output
    assert linking.redeem(loaded, first, 2002, NOW).outcome == "revoked"
    assert linking.redeem(loaded, code_of(second), 2002, NOW).outcome == "linked"
    result = kpibot(settings, "invite", "--contact", DAVE, "--revoke")
    assert result.exit_code == 0 and "chat 2002 unlinked; 0 unused invite(s) cancelled" in result.output
    assert linking.linked_contact(loaded, 2002) is None


def test_the_wrong_ways_get_plain_answers(settings: config.Settings, loaded: sa.Engine, tmp_path: Path) -> None:
    unknown = kpibot(settings, "invite", "--contact", "nobody@example.org")
    assert unknown.exit_code == 1 and "there is no contact 'nobody@example.org'" in unknown.output
    assert kpibot(settings, "invite", "--contact", DAVE, "--days", "0").exit_code == 2
    empty = tmp_path / "empty.toml"
    empty.write_text(f'[storage]\ndatabase_url = "sqlite:///{tmp_path / "none.db"}"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(empty), "invite", "--contact", DAVE])
    assert result.exit_code == 1 and "the database is not set up yet; run `kpibot init`" in result.output
    assert "Traceback" not in unknown.output + result.output


def test_kpibot_init_keeps_a_chat_linked_with_an_invite(settings: config.Settings, loaded: sa.Engine) -> None:
    code = linking.issue(loaded, DAVE, NOW).code
    linking.redeem(loaded, code, 2002, NOW)
    app = App(settings)
    app.__dict__["engine"] = loaded
    app.init(NOW)
    with Session(loaded) as session:
        dave = session.exec(select(Contact).where(Contact.email == DAVE)).one()
        alice = session.exec(select(Contact).where(Contact.telegram_chat_id == 1001)).one()
    assert dave.telegram_chat_id == 2002 and alice.email.startswith("alice")  # configured chats stay too


def test_kpibot_status_shows_linked_chats_invites_and_contacts_the_bot_cannot_reach(
        settings: config.Settings, loaded: sa.Engine) -> None:
    kpibot(settings, "invite", "--contact", DAVE)
    with Session(loaded) as session:
        alice = session.exec(select(Contact).where(Contact.telegram_chat_id == 1001)).one()
        alice.telegram_disabled = True
        session.commit()
    result = kpibot(settings, "status")
    assert result.exit_code == 0
    assert "Telegram: 1 chat(s) linked, 1 invite(s) not yet used." in result.output
    assert "Telegram disabled for alice@breathe-easy.example: the bot was blocked" in result.output
