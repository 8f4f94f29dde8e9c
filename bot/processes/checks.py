"""`kpibot check-connections`: the shape of one connection check, and running a list of them safely.

A check is a name and a function answering `(ok, message)`: the message says plainly what works, or what failed and
what to fix. Checks live beside what they check (bot/storage/connection.py, each channel's connection.py); the
composition root lists the ones a deployment has settings for (`connection_checks` in bot/app.py), so a new
channel's check is one more entry in that list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

Outcome = tuple[bool, str]


@dataclass(frozen=True)
class Check:
    name: str  # what is checked, as a person calls it: "Database", "SMTP", "Telegram"
    run: Callable[[], Outcome] | None  # None: not set up here, and `skipped` says why
    skipped: str = ""


@dataclass(frozen=True)
class Checked:
    name: str
    ok: bool | None  # None: not set up, so not tried
    message: str


def run_checks(checks: Iterable[Check], secrets: Iterable[str] = ()) -> list[Checked]:
    """Run each check in turn (one failing, even by raising, never stops the others), with every secret taken out
    of what they say: a library's error text may quote a URL or a line that carries one."""
    hidden = sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True)

    def clean(text: str) -> str:
        for secret in hidden:
            text = text.replace(secret, "[secret]")
        return " ".join(text.split())

    done = []
    for check in checks:
        if check.run is None:
            done.append(Checked(check.name, None, clean(check.skipped)))
            continue
        try:
            ok, message = check.run()
        except Exception as exc:  # noqa: BLE001 - a check that breaks is a failed check, said in one line
            ok, message = False, f"the check itself failed ({type(exc).__name__}: {exc})"
        done.append(Checked(check.name, ok, clean(message)))
    return done
