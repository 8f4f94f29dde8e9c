"""`kpibot check-connections` against the real servers the suite runs (PostgreSQL, Dovecot, aiosmtpd, the fake Bot
API) and broken ones: one line per connection saying what works or what to fix, no secret in sight, exit 1 while
anything fails.

Issue 20: "Check the connections before going live. [...] At present the only test is `run` and then `status`."
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from click.testing import CliRunner, Result
from db_fixtures import fresh_postgres_url
from fake_telegram import TOKEN, running_fake_bot_api
from intake_fixtures import deployment
from mail_fixtures import MailServer, self_signed
from services import DOVECOT_PASSWORD, Postgres, free_port

from bot.app import App, connection_checks
from bot.cli import main
from bot.processes.checks import Check, run_checks
from bot.storage import db

SMTP_USER, SMTP_PASSWORD = "kpibot-relay", "smtp-Secret-7731"
BOT_TOKEN = TOKEN  # the fake Bot API's; a wrong one gets 401 Unauthorized as from Telegram


class SmtpWithSignIn:
    """aiosmtpd asking for a sign-in (AUTH PLAIN on the plain port, as a relay on this machine may)."""

    def __init__(self, tls: tuple[Path, Path] | None = None) -> None:
        import ssl

        self.port = free_port()
        self.seen: list[bytes] = []
        context = None
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(str(tls[1]), str(tls[0]))
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, authenticator=self._sign_in,
                                     auth_require_tls=False, tls_context=context, require_starttls=False,
                                     auth_exclude_mechanism=["LOGIN"])

    def _sign_in(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
            SMTP_USER.encode(), SMTP_PASSWORD.encode())
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.seen.append(envelope.content)
        return "250 OK"


@pytest.fixture
def relay() -> Iterator[SmtpWithSignIn]:
    server = SmtpWithSignIn()
    server.controller.start()
    yield server
    server.controller.stop()


def _config(tmp_path: Path, database_url: str, smtp_port: int, imap_port: int, imap_user: str, telegram: str = "",
            smtp_security: str = "plain", folder: str = "INBOX") -> Path:
    deployment(tmp_path, database_url, f"""
[email]
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
smtp_user = "{SMTP_USER}"
smtp_security = "{smtp_security}"
imap_host = "127.0.0.1"
imap_port = {imap_port}
imap_user = "{imap_user}"
imap_security = "plain"
folder = "{folder}"
from_address = "kpibot@council.example"
{telegram}
""")
    return tmp_path / "config.toml"


def _check(config: Path, **secrets: str) -> Result:
    env = {"KPIBOT_SMTP_PASSWORD": SMTP_PASSWORD, "KPIBOT_IMAP_PASSWORD": DOVECOT_PASSWORD,
           "KPIBOT_TELEGRAM_TOKEN": "", "DATABASE_URL": "", "NO_PROXY": "127.0.0.1", **secrets}
    return CliRunner().invoke(main, ["--config", str(config), "check-connections"], env=env, catch_exceptions=False)


def _lines(result: Result) -> dict[str, str]:
    return {line.split(":", 1)[0][5:]: line for line in result.output.splitlines() if line[:4] in ("OK  ", "FAIL",
                                                                                                "--  ")}


def _no_secret(result: Result, *secrets: str) -> None:
    for secret in (SMTP_PASSWORD, DOVECOT_PASSWORD, BOT_TOKEN, *secrets):
        assert secret not in result.output


def test_every_connection_that_works_says_so(tmp_path: Path, database_url: str, relay: SmtpWithSignIn,
                                             mail_server: MailServer) -> None:
    db.upgrade(db.make_engine(database_url))
    with running_fake_bot_api() as api:
        config = _config(tmp_path, database_url, relay.port, mail_server.port, mail_server.user,
                         f'[telegram]\nbase_url = "{api.base_url}"\nbase_file_url = "{api.base_file_url}"')
        result = _check(config, KPIBOT_TELEGRAM_TOKEN=BOT_TOKEN)
        assert [c.method for c in api.calls] == ["getMe"]
    assert result.exit_code == 0, result.output
    lines = _lines(result)
    assert lines["Database"].startswith("OK   Database: ") and lines["Database"].endswith(
        f"connected; the schema is up to date (revision {db.head_revision()})")
    assert lines["SMTP"] == (f"OK   SMTP: 127.0.0.1:{relay.port} (plain): connected, signed in as {SMTP_USER}, "
                             "kpibot@council.example accepted as the sender")
    assert lines["IMAP"] == (f"OK   IMAP: {mail_server.user} on 127.0.0.1:{mail_server.port} (plain): logged in; "
                             "returns are read from 'INBOX', 'kpibot-processed', where read ones go, is made at the "
                             "first run")
    assert lines["Telegram"] == (f"OK   Telegram: http://127.0.0.1:{api.port}: the token works for @kpibot_test_bot "
                                 "(kpibot); it will use long polling")
    assert result.output.rstrip().endswith("Every connection that is set up works.")
    assert relay.seen == []  # nothing was sent
    assert mail_server.messages("kpibot-processed") == []  # and nothing made or moved
    _no_secret(result)


def test_each_broken_connection_says_what_to_fix_and_the_command_fails(tmp_path: Path, relay: SmtpWithSignIn,
                                                                       mail_server: MailServer,
                                                                       postgres_server: Postgres) -> None:
    url = fresh_postgres_url(postgres_server, template=None)  # a server with no kpibot schema yet
    with running_fake_bot_api() as api:
        config = _config(tmp_path, url, relay.port, mail_server.port, mail_server.user,
                         f'[telegram]\nbase_url = "{api.base_url}"\nbase_file_url = "{api.base_file_url}"')
        result = _check(config, KPIBOT_SMTP_PASSWORD="wrong-Smtp-99", KPIBOT_IMAP_PASSWORD="wrong-Imap-99",
                        KPIBOT_TELEGRAM_TOKEN="999:wrong-Token-99")
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = _lines(result)
    assert lines["Database"].startswith("FAIL Database: ") and lines["Database"].endswith(
        "connected, but kpibot's tables are not there; run `kpibot init`")
    assert lines["SMTP"].startswith(f"FAIL SMTP: 127.0.0.1:{relay.port} (plain): connected, but the sign-in as "
                                    f"{SMTP_USER} was refused (SMTP 535); check [email] smtp_user and "
                                    "KPIBOT_SMTP_PASSWORD")
    assert lines["IMAP"].startswith(f"FAIL IMAP: {mail_server.user} on 127.0.0.1:{mail_server.port} (plain) refused "
                                    "the login") and lines["IMAP"].endswith(
        "check [email] imap_user and KPIBOT_IMAP_PASSWORD")
    assert lines["Telegram"] == (f"FAIL Telegram: http://127.0.0.1:{api.port} refused the token in "
                                 "KPIBOT_TELEGRAM_TOKEN; copy it again from @BotFather (/mybots, API Token)")
    assert "4 of 4 connections failed (Database, SMTP, IMAP, Telegram)" in result.output
    _no_secret(result, "wrong-Smtp-99", "wrong-Imap-99", "999:wrong-Token-99")


@pytest.mark.parametrize(("case", "expected"), [
    ("no-servers", {"Database": "cannot connect to postgresql+psycopg://kpibot:***@127.0.0.1:{db_port}/kpibot (",
                    "SMTP": "127.0.0.1:{smtp_port} (plain): nothing answers there (connection refused); check [email] "
                            "smtp_host and smtp_port",
                    "IMAP": "cannot connect to kpibot@council.example on 127.0.0.1:{imap_port} (plain)",
                    "Telegram": "cannot reach http://127.0.0.1:{bot_port} ("}),
    ("missing-secrets", {"SMTP": "the user is set (kpibot-relay) but KPIBOT_SMTP_PASSWORD is not: set it in the "
                                 "environment",
                         "IMAP": "the user is set (kpibot@council.example) but KPIBOT_IMAP_PASSWORD is not"}),
])
def test_servers_that_are_not_there_are_named_with_the_setting_to_check(tmp_path: Path, case: str,
                                                                        expected: dict[str, str]) -> None:
    ports = {"db_port": free_port(), "smtp_port": free_port(), "imap_port": free_port(), "bot_port": free_port()}
    url = "postgresql+psycopg://kpibot:db-Secret-55@127.0.0.1:{db_port}/kpibot".format(**ports)
    config = _config(tmp_path, url, ports["smtp_port"], ports["imap_port"], "kpibot@council.example",
                     f'[telegram]\nbase_url = "http://127.0.0.1:{ports["bot_port"]}/bot"')
    secrets = {"KPIBOT_TELEGRAM_TOKEN": "123:some-Token"} if case == "no-servers" else {
        "KPIBOT_SMTP_PASSWORD": "", "KPIBOT_IMAP_PASSWORD": ""}
    result = _check(config, **secrets)
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = _lines(result)
    for name, text in expected.items():
        assert lines[name].startswith(f"FAIL {name}: ") and text.format(**ports) in lines[name], lines[name]
    _no_secret(result, "db-Secret-55", "123:some-Token")


def test_a_server_whose_certificate_is_not_trusted_is_refused_saying_so(tmp_path: Path, database_url: str) -> None:
    relay = SmtpWithSignIn(tls=self_signed(tmp_path))
    relay.controller.start()
    try:
        config = _config(tmp_path, database_url, relay.port, 143, "", smtp_security="starttls")
        result = _check(config)
    finally:
        relay.controller.stop()
    line = _lines(result)["SMTP"]
    assert line.startswith(f"FAIL SMTP: 127.0.0.1:{relay.port} (starttls): the server's certificate was not "
                           "accepted (") and line.endswith("check [email] smtp_host is the name on the certificate")
    assert _lines(result)["IMAP"].startswith("--   IMAP: not set up")


def test_a_mailbox_without_the_configured_folder_is_named(tmp_path: Path, database_url: str, relay: SmtpWithSignIn,
                                                          mail_server: MailServer) -> None:
    config = _config(tmp_path, database_url, relay.port, mail_server.port, mail_server.user, folder="Returns")
    line = _lines(_check(config))["IMAP"]
    assert line == (f"FAIL IMAP: {mail_server.user} on 127.0.0.1:{mail_server.port} (plain): logged in, but there is "
                    "no folder 'Returns'; set [email] folder")


def test_an_older_database_is_asked_to_be_upgraded(tmp_path: Path, relay: SmtpWithSignIn) -> None:
    path = tmp_path / "old.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine, "0005")
    engine.dispose()
    line = _lines(_check(_config(tmp_path, f"sqlite:///{path}", relay.port, 143, "")))["Database"]
    assert line.endswith(f"the schema is at revision 0005 and this kpibot needs {db.head_revision()}; run "
                         "`kpibot init` to upgrade it")


def test_a_check_that_breaks_is_a_failed_check_and_no_secret_survives_in_any_message() -> None:
    """A new connection's check is one more entry in the list; whatever it says or raises is cleaned."""
    def leaky() -> tuple[bool, str]:
        return True, "connected to https://api.example/botSECRET-123/getMe"

    def broken() -> tuple[bool, str]:
        raise RuntimeError("boom with SECRET-123 inside")

    done = run_checks([Check("A", leaky), Check("B", broken), Check("C", None, "not set up")], ["SECRET-123"])
    assert [(c.name, c.ok, c.message) for c in done] == [
        ("A", True, "connected to https://api.example/bot[secret]/getMe"),
        ("B", False, "the check itself failed (RuntimeError: boom with [secret] inside)"),
        ("C", None, "not set up")]


def test_the_list_holds_one_entry_per_connection(tmp_path: Path, database_url: str) -> None:
    settings = deployment(tmp_path, database_url)
    assert [c.name for c in connection_checks(App(settings))] == ["Database", "SMTP", "IMAP", "Telegram"]
