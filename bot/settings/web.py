"""`[web]`: the web workspace (bot/web): where it listens, the address people reach it at, how long a session
lasts without use, how often sign-in links may be asked for, and the optional Microsoft Entra ID sign-in.

Secrets never go here: the key that signs session cookies comes from KPIBOT_WEB_SECRET and the Entra ID app's
client secret from KPIBOT_WEB_OIDC_CLIENT_SECRET (bot/config.py reads both).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from bot.settings.base import Model
from bot.settings.channels import is_loopback


class Web(Model):
    enabled: bool = False  # `kpibot run` serves the workspace too, on the service's event loop
    host: str = "127.0.0.1"  # behind a reverse proxy: listen on this machine only (docs/web.md)
    port: int = Field(default=8080, ge=1, le=65535)
    # The address people open, as the reverse proxy serves it: sign-in links point here, and an https:// address
    # makes every cookie Secure.
    base_url: str = "http://127.0.0.1:8080"
    session_idle_minutes: int = Field(default=30, ge=5, le=24 * 60)  # signed out after this long unused
    session_max_hours: int = Field(default=12, ge=1, le=24 * 7)  # and after this long whatever happens
    sign_ins_per_hour: int = Field(default=5, ge=1, le=100)  # links sent to one person in an hour, at most
    sign_in_requests_per_minute: int = Field(default=10, ge=1, le=1000)  # sign-in requests from one address
    # The reverse proxy's address: X-Forwarded-For and X-Forwarded-Proto are believed only from it.
    forwarded_allow_ips: str = "127.0.0.1"
    # Optional: sign in with the council's Microsoft Entra ID (OpenID Connect); the secret is in the environment.
    oidc_tenant: str = Field(default="", pattern=r"^[A-Za-z0-9][A-Za-z0-9.\-]*$|^$", max_length=253)
    oidc_client_id: str = Field(default="", max_length=200)
    oidc_metadata_url: str = "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"

    @property
    def secure(self) -> bool:
        """Cookies are Secure when people reach the workspace over HTTPS."""
        return self.base_url.startswith("https://")

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_client_id)

    @property
    def metadata_url(self) -> str:
        return self.oidc_metadata_url.replace("{tenant}", self.oidc_tenant)

    @model_validator(mode="after")
    def _checked(self) -> "Web":
        scheme, _, rest = self.base_url.partition("://")
        host = rest.split("/", 1)[0].rsplit(":", 1)[0].strip("[]") if rest else ""
        if scheme not in ("http", "https") or not host:
            raise ValueError(f"base_url must be the address people open, e.g. https://kpibot.example.gov.uk, not "
                             f"{self.base_url!r}")
        if scheme == "http" and not is_loopback(host):
            raise ValueError("base_url: sign-in links and session cookies must travel over HTTPS; use an https:// "
                             "address (a reverse proxy ends TLS: docs/web.md), or http:// only to this machine")
        if self.oidc_client_id and "{tenant}" in self.oidc_metadata_url and not self.oidc_tenant:
            raise ValueError("oidc_client_id is set, so oidc_tenant is needed too (the Directory (tenant) ID)")
        meta_scheme, _, meta_rest = self.metadata_url.partition("://")
        meta_host = meta_rest.split("/", 1)[0].rsplit(":", 1)[0]
        if self.oidc_client_id and meta_scheme != "https" and not (meta_scheme == "http" and is_loopback(meta_host)):
            raise ValueError("oidc_metadata_url must be an https:// address (http:// only to this machine)")
        return self
