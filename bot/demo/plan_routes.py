"""The two ways the demo's provider completes its action plan besides the command line: the action-plan workbook
emailed back through the intake, and the guided chat conversation. Both end in acts.complete, as in service."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlmodel import Session

from bot.app import App
from bot.assessment.submission_kpis import local_date
from bot.intake.received import Received
from bot.plans import conversation
from bot.plans import table as t
from bot.plans.drafts import ActionDraft
from bot.plans.workbook import workbook
from bot.review.scene import Act, Outcome, Refused
from bot.storage.models import Contact
from kpi_core.returns import plan_sheet

DEMO_CHAT = 700001  # the provider's chat in the demo: the conversation keeps its draft by chat


def by_workbook(app: App, act: Act, plan_id: int, reason: str, action: ActionDraft) -> Outcome:
    """Fill in the plan's workbook as the provider would and email it back to kpibot."""
    with Session(app.engine) as session:
        name, data = workbook(session, None, plan_id, local_date(act.at, app.settings.timezone))
        contact = session.get(Contact, act.contact_id)
        assert contact is not None
        sender = contact.email
    book = load_workbook(io.BytesIO(data))
    sheet = book[plan_sheet.PLAN_SHEET]
    reason_row = next(c.row for c in sheet["A"] if c.value == plan_sheet.REASON_LABEL)
    header = next(c.row for c in sheet["B"] if c.value == plan_sheet.ACTION_HEADERS[1])
    sheet.cell(reason_row, 2, reason)
    for column, value in enumerate((action.what, action.how, action.who, action.when), start=2):
        sheet.cell(header + 1, column, value)
    out = io.BytesIO()
    book.save(out)
    result = app.intake.submit(Received(channel="email", message_id=f"<plan-{plan_id}@demo.breathe-easy.example>",
                                        sender=sender, filename=name, data=out.getvalue(), received_at=act.at))
    if result.outcome != "action_plan":
        raise Refused(result.reply, "demo")
    return Outcome(t.COMPLETE, t.SUBMITTED, f"(the action-plan workbook, by email) {result.reply}", plan_id)


def by_chat(app: App, act: Act, plan_id: int, reason: str, action: ActionDraft) -> Outcome:
    """Answer the guided conversation's questions as the provider would in Telegram (`/plan N`)."""
    engine, settings = app.engine, app.settings
    conversation.start(engine, settings, act.contact_id, DEMO_CHAT, plan_id, act.at)
    said = None
    answers = (reason, action.what, action.how, action.who, action.when, "no", conversation.SEND)
    for n, text in enumerate(answers):
        said = conversation.answer(engine, settings, act.contact_id, DEMO_CHAT, text, act.at,
                                   f"demo:chat:{plan_id}:{act.at.isoformat()}:{n}")
    if said is None or not said.text.startswith("Thank you"):
        raise Refused(said.text if said else "the conversation did not start", "demo")
    return Outcome(t.COMPLETE, t.SUBMITTED, f"(in the chat, step by step) {said.text}", plan_id)
