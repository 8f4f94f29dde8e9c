"""The review of a return, and the confirmation of a year's payment, as tables of transitions.

Each row says: in this state, this action leads to that state; these parts may take it (bot/authz/policy.py
says which part a person plays); and these people are told, with this message (templates/messages/<name>.*).
The functions of bot/review/actions.py (and the intake's hook, hooks.py) do exactly what a row says and nothing
else; a (state, action) pair that is not a row is refused with `refusal`, in words. tests/test_review_table.py
walks both tables: every row by every part, every other pair refused.

Parts: the council that commissions the contract (`commissioner`), the provider's submitters and managers
(`provider`), and the intake when a new version of the return is accepted (`intake`: a file a provider sent, or a
commissioner sent on their behalf).

Audiences: the provider's submitters and managers (`provider`); the commissioners with a linked Telegram chat,
who get the return's summary with buttons to sign off, query or fetch the PDF (`reviewers`); the commissioner
who asked the open query (`asker`); the one who signed the return off (`signer`); every commissioner of the
contract (`council`). Nobody hears of one event twice: the first row that reaches a person is the one they get.
"""

from __future__ import annotations

from dataclasses import dataclass

# Review states.
NEW = "new"  # no version accepted yet: no review
WAITING = "waiting"  # waits for the council
QUERIED = "queried"  # the council asked; waits for the provider
ANSWERED = "answered"  # the provider explained; waits for the council
SIGNED_OFF = "signed_off"  # the council agreed the period's figures
STATES = (WAITING, QUERIED, ANSWERED, SIGNED_OFF)

# Actions.
OPEN = "open"  # the first version is accepted
RESUBMIT = "resubmit"  # a newer version is accepted (a correction): the review follows it
SIGN_OFF = "sign_off"
QUERY = "query"
ANSWER = "answer"  # an explanation; a corrected file is a RESUBMIT
SPOT_CHECK = "spot_check"
ACTIONS = (SIGN_OFF, QUERY, ANSWER, SPOT_CHECK)  # what people do (OPEN and RESUBMIT are the intake's)

# Parts.
COMMISSIONER, PROVIDER, INTAKE = "commissioner", "provider", "intake"

# Audiences.
REVIEWERS, ASKER, SIGNER, COUNCIL = "reviewers", "asker", "signer", "council"


@dataclass(frozen=True)
class Tell:
    template: str  # templates/messages/<template>.{telegram.txt,email.txt,email-subject.txt}
    to: str  # an audience


@dataclass(frozen=True)
class Transition:
    state: str
    action: str
    next: str
    who: tuple[str, ...]
    tell: tuple[Tell, ...]


def _spot(state: str) -> Transition:
    """A spot check is recorded in any state and leaves it as it is; the provider hears what it found."""
    return Transition(state, SPOT_CHECK, state, (COMMISSIONER,), (Tell("review_spot_check", PROVIDER),))


SUMMARY = Tell("review_summary", REVIEWERS)
SIGNED = Tell("review_signed_off", PROVIDER)
ASKED = Tell("review_queried", PROVIDER)

TABLE: tuple[Transition, ...] = (
    Transition(NEW, OPEN, WAITING, (INTAKE,), (SUMMARY,)),
    Transition(WAITING, SIGN_OFF, SIGNED_OFF, (COMMISSIONER,), (SIGNED,)),
    Transition(WAITING, QUERY, QUERIED, (COMMISSIONER,), (ASKED,)),
    Transition(WAITING, RESUBMIT, WAITING, (INTAKE,), (SUMMARY,)),
    _spot(WAITING),
    Transition(QUERIED, ANSWER, ANSWERED, (PROVIDER,), (Tell("review_answered", ASKER),)),
    Transition(QUERIED, RESUBMIT, WAITING, (INTAKE,), (SUMMARY, Tell("review_corrected", ASKER))),
    Transition(QUERIED, SIGN_OFF, SIGNED_OFF, (COMMISSIONER,), (SIGNED,)),  # settled another way: the query closes
    _spot(QUERIED),
    Transition(ANSWERED, SIGN_OFF, SIGNED_OFF, (COMMISSIONER,), (SIGNED,)),
    Transition(ANSWERED, QUERY, QUERIED, (COMMISSIONER,), (ASKED,)),  # asked again
    Transition(ANSWERED, RESUBMIT, WAITING, (INTAKE,), (SUMMARY,)),
    _spot(ANSWERED),
    Transition(SIGNED_OFF, RESUBMIT, WAITING, (INTAKE,),
               (SUMMARY, Tell("review_reopened_council", SIGNER), Tell("review_reopened", PROVIDER))),
    _spot(SIGNED_OFF),
)

# The year's payment by results or incentive: calculated by kpibot, confirmed by a person.
CALCULATED, CONFIRMED = "calculated", "confirmed"
CONFIRM = "confirm"
PAYMENT_TABLE: tuple[Transition, ...] = (
    Transition(CALCULATED, CONFIRM, CONFIRMED, (COMMISSIONER,),
               (Tell("payment_confirmed", PROVIDER), Tell("payment_confirmed", COUNCIL))),
    Transition(CONFIRMED, RESUBMIT, CALCULATED, (INTAKE,), (Tell("payment_reopened", COUNCIL),)),
)


def transition(state: str, action: str, table: tuple[Transition, ...] = TABLE) -> Transition | None:
    """The row for `action` in `state`, or None when the action cannot be taken there."""
    return next((t for t in table if t.state == state and t.action == action), None)


def actions_in(state: str, part: str, table: tuple[Transition, ...] = TABLE) -> tuple[str, ...]:
    """What `part` may do in `state`, in the table's order."""
    return tuple(t.action for t in table if t.state == state and part in t.who)


STATE_WORDS = {WAITING: "waiting for the council's review", QUERIED: "queried: waiting for the provider's answer",
               ANSWERED: "answered: waiting for the council", SIGNED_OFF: "signed off"}
ACTION_WORDS = {SIGN_OFF: "sign it off", QUERY: "query it", ANSWER: "answer a query on it",
                SPOT_CHECK: "record a spot check of it", CONFIRM: "confirm the year's payment"}
PART_WORDS = {COMMISSIONER: "the council's commissioners", PROVIDER: "the provider",
              INTAKE: "a new version of the return"}


def refusal(state: str, action: str, part: str | None, table: tuple[Transition, ...] = TABLE) -> str:
    """Why `part` may not take `action` in `state`, in words a person can act on."""
    row = transition(state, action, table)
    doing = ACTION_WORDS.get(action, action)
    if part is None:
        return f"You may not {doing}: it is not one of your contracts."
    if row is not None:  # the action exists here, but not for this part
        return f"Only {' or '.join(PART_WORDS[w] for w in row.who)} may {doing}."
    if action == SIGN_OFF and state == SIGNED_OFF:
        return "It is already signed off."
    if action == QUERY and state == QUERIED:
        return "A query on it is already open: wait for the provider's answer, or sign it off."
    if action == QUERY and state == SIGNED_OFF:
        return ("It is signed off. A signed-off return is reopened when the provider sends a corrected version; "
                "record what you found with a spot check and ask them for one.")
    if action == ANSWER:
        return "No query on it is waiting for an answer."
    return f"You cannot {doing} while it is {STATE_WORDS.get(state, state)}."
