"""A return's page: its versions and which figures each changed, the chosen version's report (findings, values,
breakdowns, payments: the return report's own context), and the history of every action on it.

Read set-based: the return owed, its versions, their figures, their audit events and the people named (five
queries), then the chosen version's report (bot/reports/stored.py), as `kpibot report` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction

from sqlmodel import Session, col, select

from bot import config
from bot.assessment.in_context import framework_for, terms_of
from bot.assessment.reviews import history as review_history
from bot.reports import display
from bot.reports.context import ReturnReport
from bot.reports.stored import Located, provider_name, report_of
from bot.storage.files import FileStore
from bot.storage.models import AuditEvent, Contact, Contract, DataValue, Obligation, Submission
from bot.web.reads.reviews import ReviewState, review_states
from bot.web.reads.states import StateView, state_of
from kpi_core import formatting
from kpi_core.calendar import Period, parse_period
from kpi_core.framework.model import Framework

STATUS_WORDS = {"accepted": "Accepted: in force", "superseded": "Accepted, then replaced", "rejected": "Rejected",
                "held": "Waiting for the sender to say which return it is", "failed": "Could not be processed",
                "duplicate": "A copy of an earlier version", "quarantined": "Refused as possible personal data",
                "received": "Being checked"}
CHANNEL_WORDS = {"email": "by email", "telegram": "by Telegram", "cli": "from the command line", "web": "in the workspace"}
ACTION_WORDS = {"submission_received": "received a file", "submission_accepted": "sent a version that was accepted",
                "submission_rejected": "sent a version that was rejected", "submission_held": "sent a file kpibot "
                "asked about", "submission_duplicate": "sent a copy of an earlier version",
                "submission_quarantined": "sent a file refused as possible personal data",
                "submission_failed": "sent a file kpibot could not process"}
MAX_CHANGES = 40


@dataclass(frozen=True)
class VersionView:
    submission_id: int
    version: int
    received: str  # `15 July 2025 at 10:00`
    sender: str  # a name, `on behalf of the provider` when a commissioner sent it
    channel: str  # `by email`
    status: str  # `Accepted: in force`
    timeliness: str  # `On time`, `Late: 6 days after the due date`
    filename: str
    changes: tuple[str, ...]  # `Quit dates: 1,600 → 1,650` (against the version before)
    changed_count: int  # all changes, when more than MAX_CHANGES are listed


@dataclass(frozen=True)
class HistoryLine:
    at: str
    who: str
    what: str


@dataclass(frozen=True)
class ReturnPage:
    obligation_id: int
    contract_id: str
    contract_name: str
    provider_name: str
    return_label: str
    period_label: str
    due: str
    state: StateView
    versions: tuple[VersionView, ...]  # newest first
    shown: VersionView | None
    report: ReturnReport | None
    history: tuple[HistoryLine, ...]  # oldest first
    review: ReviewState | None
    contract: Contract
    period: Period
    return_type: str


def item_label(framework: Framework, item_id: str, breakdown: str) -> str:
    """`Quit dates, Female`: the item's label and its categories, never its id."""
    try:
        item = framework.item(item_id)
    except StopIteration:
        return "A figure no longer in the framework"
    if not breakdown:
        return item.label
    cats = []
    for part in breakdown.split(","):
        dim, _, cat = part.partition("=")
        spec = framework.disaggregations.get(dim)
        cats.append(spec.categories.get(cat, cat) if spec else cat)
    return f"{item.label}, {', '.join(cats)}"


def changes(framework: Framework, before: dict[tuple[str, str], Fraction],
            after: dict[tuple[str, str], Fraction]) -> list[str]:
    """Each figure that differs between two versions, in the framework's order of items."""
    order = {item.id: n for n, item in enumerate(framework.items)}
    keys = sorted(set(before) | set(after), key=lambda k: (order.get(k[0], 10**6), k[1]))
    found = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        shown = lambda v: "blank" if v is None else formatting.number(v, 2)  # noqa: E731
        found.append(f"{item_label(framework, *key)}: {shown(old)} → {shown(new)}")
    return found


def return_page(session: Session, files: FileStore, settings: config.Settings, obligation: Obligation,
                today: date, version: int | None = None) -> ReturnPage:
    """The page of the return `obligation` owes, showing `version` (default: the one in force, else the latest)."""
    contract = session.get(Contract, obligation.contract_id)
    assert contract is not None and obligation.id is not None
    period = parse_period(obligation.period_id, contract.year_start_month)
    framework = framework_for(contract, period)
    returns = terms_of(settings, contract, period).returns
    label = returns[obligation.return_type].label if obligation.return_type in returns else obligation.return_type
    subs = session.exec(select(Submission).where(Submission.obligation_id == obligation.id,
                                                 col(Submission.version).is_not(None))
                        .order_by(col(Submission.version), col(Submission.id))).all()
    ids = [s.id for s in subs]
    figures: dict[int, dict[tuple[str, str], Fraction]] = {i: {} for i in ids if i is not None}
    if ids:
        for sub_id, item_id, breakdown, exact in session.exec(
                select(DataValue.submission_id, DataValue.item_id, DataValue.breakdown, DataValue.exact).where(
                    col(DataValue.submission_id).in_(ids), DataValue.period_id == obligation.period_id)):
            figures[sub_id][(item_id, breakdown)] = Fraction(exact)
    people = {c.id: c for c in session.exec(select(Contact).where(
        col(Contact.id).in_({s.sender_contact_id for s in subs if s.sender_contact_id})))} if subs else {}
    zone = settings.timezone
    versions: list[VersionView] = []
    previous: dict[tuple[str, str], Fraction] | None = None
    for s in subs:
        assert s.id is not None and s.version is not None
        mine = figures.get(s.id, {})
        found = changes(framework, previous, mine) if previous is not None and mine else []
        sender = people.get(s.sender_contact_id)
        who = sender.name if sender else s.sender_address
        if s.on_behalf:
            who += ", for the provider"
        received_day = display.local_day(s.received_at, zone)
        versions.append(VersionView(
            s.id, s.version, display.moment(s.received_at, zone), who, CHANNEL_WORDS.get(s.channel, s.channel),
            STATUS_WORDS.get(s.status, s.status), display.lateness(s.on_time, received_day, obligation.due_date),
            s.filename, tuple(found[:MAX_CHANGES]), len(found)))
        if mine and s.status in ("accepted", "superseded"):
            previous = mine
    in_force = next((s for s in subs if s.status == "accepted"), None)
    chosen = next((s for s in subs if s.version == version), None) if version is not None else \
        (in_force or (subs[-1] if subs else None))
    report = None
    if chosen is not None and chosen.sha256 is not None and chosen.status not in ("quarantined", "failed"):
        report = report_of(session, files, settings, Located(contract, period, obligation, chosen))
    review = review_states(session, [obligation.id]).get(obligation.id)
    lines = history(session, settings, [i for i in ids if i is not None], people)
    if review is not None:
        lines += review_lines(session, settings, review.review_id)
    first = obligation.first_accepted_at
    arrived = display.local_day(first, zone) if first else None
    late = (arrived - obligation.due_date).days if arrived and arrived > obligation.due_date else None
    state = state_of(obligation.due_date, today, in_force is not None, review.state if review else None,
                     subs[-1].status if subs else None, late)
    shown = next((v for v in versions if chosen is not None and v.submission_id == chosen.id), None)
    return ReturnPage(obligation.id, contract.id, contract.name, provider_name(session, contract), label,
                      period.label, display.day(obligation.due_date), state, tuple(reversed(versions)), shown,
                      report, tuple(line for _, line in sorted(lines, key=lambda x: x[0])), review,
                      contract, period, obligation.return_type)


def history(session: Session, settings: config.Settings, submission_ids: list[int],
            people: dict[int | None, Contact]) -> list[tuple[datetime, HistoryLine]]:
    """Every recorded action on the return's versions, oldest first (the review's: review_lines)."""
    if not submission_ids:
        return []
    events = session.exec(select(AuditEvent).where(col(AuditEvent.subject).in_(
        [f"submission:{i}" for i in submission_ids])).order_by(col(AuditEvent.at), col(AuditEvent.id))).all()
    by_email = {c.email: c.name for c in people.values()}
    lines = []
    for event in events:
        if event.action == "submission_received":
            continue  # the outcome follows at once: one line per version
        who = by_email.get(event.actor, "kpibot" if event.actor == "system" else event.actor)
        what = ACTION_WORDS.get(event.action, event.action.replace("_", " "))
        version = event.detail.get("version") if isinstance(event.detail, dict) else None
        lines.append((event.at, HistoryLine(display.moment(event.at, settings.timezone), who,
                                            f"{what}{f' (version {version})' if version else ''}")))
    return lines


REVIEW_WORDS = {"sign_off": "signed it off", "query": "queried it", "answer": "answered the query",
                "spot_check": "recorded a spot check"}


def review_lines(session: Session, settings: config.Settings, review_id: int) -> list[tuple[datetime, HistoryLine]]:
    """The people's moves in the council's review (bot/assessment/reviews.py), with what they wrote; the review's
    own opening and following of new versions are the versions' lines already."""
    lines = []
    for e in review_history(session, review_id):
        if e.action not in REVIEW_WORDS:
            continue
        where = CHANNEL_WORDS.get(e.channel, "")
        note = f": “{e.note}”" if e.note else ""
        lines.append((e.at, HistoryLine(display.moment(e.at, settings.timezone), e.actor,
                                        f"{REVIEW_WORDS[e.action]} (version {e.version}) {where}{note}")))
    return lines


def when(moment: datetime | None, settings: config.Settings) -> str:
    return display.moment(moment, settings.timezone)
