"""What the bot says that needs no database: help, invites, refusals of what is not a return file.

Plain text (sent without a parse mode), so nothing a person typed can turn into markup. An unlinked chat is told
how to get an invite and nothing else: no contract, provider or figure is ever named to it.
"""

from __future__ import annotations

from bot.channels.telegram.linking import Redeemed

CHECK_PROMPT = "🔎 Check only:"  # starts the /check prompt; a file sent in reply to it is scored, not stored

# (command, description) for Telegram's menu (setMyCommands); commissioners' menu adds the second list.
COMMANDS = (
    ("help", "What kpibot does and how to send a return"),
    ("status", "Your contracts: what is due, received, and the latest results"),
    ("template", "The return workbook to fill in: /template [contract] [period]"),
    ("report", "The PDF report of a return: /report [contract] [period]"),
    ("check", "Score the next file without storing it (a dry run)"),
    ("review", "What waits for review: returns to sign off, or the council's queries to answer"),
    ("plans", "Open action plans for red indicators: what is due, and actions past their date"),
    ("plan", "Complete an action plan here, step by step: /plan [number]"),
    ("cancel", "Stop completing an action plan (nothing is sent)"),
    ("requests", "The council's open requests for information, with their deadlines"),
)
COMMISSIONER_COMMANDS = (
    ("late", "Returns overdue across your contracts, with escalation level"),
    ("exceptions", "The exception report PDF: /exceptions [period]"),
    ("meeting", "Record a performance meeting's notes and agreed actions: /meeting contract period notes"),
    ("request", "Ask a provider for a document: /request contract | what | deadline"),
    ("agree", "Agree an action plan the provider completed: /agree number"),
    ("sendback", "Return an action plan with what to change: /sendback number comment"),
    ("closeplan", "Close an action plan, saying why: /closeplan number note"),
)

UNLINKED = ("This chat is not linked to kpibot yet. Ask your commissioning team for a Telegram invite, then open "
            "the invite link, or send /start followed by the code it gives.")


def help_text(name: str, commissioner: bool) -> str:
    lines = [f"Hello {name}. Send your monitoring return here as a file (📎 → File): the Excel workbook from "
             "/template, or a CSV. kpibot checks it at once and answers with the results, then the PDF report. "
             "Write the contract or period in the caption if kpibot cannot tell which return it is.", ""]
    lines += [f"/{command}: {description}" for command, description in COMMANDS]
    if commissioner:
        lines += [f"/{command}: {description}" for command, description in COMMISSIONER_COMMANDS]
    return "\n".join(lines)


def linked_text(redeemed: Redeemed, commissioner: bool) -> str:
    """The answer to `/start CODE`, whatever became of the code."""
    if redeemed.outcome == "linked":
        moved = " (the chat linked before has been unlinked)" if redeemed.replaced_chat else ""
        return f"✅ This chat is now linked to kpibot as {redeemed.contact_name}{moved}.\n\n" + \
            help_text(redeemed.contact_name, commissioner)
    if redeemed.outcome == "already_linked":
        return f"This chat is already linked as {redeemed.contact_name}. Send /help to see what you can do."
    if redeemed.outcome == "expired" and redeemed.expired_at is not None:
        return (f"This invite expired on {redeemed.expired_at:%d %B %Y}. Ask your commissioning team for a new "
                "one.")
    return {
        "used": "This invite has already been used. Each invite links one chat once: ask your commissioning team "
                "for a new one.",
        "revoked": "This invite was cancelled. Ask your commissioning team for a new one.",
        "inactive": "This invite is for someone no longer registered with kpibot. Ask your commissioning team.",
    }.get(redeemed.outcome, "This invite code is not valid. Check you copied the whole code, or ask your "
                            "commissioning team for a new invite.")


def not_a_return(kind: str) -> str:
    """A photo, sticker, voice note... was sent where a return file was expected."""
    return (f"kpibot cannot read a {kind}. Send the return workbook (.xlsx) or CSV as a file: tap 📎, choose "
            "File, and pick the workbook. /template gives you the workbook to fill in.")


def wrong_file_type(filename: str) -> str:
    return (f"{filename} is not a return file kpibot can read. Send the Excel workbook (.xlsx, from /template) "
            "or a CSV file.")


def too_large(filename: str, size: int, limit: int) -> str:
    return (f"{filename} is {size / 1_000_000:.1f} MB; kpibot takes files of up to {limit / 1_000_000:.0f} MB "
            "here. A return workbook is far smaller: send the one from /template, without pictures or extra "
            "sheets.")


def received(filename: str) -> str:
    return f"📥 Received {filename}: checking it now…"


def not_downloaded(filename: str) -> str:
    return f"kpibot could not download {filename} from Telegram just now. Please send it again in a few minutes."


def check_prompt() -> str:
    return (f"{CHECK_PROMPT} send the return file as a reply to this message and kpibot will score it without "
            "storing it or counting it as your return.")


def busy(filename: str) -> str:
    return (f"kpibot cannot store {filename} just now (its database is not answering). Nothing was recorded: "
            "please send the file again in a few minutes.")


FAULT = "Sorry, something went wrong on kpibot's side. It has been recorded for the administrators; please try " \
        "again in a few minutes."
