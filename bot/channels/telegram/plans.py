"""`/plans` and `/requests`: what is open and due, for both sides, within what the person may see
(bot/plans/listing.py, bot/plans/requests.py, which ask bot/authz).

A provider sees its own contracts' plans (what to complete, by when; agreed actions and their dates) and the
council's open requests; a commissioner sees those of the contracts their council commissions (plans to agree,
overdue actions, requests not yet answered). A provider completes a plan in the chat with `/plan N`, the guided
conversation of plan_chat.py; agreeing or returning one goes through bot/plans/acts.py from the command line.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session
from telegram import Update
from telegram.ext import ContextTypes

from bot.assessment.plans import PlanView
from bot.authz.policy import is_commissioner
from bot.channels.telegram.answers import Answer
from bot.channels.telegram.handlers import answer
from bot.channels.telegram.kit import linked
from bot.plans.listing import plans_for
from bot.plans.requests import request_line, requests_for
from bot.storage.models import Contact

MOST = 30  # lines in one answer: a chat message is read on a phone


def plans_answer(session: Session, contact: Contact, today: date) -> Answer:
    """The open plans `contact` may see, what each waits for, and the actions past their date."""
    found = plans_for(session, contact, today)
    if not found:
        return Answer("✅ No action plan is open on your contracts.")
    council = is_commissioner(contact)
    lines = [f"📝 Open action plans on {today.day} {today:%B %Y}: {len(found)}"]
    for plan in found[:MOST]:
        lines.append(f"\n• {plan.contract_name}\n  {plan.headline}")
        lines += [f"  ❗ {a.line}" for a in plan.overdue_actions]
        lines.append(f"  {_next_step(plan, council)}")
    if len(found) > MOST:
        lines.append(f"\n… and {len(found) - MOST} more.")
    return Answer("\n".join(lines))


def _next_step(plan: PlanView, council: bool) -> str:
    if plan.state in ("requested", "returned"):
        return "Waiting for the provider to complete it." if council else \
            "To do: the reason for non-compliance, then each action (what, how, who, when). Send " \
            f"/plan {plan.id} to complete it here, step by step."
    if plan.state == "submitted":
        return (f"To do: agree it (/agree {plan.id}), or return it with a comment (/sendback {plan.id} and "
                "what to change)." if council else "Waiting for the council to agree it.")
    upcoming = [a for a in plan.actions if not a.overdue]
    return f"Next action date: {upcoming[0].when}." if upcoming else "Every action's date has passed."


def requests_answer(session: Session, contact: Contact, today: date) -> Answer:
    """The council's open requests for information `contact` may see, each with its deadline."""
    found = requests_for(session, contact)
    if not found:
        return Answer("✅ No request for information is open on your contracts.")
    lines = [f"📨 Open requests for information: {len(found)}"]
    lines += [f"• {request_line(session, r, today)}" for r in found[:MOST]]
    if not is_commissioner(contact):
        lines.append(f"\nSend each document (a PDF, Word or Excel document, or an image) with its request's number "
                     f"as the caption, e.g. \"request {found[0].id}\", or as a reply to the request's message: it is "
                     "recorded against that request.")
    return Answer("\n".join(lines))


@linked
async def plans_command(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """Open action plans: what waits on whom, by when, and actions past their date."""
    await answer(update, context, contact, lambda k, s, args: plans_answer(s, contact, k.today()), "plans")


@linked
async def requests_command(update: Update, context: ContextTypes.DEFAULT_TYPE, contact: Contact) -> None:
    """Open requests for information and their deadlines."""
    await answer(update, context, contact, lambda k, s, args: requests_answer(s, contact, k.today()), "requests")
