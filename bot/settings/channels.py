"""`[email]` and `[telegram]`: how kpibot reaches people and reads what they send (secrets never here)."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, model_validator

from bot.settings.base import Model

Security = Literal["tls", "starttls", "plain"]  # implicit TLS, STARTTLS, or none (only to this machine)


class Email(Model):
    """The mailbox returns are emailed to (read over IMAP when `imap_user` is set) and the SMTP server replies
    go out through. Passwords come from KPIBOT_IMAP_PASSWORD and KPIBOT_SMTP_PASSWORD only; with `auth = "oauth2"`
    both sign in with an OAuth 2.0 token instead (Microsoft 365), the app's secret in KPIBOT_OAUTH_CLIENT_SECRET."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str = ""
    smtp_security: Security = "starttls"
    imap_host: str = "127.0.0.1"
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_user: str = ""  # empty: no mailbox is read
    imap_security: Security = "tls"
    folder: str = Field(default="INBOX", min_length=1, max_length=200)
    processed_folder: str = Field(default="kpibot-processed", min_length=1, max_length=200)  # created if missing
    from_address: str = Field(default="kpibot@example.invalid", pattern=r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
    poll_seconds: int = Field(default=300, ge=10, le=1500)  # IDLE is re-issued this often: a poll as a backstop
    require_dmarc_pass: bool = True  # hold a message whose receiving server's Authentication-Results lacks dmarc=pass
    authserv_id: str = ""  # trust only Authentication-Results from this server id (empty: the topmost header)
    max_replies_per_hour: int = Field(default=10, ge=1, le=1000)  # to one address, against loops
    # "oauth2": IMAP and SMTP sign in with a token from the client-credentials grant (docs/email.md).
    auth: Literal["password", "oauth2"] = "password"
    oauth_tenant: str = Field(default="", pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-]*$|^$", max_length=253)
    oauth_token_url: str = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
    oauth_client_id: str = Field(default="", max_length=200)
    oauth_scope: str = Field(default="https://outlook.office365.com/.default", min_length=1, max_length=500)

    @property
    def token_url(self) -> str:
        """The token endpoint, with the tenant filled in."""
        return self.oauth_token_url.replace("{tenant}", self.oauth_tenant)

    @model_validator(mode="after")
    def _safe(self) -> "Email":
        if self.auth == "oauth2":
            self._oauth_complete()
        for kind in ("imap", "smtp"):
            host = getattr(self, f"{kind}_host")
            if getattr(self, f"{kind}_security") == "plain" and not is_loopback(host):
                raise ValueError(f"{kind}_security = \"plain\" sends the password unencrypted, so it is allowed only "
                                 f"to this machine (127.0.0.1, ::1 or localhost), not to {host!r}; use \"tls\" or "
                                 "\"starttls\"")
        if self.folder == self.processed_folder:
            raise ValueError("processed_folder must differ from folder (messages are moved there once read)")
        return self

    def _oauth_complete(self) -> None:
        if not self.oauth_client_id:
            raise ValueError('auth = "oauth2" needs oauth_client_id (the app\'s Application (client) ID)')
        if "{tenant}" in self.oauth_token_url and not self.oauth_tenant:
            raise ValueError('auth = "oauth2" needs oauth_tenant (the Directory (tenant) ID, or the domain, e.g. '
                             'example.gov.uk), as oauth_token_url has {tenant} in it')
        scheme, _, rest = self.token_url.partition("://")
        host = rest.split("/", 1)[0].rsplit(":", 1)[0] if rest else ""
        if scheme != "https" and not (scheme == "http" and is_loopback(host)):
            raise ValueError(f"oauth_token_url must be an https:// address (http:// only to this machine), not "
                             f"{self.token_url!r}")

    @property
    def mailbox_configured(self) -> bool:
        return bool(self.imap_user)


def is_loopback(host: str) -> bool:
    """Is `host` this machine (so a connection to it never crosses a network)?"""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Telegram(Model):
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    # Long polling needs only outbound HTTPS; a webhook needs Telegram to reach `webhook_url` (ports 443, 80, 88
    # or 8443), forwarded to `webhook_listen`:`webhook_port`; its secret token is derived from the bot token.
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)

    @model_validator(mode="after")
    def _webhook(self) -> "Telegram":
        local = self.webhook_url.startswith(("http://127.0.0.1", "http://localhost"))
        if self.mode == "webhook" and not (self.webhook_url.startswith("https://") or local):
            raise ValueError("webhook_url: webhook mode needs the public https:// address Telegram calls")
        return self
