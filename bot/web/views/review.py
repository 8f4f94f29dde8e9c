"""Where the council's review of a return stands and which review forms its page shows this person: the ones
bot/review/table.py allows them in the review's state (the forms are sent to views/review_acts.py)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from sqlmodel import Session
from starlette.requests import Request

from bot.assessment.in_context import framework_for
from bot.assessment.reviews import review_of
from bot.authz.policy import review_role
from bot.reports import display
from bot.review import about
from bot.review import table as t
from bot.storage.models import Contact
from bot.storage.review_models import ReviewQuery
from bot.web.reads.returns import ReturnPage
from bot.web.views.base import workspace

FLASH = "flash"  # the outcome of the last act, shown once on the page it returns to


@dataclass(frozen=True)
class OpenQuery:
    query_id: int
    reason: str
    asked: str  # `Carol Jones on 20 October 2025 at 09:00`
    respond_by: str
    answer: str
    answered: str


@dataclass(frozen=True)
class Actions:
    """Where the review stands, and what the signed-in person may do on the return now (as the table says)."""

    state_words: str = ""
    under_review: int | None = None  # the version under review
    submission_id: int | None = None
    sign_off: bool = False
    query: bool = False
    answer: bool = False
    asked: OpenQuery | None = None
    hint: str = ""  # indicators to name in a query, for example
    key: str = ""
    message: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    typed: dict[str, str] = field(default_factory=dict)


def actions_for(request: Request, session: Session, contact: Contact, view: ReturnPage,
                errors: dict[str, str] | None = None, typed: dict[str, str] | None = None) -> Actions:
    message = request.session.pop(FLASH, "") if FLASH in request.session else ""
    review = review_of(session, view.obligation_id)
    if review is None:
        return Actions(message=message, errors=errors or {})
    settings = workspace(request).parts.settings
    part = review_role(session, contact, view.contract_id)
    allowed = t.actions_in(review.state, part) if part else ()
    asked = None
    question = session.get(ReviewQuery, view.review.query_id) if view.review and view.review.query_id else None
    if question is not None and question.id is not None:
        asker = session.get(Contact, question.asked_by)
        answerer = session.get(Contact, question.answered_by) if question.answered_by else None
        asked = OpenQuery(question.id, question.reason,
                          f"{asker.name if asker else 'the council'} on "
                          f"{display.moment(question.asked_at, settings.timezone)}",
                          display.day(question.respond_by), question.answer,
                          f"{answerer.name if answerer else 'the provider'} on "
                          f"{display.moment(question.answered_at, settings.timezone)}" if question.answered_at else "")
    shown_is_current = view.shown is not None and view.shown.submission_id == review.submission_id
    framework = framework_for(view.contract, view.period)
    return Actions(t.STATE_WORDS.get(review.state, review.state), review.version, review.submission_id,
                   t.SIGN_OFF in allowed and shown_is_current, t.QUERY in allowed and shown_is_current,
                   t.ANSWER in allowed and asked is not None, asked, about.examples(framework, view.return_type),
                   secrets.token_urlsafe(12), message, errors or {}, typed or {})
