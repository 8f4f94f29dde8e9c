"""Microsoft 365 mailboxes through OAuth 2.0 (XOAUTH2), against real servers on 127.0.0.1: a fake Entra ID token
endpoint (tests/fake_oauth.py), a Dovecot that checks the tokens by introspection (plain, STARTTLS and implicit
TLS), and an aiosmtpd SMTP server taking XOAUTH2 as Exchange Online does."""

from __future__ import annotations

import asyncio
import logging
import queue
import ssl
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from fake_oauth import (
    CLIENT_ID,
    SCOPE,
    SECRET,
    TENANT,
    Identity,
    OAuthSmtp,
    start_identity,
)
from intake_fixtures import NOW, deployment
from mail_fixtures import KPIBOT, self_signed
from services import Dovecot, free_port, start_dovecot, started

from bot import config
from bot.app import App, transports_from
from bot.channels.email.channel import EmailChannel
from bot.channels.email.oauth import TokenError, TokenProvider, token_provider
from bot.channels.email.reading import Mailbox, MailboxError
from bot.channels.email.status import status_lines
from bot.channels.email.transport import EmailTransport
from bot.intake.service import Intake
from bot.outbox.transport import Outbound, TransportError
from bot.settings import channels

USER = "kpibot-oauth@council.example"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def identity_server() -> Iterator[Identity]:
    server = start_identity(Identity())
    yield server.identity
    server.stop()


@pytest.fixture
def identity(identity_server: Identity) -> Identity:
    """The module's identity platform, as if new: nothing issued or asked yet, everything accepted."""
    fresh = Identity(username=USER, port=identity_server.port)
    identity_server.__dict__.update(fresh.__dict__)
    return identity_server


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def dovecot(identity_server: Identity, certificate: tuple[Path, Path]) -> Iterator[Dovecot]:
    """A Dovecot of this module's own that takes the identity's tokens (the session's one stays password-only)."""
    server = started("Dovecot", lambda: start_dovecot(identity_server.introspection_url, certificate))
    yield server
    server.stop()


def provider(identity: Identity, clock: Clock, secret: str = SECRET) -> TokenProvider:
    return TokenProvider(identity.token_url.replace("{tenant}", TENANT), CLIENT_ID, secret, SCOPE, clock)


def trusting(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[1]))


def oauth_email(port: int, security: str = "plain", **changes: object) -> channels.Email:
    return channels.Email(imap_port=port, imap_user=USER, imap_security=security, auth="oauth2",  # type: ignore[arg-type]
                        oauth_tenant=TENANT, oauth_client_id=CLIENT_ID, **changes)


# ----------------------------------------------------------------------------- settings

def load(tmp_path: Path, email: str, environ: dict[str, str] | None = None) -> config.Settings:
    path = tmp_path / "config.toml"
    path.write_text(f"[email]\n{email}\n", encoding="utf-8")
    return config.load(path, environ=environ or {})


@pytest.mark.parametrize(("email", "problem"), [
    ('auth = "oauth2"\noauth_tenant = "council.example"',
     'email: auth = "oauth2" needs oauth_client_id (the app\'s Application (client) ID)'),
    ('auth = "oauth2"\noauth_client_id = "abc"', 'email: auth = "oauth2" needs oauth_tenant (the Directory (tenant) '
                                                  'ID, or the domain'),
    ('auth = "oauth2"\noauth_client_id = "abc"\noauth_token_url = "http://login.example/token"',
     "email: oauth_token_url must be an https:// address (http:// only to this machine), not "
     "'http://login.example/token'"),
    ('auth = "oauth"', "email.auth: must be 'password' or 'oauth2' (not 'oauth')"),
    ('oauth_tenant = "council.example/../x"', "email.oauth_tenant: must be a Directory (tenant) ID or a domain"),
    ('auth = "oauth2"\noauth_client_secret = "s3cret"',
     "oauth_client_secret must not be in the file; set KPIBOT_OAUTH_CLIENT_SECRET in the environment instead"),
])
def test_oauth_settings_that_cannot_work_are_refused_at_start_up_naming_the_setting(
        tmp_path: Path, email: str, problem: str) -> None:
    with pytest.raises(config.ConfigError) as info:
        load(tmp_path, email)
    assert problem in str(info.value) and "\n" not in str(info.value)
    assert "s3cret" not in str(info.value)


def test_the_token_url_has_the_tenant_filled_in_and_the_secret_comes_from_the_environment(tmp_path: Path) -> None:
    settings = load(tmp_path, f'auth = "oauth2"\noauth_tenant = "{TENANT}"\noauth_client_id = "{CLIENT_ID}"',
                    {"KPIBOT_OAUTH_CLIENT_SECRET": SECRET})
    assert settings.email.token_url == f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
    assert settings.email.oauth_scope == "https://outlook.office365.com/.default"
    assert settings.oauth_client_secret == SECRET and SECRET not in repr(settings)
    assert load(tmp_path, "").email.auth == "password" and token_provider(load(tmp_path, "")) is None


def test_kpibot_run_refuses_oauth2_without_the_client_secret(tmp_path: Path, database_url: str) -> None:
    from click.testing import CliRunner

    from bot.cli import main

    settings = deployment(tmp_path, database_url, f'[email]\nimap_user = "{USER}"\nauth = "oauth2"\n'
                                                  f'oauth_tenant = "{TENANT}"\noauth_client_id = "{CLIENT_ID}"\n')
    result = CliRunner().invoke(main, ["--config", settings.source, "run"], env={"KPIBOT_OAUTH_CLIENT_SECRET": ""})
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert ('[email] auth = "oauth2" but KPIBOT_OAUTH_CLIENT_SECRET is not set: set it in the environment to the '
            "app's client secret (docs/email.md)") in result.output


# ----------------------------------------------------------------------------- tokens

def test_a_token_is_kept_until_shortly_before_it_expires_then_renewed(identity: Identity) -> None:
    clock = Clock()
    tokens = provider(identity, clock)
    first = tokens.token()
    assert tokens.token() == first and len(identity.token_requests) == 1
    assert identity.token_requests[0] == {"grant_type": "client_credentials", "client_id": CLIENT_ID,
                                          "client_secret": SECRET, "scope": SCOPE}
    clock.now += timedelta(minutes=54, seconds=59)  # an hour's token is kept for 55 minutes
    assert tokens.token() == first
    clock.now += timedelta(seconds=1)
    second = tokens.token()
    assert second != first and len(identity.token_requests) == 2


def test_a_rejected_token_is_replaced_once_even_when_two_callers_report_it(identity: Identity) -> None:
    tokens = provider(identity, Clock())
    first = tokens.token()
    second = tokens.renew(first)
    assert second != first and tokens.renew(first) == second  # the second report finds it already replaced
    assert len(identity.token_requests) == 2


@pytest.mark.parametrize(("secret", "url", "expected"), [
    ("bad-s3cret-value", None, "the token endpoint refused kpibot: AADSTS7000215, the client secret is wrong: set "
                               "KPIBOT_OAUTH_CLIENT_SECRET to the secret's Value (not its Secret ID) (invalid_client: "
                               "Invalid client secret provided. Ensure the secret being sent in the request is the "
                               f"client secret value, not the client secret ID, for a secret added to app "
                               f"'{CLIENT_ID}'.)"),
    (SECRET, "http://127.0.0.1:{port}/other-tenant/oauth2/v2.0/token",
     "the token endpoint refused kpibot: AADSTS90002, no such tenant: check [email] oauth_tenant (invalid_request: "
     "Tenant 'x' not found.)"),
    ("", None, "KPIBOT_OAUTH_CLIENT_SECRET is not set"),
    (SECRET, "http://127.0.0.1:{closed}/t/oauth2/v2.0/token", "cannot reach the token endpoint http://127.0.0.1:"),
])
def test_a_refused_or_failed_token_request_says_what_to_check_and_never_shows_the_secret(
        identity: Identity, secret: str, url: str | None, expected: str) -> None:
    tokens = provider(identity, Clock(), secret)
    if url:
        tokens.token_url = url.format(port=identity.port, closed=free_port())
    with pytest.raises(TokenError) as info:
        tokens.token()
    assert expected in str(info.value)
    assert "\n" not in str(info.value) and SECRET not in str(info.value) and "bad-s3cret-value" not in str(info.value)


# ----------------------------------------------------------------------------- IMAP (XOAUTH2 on Dovecot)

@pytest.mark.parametrize("security", ["plain", "starttls", "tls"])
def test_the_mailbox_signs_in_with_a_token_in_each_security_mode(
        identity: Identity, dovecot: Dovecot, certificate: tuple[Path, Path], security: str) -> None:
    port = dovecot.tls_port if security == "tls" else dovecot.port
    mailbox = Mailbox(oauth_email(port, security), "", timeout=10, context=trusting(certificate),
                      tokens=provider(identity, Clock()))
    mailbox.open()
    try:
        assert mailbox.uids() == [] and "IMAP4REV1" in mailbox.capabilities
    finally:
        mailbox.close()
    assert identity.introspected == identity.issued and len(identity.issued) == 1


def test_a_reconnect_after_the_token_expired_signs_in_with_a_fresh_one(identity: Identity, dovecot: Dovecot) -> None:
    clock = Clock()
    tokens = provider(identity, clock)
    for _ in range(2):
        mailbox = Mailbox(oauth_email(dovecot.port), "", timeout=10, tokens=tokens)
        mailbox.open()
        mailbox.close()
    assert len(identity.issued) == 1  # the same token for a reconnect while it lasts
    identity.revoke(identity.issued[0])  # it has expired, for the server too
    clock.now += timedelta(hours=1)
    mailbox = Mailbox(oauth_email(dovecot.port), "", timeout=10, tokens=tokens)
    mailbox.open()
    mailbox.close()
    assert len(identity.issued) == 2 and identity.introspected == [identity.issued[0]] * 2 + [identity.issued[1]]


def test_a_token_the_mailbox_refuses_is_replaced_once_then_the_failure_is_clear(
        identity: Identity, dovecot: Dovecot) -> None:
    tokens = provider(identity, Clock())
    identity.revoke(tokens.token())  # e.g. the app's permission was changed since
    mailbox = Mailbox(oauth_email(dovecot.port), "", timeout=10, tokens=tokens)
    mailbox.open()
    mailbox.close()
    assert identity.introspected == identity.issued and len(identity.issued) == 2

    identity.reject_all = True  # e.g. no FullAccess to this mailbox
    with pytest.raises(MailboxError) as info:
        Mailbox(oauth_email(dovecot.port), "", timeout=10, tokens=tokens).open()
    assert len(identity.issued) == 3  # one fresh token, then it gives up
    assert str(info.value) == (
        f"{USER} on 127.0.0.1:{dovecot.port} (plain) refused the login ([AUTHENTICATIONFAILED] Authentication "
        "failed.); check [email] imap_user and the app's IMAP.AccessAsApp permission and its FullAccess to this "
        "mailbox (docs/email.md)")
    assert not any(token in str(info.value) for token in identity.issued)


def test_a_bad_client_secret_shows_in_kpibot_status_and_the_log_without_secrets(
        identity: Identity, dovecot: Dovecot, intake: Intake, settings: config.Settings,
        caplog: pytest.LogCaptureFixture) -> None:
    settings = settings.model_copy(update={
        "email": oauth_email(dovecot.port, oauth_token_url=identity.token_url, from_address=KPIBOT),
        "oauth_client_secret": "not-the-secret"})
    beats: queue.Queue[str] = queue.Queue()

    class Observed(EmailChannel):
        def _beat(self, found: int, error: str = "") -> None:
            super()._beat(found, error)
            beats.put(error)

    app = App(settings)
    app.__dict__["engine"] = intake.engine
    reader = Observed(app, intake=intake, clock=lambda: NOW)  # the mailbox as `kpibot run` makes it

    async def main() -> str:
        await reader.start()
        error = await asyncio.to_thread(beats.get, True, 30)
        await reader.stop()
        return error

    with caplog.at_level(logging.WARNING, logger="kpibot.email"):
        error = asyncio.run(asyncio.wait_for(main(), 60))
    assert "AADSTS7000215" in error
    line = status_lines(intake.engine, settings, NOW + timedelta(minutes=1))[2]
    assert line.startswith(f"  Mailbox {USER}: NOT READ. The last try (01 Oct 2025 10:00) failed: {USER} on "
                           f"127.0.0.1:{dovecot.port} (plain): no OAuth token: the token endpoint refused kpibot: "
                           "AADSTS7000215, the client secret is wrong: set KPIBOT_OAUTH_CLIENT_SECRET to the "
                           "secret's Value (not its Secret ID) (invalid_client: Invalid client secret provided.")
    assert "AADSTS7000215" in caplog.text and "not-the-secret" not in caplog.text + line
    assert identity.issued == []


# ----------------------------------------------------------------------------- SMTP (XOAUTH2 on aiosmtpd)

@pytest.fixture
def smtp(identity: Identity) -> Iterator[tuple[int, OAuthSmtp]]:
    handler, port = OAuthSmtp(identity), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, auth_require_tls=False)
    controller.start()
    yield port, handler
    controller.stop()


def transport(port: int, tokens: TokenProvider) -> EmailTransport:
    return EmailTransport("127.0.0.1", port, KPIBOT, user=KPIBOT, security="plain", timeout=10, tokens=tokens)


def outbound(n: int = 1) -> Outbound:
    return Outbound("alice@breathe-easy.example", f"Q2 return {n}", "Thank you.", message_id=f"m{n}")


def test_mail_goes_out_signed_in_with_the_bearer_token_and_a_fresh_one_once_it_expired(
        identity: Identity, smtp: tuple[int, OAuthSmtp]) -> None:
    port, server = smtp
    clock = Clock()
    sender = transport(port, provider(identity, clock))
    sender.send(outbound(1))
    sender.send(outbound(2))
    clock.now += timedelta(hours=1)
    sender.send(outbound(3))
    assert server.users == [KPIBOT] * 3
    assert server.bearers == [identity.issued[0], identity.issued[0], identity.issued[1]]
    assert [m["Subject"] for m in server.messages] == ["Q2 return 1", "Q2 return 2", "Q2 return 3"]


def test_a_token_smtp_refuses_is_replaced_once_then_the_failure_is_clear(
        identity: Identity, smtp: tuple[int, OAuthSmtp]) -> None:
    port, server = smtp
    tokens = provider(identity, Clock())
    identity.revoke(tokens.token())
    transport(port, tokens).send(outbound())
    assert server.bearers == identity.issued and len(server.messages) == 1

    identity.reject_all = True
    with pytest.raises(TransportError) as info:
        transport(port, tokens).send(outbound(2))
    assert len(identity.issued) == 3 and server.bearers[2:] == identity.issued[1:]
    assert str(info.value) == ("the SMTP server refused kpibot's sign-in: SMTP 535 5.7.3 Authentication unsuccessful "
                               "(check [email] smtp_user and the app's SMTP.SendAsApp permission and its SendAs right "
                               "on from_address (docs/email.md))")
    assert not info.value.permanent and info.value.scope == "channel" and len(server.messages) == 1


def test_a_bad_client_secret_sends_nothing_and_says_so(identity: Identity, smtp: tuple[int, OAuthSmtp]) -> None:
    port, server = smtp
    with pytest.raises(TransportError) as info:
        transport(port, provider(identity, Clock(), "wrong")).send(outbound())
    assert str(info.value).startswith("no OAuth token for SMTP: the token endpoint refused kpibot: AADSTS7000215, "
                                      "the client secret is wrong") and not info.value.permanent
    assert server.bearers == [] and server.messages == []


def test_the_reader_and_the_outbox_share_one_token(identity: Identity, dovecot: Dovecot,
                                                   smtp: tuple[int, OAuthSmtp], tmp_path: Path) -> None:
    port, server = smtp
    settings = load(tmp_path, f'imap_port = {dovecot.port}\nimap_user = "{USER}"\nimap_security = "plain"\n'
                              f'smtp_port = {port}\nsmtp_user = "{KPIBOT}"\nsmtp_security = "plain"\n'
                              f'from_address = "{KPIBOT}"\nauth = "oauth2"\noauth_tenant = "{TENANT}"\n'
                              f'oauth_client_id = "{CLIENT_ID}"\noauth_token_url = "{identity.token_url}"',
                    {"KPIBOT_OAUTH_CLIENT_SECRET": SECRET})
    transports_from(settings)["email"].send(outbound())
    mailbox = Mailbox(settings.email, "", timeout=10, tokens=token_provider(settings))
    mailbox.open()
    mailbox.close()
    assert len(identity.issued) == 1 and server.bearers == identity.introspected == identity.issued
