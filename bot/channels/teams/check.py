"""Post a test card to a Teams webhook and say, in a sentence, whether Teams took it: the go-live check.

`check(url)` is what a connections check calls; `python -m bot.channels.teams.check [NAME ...]` checks the
`[[teams]]` entries of config.toml (each URL read from its environment variable, never typed on a command line).
"""

from __future__ import annotations

import sys

import httpx

from bot.channels.teams.transport import TIMEOUT, TeamsTransport, Webhook
from bot.outbox.card import CARD, Card
from bot.outbox.transport import Outbound, TransportError
from bot.settings.teams import url_problem

TEST_CARD = Card("kpibot is connected to this channel",
                 "This is a test card. kpibot posts its notices about the contracts this channel covers here.",
                 note="Nothing needs doing.")


def check(url: str, *, timeout: httpx.Timeout | float = TIMEOUT,
          transport: httpx.BaseTransport | None = None) -> tuple[bool, str]:
    """Post a test card to `url`: (True, what to expect) when Teams took it, else (False, what went wrong and
    what to do). The message never repeats the URL."""
    problem = url_problem(url)
    if problem:
        return False, f"The URL {problem}."
    sender = TeamsTransport({"check": Webhook("the URL", url)}, timeout=timeout, transport=transport)
    try:
        sender.send(Outbound("check", TEST_CARD.title, TEST_CARD.plain(), headers={CARD: TEST_CARD.to_json()}))
    except TransportError as exc:
        text = str(exc)
        if exc.interrupted:
            return False, f"{text[:1].upper()}{text[1:]}: it may still show in the channel; look there."
        later = "" if exc.permanent else " This may pass on its own: check again in a few minutes."
        return False, f"{text[:1].upper()}{text[1:]}.{later}"
    finally:
        sender.close()
    return True, ("Teams took the test card: it shows in the channel within a minute or so. If it does not, open "
                  "the workflow's run history in Power Automate to see why.")


def main(argv: list[str] | None = None) -> int:
    """Check each `[[teams]]` entry (or those named): one line each; exit 0 when every one passed."""
    from bot import config

    names = list(sys.argv[1:] if argv is None else argv)
    try:
        settings = config.load()
    except config.ConfigError as exc:
        print(f"Error: {exc}")
        return 1
    entries = [t for t in settings.teams if not names or t.name in names]
    unknown = sorted(set(names) - {t.name for t in settings.teams})
    if unknown or not entries:
        print(f"Error: no [[teams]] entry named {', '.join(unknown)}" if unknown
              else "Error: config.toml has no [[teams]] entry")
        return 1
    passed = True
    for entry in entries:
        url = settings.teams_urls.get(entry.name, "")
        ok, said = check(url) if url else (False, f"{entry.url_env} is not set in this environment.")
        passed = passed and ok
        print(f"{entry.name}: {'OK' if ok else 'FAILED'}: {said}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
