"""What a provider writes in an action plan, read and checked the same way whatever the channel.

Seed 002 asks for the reason for non-compliance and, for each action, what is required, how it will be achieved,
who will be responsible and when results will be realised. Every part is required; "when" is a date (the dated
commitment the scheduler follows), written as people write dates: `31 March 2026`, `31/03/2026` or `2026-03-31`.
A mistake is answered naming the action and the part, with what to write instead; nothing is saved.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.review.actions import clean
from bot.review.scene import Refused

MIN_REASON = 10  # characters: "see above" is not a reason
MAX_ACTIONS = 20
MAX_WHO = 200
PARTS = ("what", "how", "who", "when")
PART_WORDS = {"what": "what is required", "how": "how it will be achieved", "who": "who will be responsible",
              "when": "when results will be realised (a date)"}
SEPARATOR = "|"
FORMATS = ("%d %B %Y", "%d %b %Y", "%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")


@dataclass(frozen=True)
class ActionDraft:
    what: str
    how: str
    who: str
    when: str  # as written; read by `checked`


@dataclass(frozen=True)
class Action:
    number: int
    what: str
    how: str
    who: str
    due: date


def parse_day(text: str) -> date | None:
    """The date `text` names (`31 March 2026`, `31/03/2026`, `2026-03-31`), or None."""
    words = " ".join(re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text.strip(), flags=re.I).split())
    for form in FORMATS:
        try:
            return datetime.strptime(words, form).date()
        except ValueError:
            continue
    return None


def when_checked(text: str, today: date) -> tuple[date | None, str]:
    """The date `text` names, and what is wrong with it ("" when it is a date from `today` on): the one rule for
    "when", whatever the channel (the command line, the chat's step, a workbook's row)."""
    text = clean(text)
    due = parse_day(text)
    if due is None:
        return None, (f"'{text}' is not a date; write when results will be realised as a date, for example "
                      "31 March 2026.")
    if due < today:
        return due, f"{due.day} {due:%B %Y} has passed; give the date results will be realised from now on."
    return due, ""


def who_problem(text: str) -> str:
    """What is wrong with the name of who is responsible ("" when nothing is)."""
    if len(clean(text)) > MAX_WHO:
        return f"'who' is longer than {MAX_WHO} characters; name the person or team."
    return ""


def from_line(line: str, number: int) -> ActionDraft:
    """An action written on one line as `what | how | who | when` (the command line's --action, a chat message)."""
    parts = [p.strip() for p in line.split(SEPARATOR)]
    if len(parts) != 4:
        raise Refused(f"Action {number} has {len(parts)} part{'s' if len(parts) != 1 else ''}: write the four parts "
                      "separated by '|': what is required | how it will be achieved | who will be responsible | when "
                      "(a date), for example 'Re-train pharmacy advisers | Monthly sessions led by the lead adviser | "
                      "Rebecca Mellor | 31 March 2026'.", "bad_action")
    return ActionDraft(*parts)


@dataclass(frozen=True)
class Problem:
    """One mistake in a plan, and the part to correct: `reason`, or `action-2-when` (action 2's date)."""

    where: str
    text: str


def checked(reason: str, drafts: Sequence[ActionDraft], today: date) -> tuple[str, tuple[Action, ...]]:
    """The reason and actions, cleaned and checked, or Refused naming the first mistake of each action."""
    text, actions, found = problems(reason, drafts, today)
    if found:
        raise Refused(" ".join(p.text for p in found) + " Nothing was saved.", "bad_plan")
    return text, actions


def problems(reason: str, drafts: Sequence[ActionDraft],
             today: date) -> tuple[str, tuple[Action, ...], tuple[Problem, ...]]:
    """The reason and actions cleaned, and the first mistake of each part (a form shows each beside its field)."""
    reason = clean(reason)
    found: list[Problem] = []
    if len(reason) < MIN_REASON:
        found.append(Problem("reason", "The reason for non-compliance is missing: say why the indicator is off "
                                "target."))
    if not drafts:
        found.append(Problem("action-1-what", "A plan needs at least one action: what is required, how, who is "
                                "responsible and when."))
    if len(drafts) > MAX_ACTIONS:
        found.append(Problem(f"action-{MAX_ACTIONS + 1}-what",
                                f"A plan holds at most {MAX_ACTIONS} actions; this one has {len(drafts)}."))
    actions = []
    for number, draft in enumerate(drafts, start=1):
        values = {p: clean(getattr(draft, p)) for p in PARTS}
        missing = [p for p in PARTS if not values[p]]
        if missing:
            found.append(Problem(f"action-{number}-{missing[0]}", f"Action {number} has no "
                                    f"{' and no '.join(PART_WORDS[p] for p in missing)}."))
            continue
        due, wrong = when_checked(values["when"], today)
        if due is None or wrong:
            found.append(Problem(f"action-{number}-when", f"Action {number}: {wrong}"))
            continue
        wrong = who_problem(values["who"])
        if wrong:
            found.append(Problem(f"action-{number}-who", f"Action {number}: {wrong}"))
            continue
        actions.append(Action(number, values["what"], values["how"], values["who"], due))
    return reason, tuple(actions), tuple(found)
