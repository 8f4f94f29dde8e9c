"""An action plan's life as a table of transitions.

Each row says: in this state, this action leads to that state; these parts may take it (bot/authz/policy.py says
which part a person plays in the contract); and these people are told, with this message
(templates/messages/<name>.*). The functions of bot/plans/acts.py and the intake's hook (bot/plans/hooks.py) do
what a row says and nothing else; a (state, action) pair that is not a row is refused with `refusal`, in words.
tests/test_plan_table.py walks the table: every row by every part, every other pair refused.

Audiences: the provider's submitters and managers (`provider`), the contract's commissioners (`council`).
"""

from __future__ import annotations

from dataclasses import dataclass

# States.
NEW = "new"  # no plan yet
REQUESTED = "requested"  # asked of the provider: waits for them to complete it
SUBMITTED = "submitted"  # completed: waits for the council to agree it or return it
RETURNED = "returned"  # the council returned it with a comment: waits for the provider
AGREED = "agreed"  # the council agreed it: its actions are followed, date by date
CLOSED = "closed"  # the indicator is back on target, or the council closed it
OPEN_STATES = (REQUESTED, SUBMITTED, RETURNED, AGREED)
STATES = OPEN_STATES + (CLOSED,)

# Actions.
OPEN = "open"  # a red in an accepted return, with no plan open for the indicator
RED_AGAIN = "red_again"  # a later period's accepted return is red again: the open plan follows it
REFRESH = "refresh"  # a correction of the same period, still red: the figures follow it, nobody is told
RECOVER = "recover"  # an accepted return has the indicator back on target
COMPLETE = "complete"  # the provider writes the reason and the actions
AGREE = "agree"
SEND_BACK = "send_back"  # returned to the provider with a comment
CLOSE = "close"  # the council closes it
ACTIONS = (COMPLETE, AGREE, SEND_BACK, CLOSE)  # what people do (the others are the intake's)

# Parts.
COMMISSIONER, PROVIDER, INTAKE = "commissioner", "provider", "intake"
COUNCIL = "council"  # the audience of the contract's commissioners


@dataclass(frozen=True)
class Tell:
    template: str  # templates/messages/<template>.{telegram.txt,email.txt,email-subject.txt}
    to: str  # provider | council


@dataclass(frozen=True)
class Transition:
    state: str
    action: str
    next: str
    who: tuple[str, ...]
    tell: tuple[Tell, ...]


# What a return does to a contract's plans is told in one message per person, plans_after_return, queued by the
# scheduler's next sweep (jobs/plans.py) rather than by the intake: the reply to the return goes first.
AFTER_RETURN = (Tell("plans_after_return", PROVIDER), Tell("plans_after_return", COUNCIL))


def _updated(state: str) -> Transition:
    """A red again leaves an open plan in its state (its figures follow the latest return); both sides hear of a
    later period's red (a correction of the same period updates it quietly)."""
    return Transition(state, RED_AGAIN, state, (INTAKE,), AFTER_RETURN)


def _recovered(state: str) -> Transition:
    return Transition(state, RECOVER, CLOSED, (INTAKE,), AFTER_RETURN)


def _closed(state: str) -> Transition:
    return Transition(state, CLOSE, CLOSED, (COMMISSIONER,), (Tell("plan_closed", PROVIDER),))


SUBMITTED_TELL = (Tell("plan_submitted", COUNCIL),)

TABLE: tuple[Transition, ...] = (
    Transition(NEW, OPEN, REQUESTED, (INTAKE,), AFTER_RETURN[:1]),  # the council hears once it is completed
    Transition(REQUESTED, COMPLETE, SUBMITTED, (PROVIDER,), SUBMITTED_TELL),
    Transition(RETURNED, COMPLETE, SUBMITTED, (PROVIDER,), SUBMITTED_TELL),
    Transition(SUBMITTED, AGREE, AGREED, (COMMISSIONER,), (Tell("plan_agreed", PROVIDER),)),
    Transition(SUBMITTED, SEND_BACK, RETURNED, (COMMISSIONER,), (Tell("plan_returned", PROVIDER),)),
    Transition(AGREED, SEND_BACK, RETURNED, (COMMISSIONER,), (Tell("plan_returned", PROVIDER),)),  # not working
    *(_updated(s) for s in OPEN_STATES),
    *(Transition(s, REFRESH, s, (INTAKE,), ()) for s in OPEN_STATES),
    *(_recovered(s) for s in OPEN_STATES),
    *(_closed(s) for s in OPEN_STATES),
)


def transition(state: str, action: str) -> Transition | None:
    """The row for `action` in `state`, or None when the action cannot be taken there."""
    return next((t for t in TABLE if t.state == state and t.action == action), None)


def actions_in(state: str, part: str) -> tuple[str, ...]:
    """What `part` may do in `state`, in the table's order."""
    return tuple(t.action for t in TABLE if t.state == state and part in t.who)


STATE_WORDS = {REQUESTED: "requested: waiting for the provider to complete it",
               SUBMITTED: "completed: waiting for the council to agree it",
               RETURNED: "returned to the provider with the council's comment",
               AGREED: "agreed: its actions are followed", CLOSED: "closed"}
SHORT_WORDS = {REQUESTED: "requested", SUBMITTED: "waiting for the council", RETURNED: "returned",
               AGREED: "agreed", CLOSED: "closed"}
ACTION_WORDS = {COMPLETE: "complete the plan", AGREE: "agree the plan", SEND_BACK: "return the plan",
                CLOSE: "close the plan"}
PART_WORDS = {COMMISSIONER: "the council's commissioners", PROVIDER: "the provider", INTAKE: "an accepted return"}


def refusal(state: str, action: str, part: str | None) -> str:
    """Why `part` may not take `action` in `state`, in words a person can act on."""
    row = transition(state, action)
    doing = ACTION_WORDS.get(action, action)
    if part is None:
        return f"You may not {doing}: it is not one of your contracts."
    who = row.who if row is not None else tuple(dict.fromkeys(w for x in TABLE if x.action == action for w in x.who))
    if row is not None or (who and part not in who):  # not theirs to do, whatever the plan's state
        return f"Only {' or '.join(PART_WORDS[w] for w in who)} may {doing}."
    if state == CLOSED:
        return "The plan is closed: nothing more can be done with it."
    if action == COMPLETE and state == SUBMITTED:
        return "The plan is already completed and waits for the council: it can be changed once the council returns it."
    if action == COMPLETE and state == AGREED:
        return "The plan is agreed: ask the council to return it if its actions need to change."
    if action == AGREE and state == AGREED:
        return "The plan is already agreed."
    if action in (AGREE, SEND_BACK):
        return f"The plan cannot be agreed or returned while it is {STATE_WORDS.get(state, state)}."
    return f"You cannot {doing} while it is {STATE_WORDS.get(state, state)}."
