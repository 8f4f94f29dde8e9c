"""The words of every notice, from templates/messages/<name>.{email-subject,email,telegram}.txt (a Teams channel's
card from jobs/cards.py).

Code builds a context of values ready to print (dates spelled out, counts in words); templates hold the wording.
"""

from __future__ import annotations

from datetime import date

from bot.reports.templating import render_text  # no WeasyPrint: text needs none
from jobs.cards import card_message
from jobs.queueing import Message
from jobs.recipients import Recipient
from kpi_core.formatting import plural

NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def day_text(day: date) -> str:
    """`Wednesday 15 October 2025`."""
    return f"{day:%A} {day.day} {day:%B %Y}"


def short_day(day: date) -> str:
    """`15 October 2025`."""
    return f"{day.day} {day:%B %Y}"


def number(n: int) -> str:
    """`three`; figures from 13 on."""
    return NUMBERS[n - 1] if 1 <= n <= len(NUMBERS) else str(n)


def ordinal(n: int) -> str:
    return ORDINALS[n - 1] if 1 <= n <= len(ORDINALS) else f"{n}th"


def days_text(n: int) -> str:
    return plural(n, "day")


def when_text(days_before: int) -> str:
    """How soon, as a reminder says it."""
    return {0: "today", 1: "tomorrow"}.get(days_before, f"in {days_before} days")


def render(name: str, recipient: Recipient, **context: object) -> Message:
    """The message `name` for `recipient` on their channel (Telegram has no subject; Teams is a card)."""
    if recipient.channel == "teams":
        return card_message(name, **context)
    if recipient.email:
        subject = render_text(f"messages/{name}.email-subject.txt", for_print=False, **context).strip()
        body = render_text(f"messages/{name}.email.txt", for_print=False, who=recipient, **context)
        return Message(subject, body.strip() + "\n")
    return Message("", render_text(f"messages/{name}.telegram.txt", for_print=False, who=recipient, **context).strip())
