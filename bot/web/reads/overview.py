"""The commissioners' overview: contracts x quarters, each cell the return's state and its RAG counts, and beside
the grid what needs them: late returns, returns waiting for review, open queries, action plans overdue and
requests outstanding.

Five queries whatever the size of the grid: contracts, obligations, their versions, the result counts of the
versions in force, and the reviews; and a few more for the panels, however many plans and requests there are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot.assessment.plans import day_text, plan_views
from bot.assessment.reviews import waiting
from bot.authz.policy import visible_contracts
from bot.plans.requests import requests_for
from bot.reports import display
from bot.reports.context import CountView
from bot.reports.status import status_view
from bot.storage.db import fetch_rows
from bot.storage.models import Contact, Contract, IndicatorResultRow, Obligation, Organisation, Submission
from bot.web.reads.reviews import ReviewState, review_states
from bot.web.reads.states import StateView, state_of
from kpi_core.calendar import parse_period
from kpi_core.formatting import plural

COLUMNS = 8  # quarters shown, the latest that have begun
PANEL_ITEMS = 10  # lines a panel beside the grid shows until all are asked for: it is read at a glance
COUNT_ORDER = ("red", "amber", "green", "no_data", "info")


@dataclass(frozen=True)
class Column:
    """A calendar quarter: each contract's return whose period ends in it is shown there (contracts whose
    reporting years start in other months line up by when their quarters end)."""

    key: tuple[int, int]  # (year, calendar quarter 1-4) of the periods' end
    label: str  # `Q2 2025-26` when every contract calls it that, else `July to September 2025`
    span: str  # `July to September 2025` under a period's name, else ''



@dataclass(frozen=True)
class Cell:
    obligation_id: int
    period_label: str  # `Q2 2025-26 (July 2025 to September 2025)`
    own_label: str  # the contract's own name for the period, when it is not the column's: `Q1 2025-26`
    state: StateView
    counts: tuple[CountView, ...]
    version: int | None


@dataclass(frozen=True)
class GridRow:
    contract_id: str
    contract_name: str
    provider_name: str
    cells: tuple[Cell | None, ...]  # one per column: None when the contract owed no return for that quarter


@dataclass(frozen=True)
class Item:
    """A line beside the grid: a return and what stands about it."""

    obligation_id: int
    contract_name: str
    period_label: str
    detail: str
    href: str = ""  # where the line leads when it is not a return (an action plan, a request)


@dataclass(frozen=True)
class Panel:
    title: str
    items: tuple[Item, ...]  # the first PANEL_ITEMS, unless all were asked for
    empty: str  # what to say when there is nothing
    total: int = 0


@dataclass(frozen=True)
class Overview:
    columns: tuple[Column, ...]
    rows: tuple[GridRow, ...]
    panels: tuple[Panel, ...]
    today: date

    def csv_rows(self) -> list[list[str]]:
        """The grid as a table: one row per contract and quarter."""
        out = [["contract", "provider", "quarter", "state", "detail", "version", "red", "amber", "green",
                "no data", "info"]]
        for row in self.rows:
            for column, cell in zip(self.columns, row.cells):
                if cell is None:
                    continue
                counts = {c.status.key: c.count for c in cell.counts}
                out.append([row.contract_name, row.provider_name, column.label, cell.state.word, cell.state.detail,
                            "" if cell.version is None else str(cell.version),
                            *(str(counts.get(k, 0)) for k in COUNT_ORDER)])
        return out


@dataclass
class _Facts:
    """What the queries found, by obligation."""

    accepted: dict[int, Sent]
    latest: dict[int, Sent]
    counts: dict[int, dict[str, int]]
    reviews: dict[int, ReviewState]


@dataclass(frozen=True, slots=True)
class Sent:
    """What the grid needs of a version (plain columns: hundreds of ORM objects a page cost more than the SQL)."""

    id: int
    status: str
    version: int | None


def _facts(session: Session, obligation_ids: list[int]) -> _Facts:
    accepted: dict[int, Sent] = {}
    latest: dict[int, Sent] = {}
    if obligation_ids:
        subs = session.exec(select(col(Submission.obligation_id), col(Submission.id), col(Submission.status),
                                   col(Submission.version))
                            .where(col(Submission.obligation_id).in_(obligation_ids),
                                   col(Submission.version).is_not(None))
                            .order_by(col(Submission.received_at), col(Submission.id))).all()
        for obligation_id, sub_id, status, version in subs:
            assert obligation_id is not None and sub_id is not None
            latest[obligation_id] = found = Sent(sub_id, status, version)
            if status == "accepted":
                accepted[obligation_id] = found
    by_submission = {s.id: o for o, s in accepted.items()}
    counts: dict[int, dict[str, int]] = {}
    if by_submission:
        rows = session.exec(select(IndicatorResultRow.submission_id, IndicatorResultRow.status, func.count())
                            .where(col(IndicatorResultRow.submission_id).in_(list(by_submission)))
                            .group_by(col(IndicatorResultRow.submission_id), col(IndicatorResultRow.status))).all()
        for submission_id, status, count in rows:
            counts.setdefault(by_submission[submission_id], {})[status] = count
    return _Facts(accepted, latest, counts, review_states(session, obligation_ids))


def count_views(counts: dict[str, int]) -> tuple[CountView, ...]:
    return tuple(CountView(status_view(s), counts[s]) for s in COUNT_ORDER if counts.get(s))


@dataclass(frozen=True, slots=True)
class Owed:
    """What the grid needs of an obligation (plain columns, like `Sent`)."""

    id: int
    contract_id: str
    period_id: str
    period_end: date
    due_date: date
    first_accepted_at: datetime | None


def cell_state(obligation: Owed, facts: _Facts, today: date, zone_day: date | None) -> StateView:
    """`zone_day`: the council's day the return was first accepted (for how late it arrived)."""
    accepted = obligation.id in facts.accepted
    review = facts.reviews.get(obligation.id)
    latest = facts.latest.get(obligation.id)
    late = (zone_day - obligation.due_date).days if zone_day and zone_day > obligation.due_date else None
    return state_of(obligation.due_date, today, accepted, review.state if review else None,
                    latest.status if latest else None, late)


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_span(key: tuple[int, int]) -> str:
    """`July to September 2025`."""
    year, quarter = key
    first, last = date(year, quarter * 3 - 2, 1), date(year, quarter * 3, 1)
    return f"{first:%B} to {last:%B %Y}"


def overview(session: Session, contact: Contact, today: date, zone: str, return_type: str = "quarterly",
             limit: int | None = PANEL_ITEMS) -> Overview:
    """The grid of the contracts `contact` may see, with the latest COLUMNS quarters that have begun."""
    from bot.assessment.submission_kpis import local_date

    contracts = visible_contracts(session, contact)
    ids = [c.id for c in contracts]
    names = dict(session.exec(select(Organisation.id, Organisation.name)).all())
    found: Sequence[Sequence[Any]] = fetch_rows(session, sa.select(
        col(Obligation.id), col(Obligation.contract_id), col(Obligation.period_id), col(Obligation.period_end),
        col(Obligation.due_date), col(Obligation.first_accepted_at))
        .where(col(Obligation.contract_id).in_(ids), col(Obligation.return_type) == return_type,
               col(Obligation.period_start) <= today)
        .order_by(col(Obligation.period_start))) if ids else []
    obligations = [Owed(*row) for row in found]
    keys = sorted({quarter_of(o.period_end) for o in obligations})[-COLUMNS:]
    kept = [o for o in obligations if quarter_of(o.period_end) in keys]
    facts = _facts(session, [o.id for o in kept])
    by_contract = {c.id: c for c in contracts}
    names_of: dict[tuple[int, int], Counter[str]] = {k: Counter() for k in keys}
    labels: dict[int, str] = {}
    for o in kept:
        labels[o.id] = parse_period(o.period_id, by_contract[o.contract_id].year_start_month).label
        names_of[quarter_of(o.period_end)][labels[o.id].split(" (")[0]] += 1
    # A quarter every contract calls by the same name is headed by it; otherwise by its months, and each cell
    # says what its own contract calls it.
    columns = {k: Column(k, *((next(iter(names_of[k])), quarter_span(k)) if len(names_of[k]) == 1
                              else (quarter_span(k), ""))) for k in keys}
    cells: dict[tuple[str, tuple[int, int]], Cell] = {}
    late: list[Item] = []
    for o in kept:
        contract = by_contract[o.contract_id]
        key = quarter_of(o.period_end)
        own = labels[o.id].split(" (")[0]
        first = o.first_accepted_at
        state = cell_state(o, facts, today, local_date(first, zone) if first else None)
        sub = facts.accepted.get(o.id)
        cells[(o.contract_id, key)] = Cell(o.id, labels[o.id], "" if own == columns[key].label else own, state,
                                           count_views(facts.counts.get(o.id, {})), sub.version if sub else None)
        period_label = labels[o.id]
        if state.key == "late":
            late.append(Item(o.id, contract.name, period_label, state.detail))
    ordered = tuple(columns[k] for k in keys)
    rows = tuple(GridRow(c.id, c.name, names.get(c.provider_id, c.provider_id),
                         tuple(cells.get((c.id, col_.key)) for col_ in ordered)) for c in contracts)
    late.sort(key=lambda i: i.obligation_id)
    council, providers = waiting_panels(session, by_contract, today, zone)
    panels = (
        Panel(f"Late returns ({len(late)})", tuple(late[:limit]), "No return is late.", len(late)),
        Panel(f"Waiting for review ({len(council)})", council[:limit], "Nothing waits for review.", len(council)),
        Panel(f"Open queries ({len(providers)})", providers[:limit], "No query is open.", len(providers)),
        *followup_panels(session, contact, by_contract, today, limit),
    )
    return Overview(ordered, rows, panels, today)


def waiting_panels(session: Session, contracts: dict[str, Contract], today: date,
                   zone: str) -> tuple[tuple[Item, ...], tuple[Item, ...]]:
    """What waits for the council's review, and the queries waiting for providers' answers, oldest first, of any
    return of the contracts (bot/assessment/reviews.py says what waits on whom)."""
    council, providers = [], []
    for w in waiting(session, list(contracts)):
        label = parse_period(w.period_id, contracts[w.contract_id].year_start_month).label
        if w.on == "council":
            what = "query answered: waiting for review" if w.state == "answered" else "waiting for review"
            council.append(Item(w.obligation_id, w.contract_name, label,
                                f"version {w.version}: {what} since {display.moment(w.since, zone)}"))
        else:
            by = f", to be answered by {display.day(w.respond_by)}" if w.respond_by else ""
            overdue = " (overdue)" if w.overdue(today) else ""
            reason = w.reason if len(w.reason) <= 140 else w.reason[:139] + "…"
            providers.append(Item(w.obligation_id, w.contract_name, label, f"“{reason}”{by}{overdue}"))
    return tuple(council), tuple(providers)


def followup_panels(session: Session, contact: Contact, contracts: dict[str, Contract], today: date,
                    limit: int | None) -> tuple[Panel, Panel]:
    """Action plans overdue (not completed by their deadline, or agreed with an action past its date:
    bot/assessment/plans.py says which), and requests outstanding, overdue first, of `contracts` (the ones
    `contact` sees). Three queries whatever the number of contracts."""
    late = []
    for p in plan_views(session, today, list(contracts)):
        if p.overdue:
            detail = f"not completed: it was due by {day_text(p.respond_by)}"
        elif p.overdue_actions:
            detail = f"{plural(len(p.overdue_actions), 'action')} overdue: " + "; ".join(
                f"{a.what} ({a.who}), by {a.when}" for a in p.overdue_actions[:2])
        else:
            continue
        late.append(Item(0, p.contract_name, f"action plan {p.id}: {p.ref} {p.title}", detail, f"/plans/{p.id}"))
    asked = []
    for r in sorted(requests_for(session, contact), key=lambda r: (r.due, r.id or 0)):
        contract = contracts.get(r.contract_id)
        overdue = " (overdue)" if r.due < today else ""
        asked.append(Item(0, contract.name if contract else r.contract_id, f"request {r.id}: {r.what}",
                          f"to be answered by {day_text(r.due)}{overdue}", f"/requests#request-{r.id}"))
    return (Panel(f"Action plans overdue ({len(late)})", tuple(late[:limit]), "No action plan is overdue.", len(late)),
            Panel(f"Requests outstanding ({len(asked)})", tuple(asked[:limit]), "No request waits for an answer.",
                  len(asked)))


def summary(view: Overview) -> str:
    """`3 late returns · 2 waiting for review · 1 open query · 2 action plans overdue · 0 requests outstanding`."""
    late, waiting, queries, plans, asked = (p.total for p in view.panels[:5])
    return " · ".join((plural(late, "late return"), f"{waiting} waiting for review",
                       plural(queries, "open query", "open queries"), plural(plans, "action plan") + " overdue",
                       plural(asked, "request") + " outstanding"))
