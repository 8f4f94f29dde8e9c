"""The Teams card of each notice: the email's figures and wording, shaped for a channel that many people read.

The title is the email's subject (templates/messages/<name>.email-subject.txt); the body is built here from the
same context the templates get, values already formatted by the report and message helpers. A channel is not a
person: a card greets no one, names no one (no one's name or address, not even who else was told), gives no
instructions for a chat or a mailbox, and carries no file. Critical failures come first, then what is late, then
what is red.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.outbox.card import SEE_REPORT, Card, Count, section
from bot.reports.status import status_view
from bot.reports.templating import render_text  # no WeasyPrint: text needs none
from jobs.queueing import Message

if TYPE_CHECKING:
    from bot.reports.exception_report import ExceptionReport
    from jobs.notices import About, LatePeriod


def card_message(name: str, **context: Any) -> Message:
    """The notice `name` (a template name under templates/messages/) as a Teams card and its plain text."""
    builder = BUILDERS.get(name)
    if builder is None:
        raise LookupError(f"no Teams card for the notice {name!r}: add one to jobs/cards.py")
    title = " ".join(render_text(f"messages/{name}.email-subject.txt", **context).split())
    card = builder(title, **context)
    return Message(title, card.plain(), card=card)


def _reminder(title: str, *, a: About, when: str, **_: Any) -> Card:
    return Card(title, f"The {a.return_label.lower()} for {a.contract_name}, {a.period_label}, is due {when}: "
                       f"by {a.due}.",
                facts=(("Provider", a.provider_name), ("Due", a.due)),
                sections=section("", [a.state] if a.state else [], "warning"),
                note="It is sent to kpibot as usual, by email or Telegram. Reminders stop once the return is "
                     "accepted.")


def _overdue(title: str, *, a: About, overdue: str, ladder: str, every: str, **_: Any) -> Card:
    return Card(title, f"The {a.return_label.lower()} for {a.contract_name}, {a.period_label}, was due by {a.due} "
                       f"and has not been accepted: it is {overdue} overdue.",
                facts=(("Provider", a.provider_name), ("Due", a.due)),
                sections=section("", [line for line in (a.state, ladder) if line], "attention"),
                note=f"This notice comes every {every} until the return is accepted.", tone="attention")


def _warning(title: str, *, a: About, run: str, periods: list[LatePeriod], failure: str, **_: Any) -> Card:
    return Card(title, f"{a.contract_name} ({a.provider_name}) has now been late with its "
                       f"{a.return_label.lower()} for the {run} consecutive period.",
                sections=(*section("Late periods", _periods(periods), "warning"),
                          *section("", [failure] if failure else [], "attention")),
                tone="warning")


def _service_failure(title: str, *, a: About, count: str, periods: list[LatePeriod], rule: str, source: str,
                     occurred: str, **_: Any) -> Card:
    return Card(title, f"{a.contract_name}, provided by {a.provider_name}, has not submitted its "
                       f"{a.return_label.lower()} on time for {count} consecutive periods.",
                sections=(*section("Late periods", _periods(periods), "attention"),
                          *section("The contract", [f"\u201c{rule}\u201d ({source})"], counted=False)),
                note=f"This is a service failure, recorded on {occurred}. kpibot sends this notice once for these "
                     "periods; an on-time return resets the count of late periods.", tone="attention")


def _exception_report(title: str, *, report: ExceptionReport, contracts: list[str], notes: list[str],
                      **_: Any) -> Card:
    critical = [f"{c.contract_name}: {c.ref} {c.name}: {c.value}"
                + (f" (critical level {c.critical_level})" if c.critical_level else "")
                + ("" if c.what == "Critical performance failure" else f"; {c.what[0].lower()}{c.what[1:]}")
                for c in report.critical]
    at_risk = [f"{c.contract_name}: {c.ref} {c.name}: {c.value}"
               + (f" (critical level {c.critical_level})" if c.critical_level else "") for c in report.at_risk]
    late = [f"{r.contract_name}: {r.return_name}, due {r.due}: {r.state}"
            + (f". Escalation: {r.escalation_label}" if r.escalation_level > 0 else "") for r in report.late]
    off = [f"{r.status.label} {r.contract_name}: {r.ref} {r.name}: {r.value}"
           + (" year to date" if r.value_label == "year to date" else "") + f", target {r.target}"
           + (f": {r.gap}" if r.gap else "") for r in report.exceptions]
    plans, on_track = plan_lines(report)
    return Card(title, report.summary,
                counts=tuple(Count(c.status.key, c.status.label, c.count) for c in report.totals),
                sections=(*section("Critical performance failures", critical, "attention"),
                          *section("At risk of critical failure", at_risk, "warning"),
                          *section("Missing or late returns", late, "warning"),
                          *section("Red and amber indicators", off),
                          *section("Action plans with something overdue", plans, "warning"),
                          *section("", [on_track] if on_track else [], counted=False),
                          *section("Contracts in the report", contracts),
                          *section("Left out of the report", notes, counted=False)),
                note=SEE_REPORT, tone="attention" if report.critical else "")


def plan_lines(report: ExceptionReport) -> tuple[list[str], str]:
    """The open action plans past a deadline or with an agreed action past its date, as the PDF report lists them
    (each overdue action on the plan's line), and how many others are open and on time."""
    late = [f"{row.contract_name}: {row.plan.headline}" + "".join(f"; {a.line}" for a in row.plan.overdue_actions)
            for row in report.plans if row.late]
    others = len(report.plans) - len(late)
    on_track = (f"{others} other open action plan{'s' if others != 1 else ''}: nothing overdue." if late else
                f"{others} open action plan{'s' if others != 1 else ''}: nothing overdue.") if others else ""
    return late, on_track


def _digest(title: str, *, week: str, late: list[str], red: list[str], refused: list[str], summary: str,
            critical: list[str] | None = None, review: list[str] | None = None,
            overdue_queries: list[str] | None = None, overdue_requests: list[str] | None = None, **_: Any) -> Card:
    red_view = status_view("red")
    return Card(title, "What needs attention this week.",
                counts=(Count("red", red_view.label, len(red)),) if red else (),
                sections=(*section("Critical failures, and indicators at risk of an annual one", critical or [],
                                   "attention"),
                          *section("Queries overdue: the provider has not answered in time", overdue_queries or [],
                                   "attention"),
                          *section("Late returns", late, "warning"),
                          *section("Requests for information overdue", overdue_requests or [], "warning"),
                          *section(f"{red_view.label} in the latest returns", red, "attention"),
                          *section("Files refused as possible personal data in the last 7 days", refused),
                          *section("Waiting for the council's review", review or [])),
                tone="attention" if critical else "")


def _query_reminder(title: str, *, q: Any, when: str, **_: Any) -> Card:
    """`q`: the query as jobs/queries.py names it (Asked)."""
    return Card(title, f"On {q.asked} the council queried the {q.a.return_label.lower()} of {q.a.contract_name} for "
                       f"{q.a.period_label} (version {q.version}). The answer is due {when}: by {q.respond_by}.",
                facts=(("Provider", q.a.provider_name), ("Answer by", q.respond_by)),
                sections=(*section("About", list(q.about), counted=False),
                          *section("The council's reason", [q.reason], counted=False)),
                note="The provider answers by replying to the council's query, by email or Telegram. Reminders stop "
                     "once the query is answered.", tone="warning")


def _query_overdue(title: str, *, q: Any, overdue: str, **_: Any) -> Card:
    return Card(title, f"The council's query of {q.asked} on the {q.a.return_label.lower()} of {q.a.contract_name} "
                       f"for {q.a.period_label} (version {q.version}) was to be answered by {q.respond_by}: the "
                       f"answer is {overdue} overdue.",
                facts=(("Provider", q.a.provider_name), ("Answer by", q.respond_by)),
                sections=(*section("About", list(q.about), counted=False),
                          *section("The council's reason", [q.reason], counted=False)),
                note="The council sees overdue queries in its weekly digest.", tone="attention")


def _periods(periods: list[LatePeriod]) -> list[str]:
    return [f"{p.period_label}: due {p.due}, {p.received}" for p in periods]


BUILDERS: dict[str, Callable[..., Card]] = {
    "reminder": _reminder, "overdue": _overdue, "warning": _warning, "service_failure": _service_failure,
    "exception_report": _exception_report, "digest": _digest,
    "query_reminder": _query_reminder, "query_overdue": _query_overdue,
}
