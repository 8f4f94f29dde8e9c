"""An action-plan workbook received through the intake (Telegram, email, the command line): the file kpibot made
for one open plan, recognised by the reader (kpi_core/returns/plan_sheet.py), completes that plan through
bot/plans/workbook.py and acts.complete. It is never scored as a return.

The file was stored raw and its receipt recorded (step 1 of the intake) before anything read it, as every file is;
that receipt ends here as `action_plan` (the plan completed) or `rejected` (with the answer saying what to
correct), tied to no return: no obligation, no version, no figures, so it counts for no return's timeliness and
is never a version in force. The plan's history names the channel, and the act is keyed by the channel message,
so a file sent twice, or a receipt resumed after a crash, completes the plan once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

import sqlalchemy as sa

from bot import config
from bot.intake import saving
from bot.intake.received import IntakeResult, Received
from bot.intake.records import Sender, mine
from bot.plans.workbook import complete_from
from bot.review.scene import Act, Refused
from bot.storage.audit import record
from bot.storage.db import retrying, write_session
from kpi_core.returns.plan_sheet import PlanSheet

DONE: Final = "action_plan"


def take(engine: sa.Engine, settings: config.Settings, submission_id: int, sender: Sender, received: Received,
         sheet: PlanSheet, sleep: Callable[[float], None] = time.sleep) -> IntakeResult:
    """Complete the workbook's plan, then end the receipt with the answer (queued on the channel it came by)."""
    act = Act(sender.id, received.channel, received.received_at, key=f"intake:submission:{submission_id}")
    try:
        outcome = complete_from(engine, settings, act, sheet)
        done, text, plan_id = True, outcome.text, str(outcome.review_id)  # the plan's id
    except Refused as exc:
        done, text, plan_id = False, exc.text, sheet.marker.get("plan", "")

    def write() -> IntakeResult:
        with write_session(engine) as session:
            submission = mine(session, submission_id)
            submission.status = DONE if done else "rejected"
            submission.contract_id = submission.obligation_id = submission.period_id = None  # no return's
            submission.version = None
            submission.error_count = 0 if done else 1
            submission.reason = f"action-plan workbook: {text}"[:2000]
            submission.processed_at = received.received_at
            saving.queue_reply(session, submission_id, sender.id, received, text,
                               "Action plan sent to the council" if done else "Action plan not saved")
            record(session, received.received_at, sender.email, f"plan_workbook_{'taken' if done else 'refused'}",
                   f"submission:{submission_id}", {"plan": plan_id, "channel": received.channel})
            session.commit()
            if done:
                return IntakeResult(DONE, submission_id, text, reply_to=saving.reply_to(received))
            return IntakeResult("rejected", submission_id, text, reply_to=saving.reply_to(received))
    return retrying(write, sleep=sleep)
