"""The council's review actions on a return (sign off, query with a reason) and the provider's answer: forms that
call bot/review's functions, the same the command line, Telegram and email call. Filled in once the review
workflow is on this branch."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session
from starlette.requests import Request

from bot.storage.models import Contact
from bot.web.reads.returns import ReturnPage


@dataclass(frozen=True)
class Actions:
    """What the signed-in person may do on the return now, with any answer to their last act."""

    sign_off: bool = False
    query: bool = False
    answer_query_id: int | None = None
    message: str = ""


def actions_for(request: Request, session: Session, contact: Contact, view: ReturnPage) -> Actions:
    return Actions()
