"""`[[teams]]` in config.toml: Microsoft Teams channels kpibot posts notices to, through a Workflows webhook.

An entry names an organisation: a council's channel hears what its commissioners hear (escalations, service
failures, exception reports, the weekly digest), a provider's what its people hear (reminders, overdue notices,
warnings), narrowed to some contracts when `contracts` lists them. The webhook URL is the credential (anyone
holding it can post to the channel), so it is never in the file: the entry names the environment variable that
holds it (`url_env = "KPIBOT_TEAMS_URL_EXAMPLE_COUNCIL"`), and `load()` reads it into Settings.teams_urls, which is
never printed, logged, stored or dumped. An entry whose variable is not set is off: nothing is queued for it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, model_validator

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9\-_]*$", max_length=64)]
URL_ENV_PREFIX = "KPIBOT_TEAMS_"
MAX_URL = 4000


class TeamsChannel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    name: Id  # how `kpibot status` and the outbox name this channel
    organisation: Id  # a council (its commissioners' notices) or a provider (its people's)
    contracts: tuple[Id, ...] = ()  # only these of the organisation's contracts; empty: all of them
    url_env: str = Field(pattern=rf"^{URL_ENV_PREFIX}[A-Z0-9_]+$", max_length=100)

    @model_validator(mode="before")
    @classmethod
    def _no_url_in_the_file(cls, data: Any) -> Any:
        if isinstance(data, dict):
            pasted = sorted(k for k, v in data.items() if k in ("url", "webhook", "webhook_url")
                            or (isinstance(v, str) and "://" in v))
            if pasted:  # never echo the value: it is the credential
                raise ValueError(f"{', '.join(pasted)}: the webhook URL must not be in the file; put it in an "
                                 f"environment variable ({URL_ENV_PREFIX}...) and name that variable in url_env")
        return data

    def covers(self, contract_id: str) -> bool:
        return not self.contracts or contract_id in self.contracts


def webhook_urls(entries: object, environ: Mapping[str, str]) -> dict[str, str]:
    """Each `[[teams]]` entry's webhook URL from the environment, by entry name (entries whose variable is set)."""
    found: dict[str, str] = {}
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and isinstance(entry.get("url_env"), str):
            url = environ.get(entry["url_env"], "").strip()
            if url:
                found[entry["name"]] = url
    return found


def url_problem(url: str) -> str:
    """Why `url` cannot be a Workflows webhook URL ('' when it can), without repeating any of it."""
    if len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in url):
        return "is not a URL (it holds spaces or control characters, or is too long)"
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return ""
    if parts.scheme == "http" and _loopback(host):  # a test endpoint on this machine
        return ""
    return "does not hold an https:// address (copy the whole URL Teams shows for the workflow)"


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
