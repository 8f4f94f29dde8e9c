"""Microsoft Teams out through a Power Automate Workflows webhook: one Adaptive Card per message, one plain POST.

- The outbox row's address is a `[[teams]]` entry's name. Its URL (the credential: whoever holds it can post to
  the channel) is looked up here from the settings, read from the environment, and never appears in an error, a
  log line or a status line; httpx's own request log is redacted (`redact`).
- Teams' answers, as the Workflows trigger gives them: 202 Accepted with an empty body (the old Office 365
  connectors answered 200 and `1`; tools that looked for those read every new success as a failure), or 200 when
  the workflow ends in a Response action: any 2xx is delivered. 429 is tried again when its Retry-After says (the
  outbox reschedules the row; nothing waits for it here), and nothing more is posted to that webhook until then;
  5xx and 408 are tried again with the outbox's back-off. 404 and 410 (the workflow was deleted or turned off), 401
  and 403 (the URL's signature is wrong or was regenerated) and 400 (the card was refused) fail the message for
  good, shown in `kpibot status`: trying again cannot mend them.
- A card over 28 KB is shortened before it goes (cards.fitted); one Teams still refuses as too large (413) is sent
  again at once at its shortest, which cannot post it twice: the first was refused.
- A POST that left and got no answer (a read timeout, a connection cut mid-request) may have been posted, so it is
  not sent again on its own: the message is marked interrupted, as when the sender is killed mid-way. Connections
  are not kept between posts, so a connection cut means the request reached a live one. A connection that never
  opened is tried again.
- A webhook takes about four requests a second: posts to one are spaced a quarter of a second apart in this
  process (a wait of at most that in the dispatcher's thread).
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import httpx

from bot.channels.teams import cards
from bot.clock import utc_now
from bot.outbox.transport import Outbound, TransportError

if TYPE_CHECKING:
    from bot.config import Settings

log = logging.getLogger(__name__)
GAP = 0.25  # seconds between posts to one webhook (Teams takes about four a second)
MAX_RETRY_AFTER = 6 * 3600.0  # a Retry-After beyond this is read as this
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
HIDDEN = "<the webhook URL>"
_SIG = re.compile(r"([?&](?:sig|code)=)[^&\s\"'<>]+", re.IGNORECASE)


@dataclass(frozen=True)
class Webhook:
    url_env: str  # where the URL comes from, for messages
    url: str  # '' when the variable is not set in this process's environment

    def __repr__(self) -> str:  # never the URL
        return f"Webhook(url_env={self.url_env!r})"


class TeamsTransport:
    def __init__(self, webhooks: Mapping[str, Webhook], *, timeout: httpx.Timeout | float = TIMEOUT,
                 transport: httpx.BaseTransport | None = None, limit: int = cards.MAX_BYTES,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 wall_clock: Callable[[], datetime] = utc_now) -> None:
        """`webhooks` by [[teams]] name; `clock`/`sleep` pace the posts and `wall_clock` reads a dated
        Retry-After (tests pass fakes)."""
        self.webhooks = dict(webhooks)
        self.limit = limit
        self.clock, self.sleep, self.wall_clock = clock, sleep, wall_clock
        self._client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False,
                                    limits=httpx.Limits(max_keepalive_connections=0),
                                    headers={"User-Agent": "kpibot"})
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}  # by webhook name: the earliest moment (clock) of its next post
        redact(h.url for h in self.webhooks.values())

    @classmethod
    def from_settings(cls, settings: Settings) -> TeamsTransport:
        return cls({t.name: Webhook(t.url_env, settings.teams_urls.get(t.name, "")) for t in settings.teams})

    def close(self) -> None:
        self._client.close()

    def send(self, message: Outbound) -> None:
        """Post `message`'s card to its channel's webhook, or raise TransportError."""
        hook = self.webhooks.get(message.address)
        if hook is None:
            raise TransportError(f"no [[teams]] entry named {message.address!r} in config.toml", permanent=True)
        if not hook.url:
            raise TransportError(f"{hook.url_env} is not set in this process's environment: the Teams channel "
                                 f"{message.address!r} has no webhook URL here (it is tried again later)")
        card = cards.card_of(message)
        body, _ = cards.fitted(card, self.limit)
        self._wait_turn(message.address)
        response = self._post(hook, body)
        if response.status_code == 413:  # refused, so not posted: the shortest form may go at once
            log.warning("Teams refused a card of %d bytes to %s as too large: sending it shortened", len(body),
                        message.address)
            self._wait_turn(message.address)
            response = self._post(hook, cards.encoded(cards.message(cards.shortest(card))))
        error = outcome(response, self.wall_clock())
        if error is not None:
            if error.retry_after:
                with self._lock:
                    self._next[message.address] = max(self._next.get(message.address, 0.0),
                                                      self.clock() + error.retry_after)
            raise error

    def _wait_turn(self, name: str) -> None:
        """Wait for this webhook's next slot; one further off than a gap (Teams said to wait) is not waited for."""
        with self._lock:
            now = self.clock()
            at = max(now, self._next.get(name, now))
            if at - now > GAP:
                raise TransportError(f"Teams asked for a pause: posting to {name!r} again in {at - now:.0f} s",
                                     retry_after=at - now)
            self._next[name] = at + GAP
        if at > now:
            self.sleep(at - now)

    def _post(self, hook: Webhook, body: bytes) -> httpx.Response:
        try:
            return self._client.post(hook.url, content=body, headers={"Content-Type": "application/json"})
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:  # nothing left this machine
            raise TransportError(f"could not reach Teams: {hidden(str(exc), hook.url) or type(exc).__name__}") \
                from None
        except (httpx.WriteError, httpx.WriteTimeout) as exc:  # the card never arrived whole: not posted
            raise TransportError(f"the card could not be sent to Teams whole: "
                                 f"{hidden(str(exc), hook.url) or type(exc).__name__}") from None
        except httpx.ReadTimeout:
            raise TransportError(f"Teams did not answer within {self._client.timeout.read:g} s of receiving the "
                                 "card", interrupted=True) from None
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise TransportError(f"the connection was cut before Teams answered "
                                 f"({hidden(str(exc), hook.url) or type(exc).__name__})", interrupted=True) from None
        except httpx.HTTPError as exc:  # a proxy's refusal, an unusable URL: worth another look later
            raise TransportError(f"Teams delivery failed: {hidden(str(exc), hook.url) or type(exc).__name__}") \
                from None


PERMANENT = {
    400: "Teams refused the card as malformed (HTTP 400)",
    401: "Teams refused the URL's signature (HTTP 401): the URL is incomplete or was regenerated; put the URL the "
         "workflow shows now in the environment variable",
    403: "Teams refused the URL's signature (HTTP 403): the URL is incomplete or was regenerated; put the URL the "
         "workflow shows now in the environment variable",
    404: "the workflow was not found (HTTP 404): it was deleted or turned off, or the URL is incomplete; create it "
         "again (docs/teams.md) and put its URL in the environment variable",
    410: "the workflow is gone (HTTP 410): it was deleted; create it again (docs/teams.md) and put its URL in the "
         "environment variable",
    413: "Teams refused the card as too large (HTTP 413), even shortened",
}


def outcome(response: httpx.Response, now: datetime) -> TransportError | None:
    """What Teams' answer means: None when it took the card (any 2xx, 202 Accepted included), else the error."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    detail = _detail(response)
    if status in PERMANENT:
        return TransportError(PERMANENT[status] + detail, permanent=True)
    if status == 429:
        wait = retry_after(response.headers.get("Retry-After", ""), now)
        when = f"; it asked to wait {wait:g} s" if wait is not None else ""
        return TransportError(f"Teams is throttling this webhook (HTTP 429){when}", retry_after=wait)
    if status >= 500 or status == 408:
        return TransportError(f"Teams answered HTTP {status}{detail}",
                              retry_after=retry_after(response.headers.get("Retry-After", ""), now))
    if 300 <= status < 400:
        return TransportError(f"the webhook answered with a redirect (HTTP {status}): use the URL the workflow "
                              "shows, in full", permanent=True)
    return TransportError(f"Teams refused the card (HTTP {status}){detail}", permanent=True)


def retry_after(value: str, now: datetime) -> float | None:
    """Seconds a Retry-After header asks for (a number of seconds or an HTTP date), or None when it says none."""
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            return None
        seconds = (moment - now).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _detail(response: httpx.Response) -> str:
    """Teams' own short reason (a Workflows error code), never the request or the URL."""
    try:
        error = response.json().get("error", {})
        code = error.get("code", "") if isinstance(error, dict) else ""
    except (ValueError, AttributeError, json.JSONDecodeError):
        code = ""
    code = re.sub(r"[^A-Za-z0-9_.-]", "", str(code))[:80]
    return f" ({code})" if code else ""


def hidden(text: str, *urls: str) -> str:
    """`text` without the webhook URLs or any signature in it."""
    for url in urls:
        if url:
            text = text.replace(url, HIDDEN).replace(str(httpx.URL(url)), HIDDEN)
    return _SIG.sub(r"\1(hidden)", text)


class _Redact(logging.Filter):
    """Takes webhook URLs out of httpx's log lines (`HTTP Request: POST https://...`)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        clean = hidden(text, *self.urls)
        if clean != text:
            record.msg, record.args = clean, ()
        return True


_redactor = _Redact()


def redact(urls: object) -> None:
    """Keep these URLs out of httpx's log lines."""
    _redactor.urls.update(u for u in urls if isinstance(u, str) and u)  # type: ignore[attr-defined]
    logger = logging.getLogger("httpx")  # httpcore's own lines name the host, never the path or the query
    if _redactor not in logger.filters:
        logger.addFilter(_redactor)
