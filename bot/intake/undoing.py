"""A new version whose figures are an earlier, corrected version's: it would undo the corrections made since.

Version 1, then a corrected version 2, then version 1's file again must not quietly become version 3. Before a
version is saved, its figures for the period are compared with those of the versions accepted before it: when they
are the same as an earlier version's that was replaced, and not the same as the version in force, the file would
undo the corrections made after that version. The intake decides what then happens, the same for every channel:

- in a chat (Telegram), where the sender can answer at once, kpibot asks before saving anything: use these figures
  and undo the corrections, or keep the version in force;
- by email or the command line it cannot ask first, so the version is saved with a warning in its reply, findings
  and report, and the contract's commissioners are told.

Either way, a version that undoes corrections is never saved without the commissioners being told.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from fractions import Fraction
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.assessment.in_context import Assessed
from bot.authz.policy import may_see
from bot.outbox.addressing import channel_of
from bot.processes import leases
from bot.reports.templating import render_text  # no WeasyPrint: text needs none
from bot.storage.audit import record
from bot.storage.db import insert_ignore, table_of, write_session
from bot.storage.history_read import Earlier
from bot.storage.models import Contact, Contract, DataValue, OutboxMessage, Submission
from kpi_core import formatting
from kpi_core.findings import Finding
from kpi_core.framework.model import Framework
from kpi_core.values import Key

ASKS = frozenset({"telegram"})  # channels where the sender can answer a question before anything is saved
SHOWN = 6  # corrections listed by name; the rest are counted
CODE = "undoes_correction"


@dataclass(frozen=True)
class Change:
    label: str  # the framework's words: `Number setting a quit date (Age band: Under 18)`
    corrected: str  # the figure in the version in force
    again: str  # the figure in the new file (the earlier version's)


@dataclass(frozen=True)
class Undo:
    same_as: int  # the earlier version whose figures these are
    same_as_at: datetime
    in_force: int  # the version in force, whose corrections would be undone
    in_force_at: datetime
    changes: tuple[Change, ...]  # every figure that would go back

    def summary(self, zone: str) -> str:
        """`the same as version 1's (received 3 November 2026): they undo the corrections version 2 made (received
        10 November 2026)`."""
        return (f"the same as version {self.same_as}'s (received {_day(self.same_as_at, zone)}): they undo the "
                f"corrections version {self.in_force} made (received {_day(self.in_force_at, zone)})")

    def lines(self) -> list[str]:
        """One line per figure that would go back, the first few by name."""
        shown = [f"- {c.label}: {c.corrected} in version {self.in_force}, {c.again} in this file"
                 for c in self.changes[:SHOWN]]
        if len(self.changes) > SHOWN:
            shown.append(f"- and {formatting.plural(len(self.changes) - SHOWN, 'other figure')}")
        return shown

    def finding(self, zone: str, confirmed: bool) -> Finding:
        """The warning the new version carries in its reply, findings and report."""
        who = "You confirmed it; the" if confirmed else "The"
        return Finding("warning", CODE, f"These figures are {self.summary(zone)}: "
                       + "; ".join(f"{c.label} {c.corrected} → {c.again}" for c in self.changes[:SHOWN])
                       + (f"; and {formatting.plural(len(self.changes) - SHOWN, 'other figure')}"
                          if len(self.changes) > SHOWN else "")
                       + f". {who} commissioner has been told", fix=f"If this file was sent by mistake, send the "
                       f"corrected return (version {self.in_force}'s figures) again.")

    def question(self, filename: str, contract_name: str, period_label: str, zone: str) -> str:
        """What a chat asks before anything is saved."""
        return "\n".join([f"⚠️ {filename}: these figures for {contract_name}, {period_label} are {self.summary(zone)}:",
                          *self.lines(), "",
                          f"Use these figures anyway, undoing version {self.in_force}'s corrections? The "
                          f"commissioner will be told. Or keep version {self.in_force} as it is."])


def undoing(session: Session, obligation_id: int | None, period_id: str, framework: Framework,
            values: dict[Key, Fraction], read: Iterable[Earlier] | None = None) -> Undo | None:
    """How a new version with `values` for its period would undo corrections, or None when it would not. `read`
    is the return's versions and figures (as `_versions` reads them) when read already in this transaction."""
    provider = {i.id for i in framework.items if i.source == "provider"}
    mine = {k: v for k, v in values.items() if k[0] in provider}
    versions, figures = _versions(session, obligation_id, period_id, provider, read)
    in_force = next((s for s in versions if s.status == "accepted"), None)
    if in_force is None:
        return None
    current = figures.get(in_force.id or 0, {})
    if mine == current:
        return None  # nothing would change
    earlier = next((s for s in versions if s.status == "superseded" and (s.version or 0) < (in_force.version or 0)
                    and figures.get(s.id or 0) == mine), None)
    if earlier is None:
        return None
    assert earlier.version is not None and in_force.version is not None
    changes = tuple(Change(_label(framework, key), _figure(current.get(key)), _figure(mine.get(key)))
                    for key in sorted(set(current) | set(mine), key=lambda k: _order(framework, k))
                    if current.get(key) != mine.get(key))
    return Undo(earlier.version, earlier.received_at, in_force.version, in_force.received_at, changes)


def tell_commissioners(session: Session, contract: Contract, provider_name: str, undo: Undo, version: int,
                       submission_id: int | None, received_at: datetime, channel: str, confirmed: bool,
                       telegram: bool, zone: str, period_label: str, return_label: str) -> int:
    """Queue a notice to each commissioner who may see `contract` that version `version` undid corrections;
    return how many. Written in the transaction that saves the version."""
    council = session.exec(select(Contact).where(Contact.organisation_id == contract.commissioner_id,
                                                 Contact.role == "commissioner", Contact.active == True)  # noqa: E712
                           .order_by(col(Contact.id))).all()
    context: dict[str, Any] = dict(contract=contract.name, provider=provider_name, version=version, period=period_label,
                   return_label=return_label, received=_day(received_at, zone), summary=undo.summary(zone),
                   lines=undo.lines(), confirmed=confirmed, by=_channel_words(channel), in_force=undo.in_force)
    rows = []
    for person in council:
        where = channel_of(person, telegram) if may_see(session, person, contract.id) else None
        if where is None:
            continue
        kind, address = where
        body = render_text(f"messages/undone_correction.{'email' if kind == 'email' else 'telegram'}.txt",
                           name=person.name, **context).strip()
        subject = render_text("messages/undone_correction.email-subject.txt", **context).strip() \
            if kind == "email" else ""
        rows.append(dict(dedupe_key=f"undo:submission:{submission_id}:c{person.id}:{kind}", created_at=received_at,
                         contact_id=person.id, channel=kind, address=address, kind="notice", subject=subject[:300],
                         body_text=body + "\n" if kind == "email" else body, status="pending", attempts=0,
                         next_attempt_at=received_at, parts_sent=0, last_error="",
                         headers={"Auto-Submitted": "auto-generated"} if kind == "email" else {}))
    return insert_ignore(session, OutboxMessage, rows)


def with_warning(assessed: Assessed, finding: Finding) -> Assessed:
    """The assessment with the warning added to its findings (after its errors, before its other warnings)."""
    a = assessed.assessment
    errors = tuple(f for f in a.findings if f.is_error)
    return replace(assessed, assessment=replace(a, findings=(*errors, finding, *(f for f in a.findings
                                                                                   if not f.is_error))))


def resume(engine: sa.Engine, submission_id: int, actor: str, now: datetime, lease_seconds: float) -> bool:
    """Take a file held for confirmation back into processing, with the confirmation on the record; False when it
    is no longer waiting (answered already)."""
    with write_session(engine) as session:
        resumed = session.execute(
            sa.update(Submission).where(col(Submission.id) == submission_id, col(Submission.status) == "confirming")
            .values(status="received", lease_owner=leases.me(), lease_until=leases.until(now, lease_seconds)))
        if resumed.rowcount:  # type: ignore[attr-defined]
            record(session, now, actor, "submission_confirmed", f"submission:{submission_id}")
        session.commit()
        return bool(resumed.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Version:
    id: int
    status: str
    version: int
    received_at: datetime


def _versions(session: Session, obligation_id: int | None, period_id: str, provider: set[str],
              read: Iterable[Earlier] | None = None) -> tuple[list[_Version], dict[int, dict[Key, Fraction]]]:
    """The return's accepted and superseded versions, newest first, and each one's provider figures for the
    period: one statement of plain rows (unless `read` already)."""
    s, v = table_of(Submission), table_of(DataValue)
    versions: dict[int, _Version] = {}
    figures: dict[int, dict[Key, Fraction]] = {}
    if read is None:
        read = cast("Iterable[Earlier]", session.execute(  # rows unpack as tuples (Result.tuples is deprecated)
            sa.select(s.c.id, s.c.status, s.c.version, s.c.received_at, v.c.item_id, v.c.breakdown, v.c.exact)
            .select_from(s.outerjoin(v, sa.and_(v.c.submission_id == s.c.id, v.c.period_id == period_id)))
            .where(s.c.obligation_id == obligation_id, s.c.status.in_(("accepted", "superseded")),
                   s.c.version.is_not(None))))
    for sid, status, version, received_at, item_id, breakdown, exact in read:
        if sid not in versions:
            versions[sid] = _Version(sid, status, version, received_at)
            figures[sid] = {}
        if item_id is not None and item_id in provider:  # a value's row: none of its columns is null
            assert breakdown is not None and exact is not None
            figures[sid][(item_id, breakdown)] = Fraction(exact)
    return sorted(versions.values(), key=lambda x: -x.version), figures


def _label(framework: Framework, key: Key) -> str:
    """A figure named in the framework's words: the item's label, and each breakdown's category."""
    item_id, breakdown = key
    item = next((i for i in framework.items if i.id == item_id), None)
    label = item.label if item is not None else item_id
    parts = []
    for part in filter(None, breakdown.split(",")):
        dimension, _, category = part.partition("=")
        found = framework.disaggregations.get(dimension)
        parts.append(f"{found.label}: {found.categories.get(category, category)}" if found else category)
    return f"{label} ({', '.join(parts)})" if parts else label


def _order(framework: Framework, key: Key) -> tuple[int, str]:
    ids = [i.id for i in framework.items]
    return (ids.index(key[0]) if key[0] in ids else len(ids), key[1])


def _figure(value: Fraction | None) -> str:
    return "blank" if value is None else formatting.number(value)


def _day(moment: datetime, zone: str) -> str:
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local.day} {local:%B %Y}"


def _channel_words(channel: str) -> str:
    return {"telegram": "in Telegram", "email": "by email", "cli": "through kpibot's administrator"}.get(channel, "")
