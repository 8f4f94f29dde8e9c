"""What the outbox holds, for people: `kpibot outbox list`, `outbox send` and `kpibot status`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot.storage.models import OutboxMessage, RenderJob
from kpi_core.formatting import plural

STATE_ORDER = ("pending", "sending", "failed", "interrupted", "sent")


@dataclass(frozen=True)
class Row:
    id: int
    kind: str
    channel: str
    address: str
    state: str  # pending | waiting for its PDF | sending | sent | failed | interrupted
    attempts: int
    note: str  # the next attempt, or the last error

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _state(message: OutboxMessage, job: RenderJob | None) -> tuple[str, str]:
    if message.status == "pending" and job is not None and job.status in ("pending", "rendering"):
        return "waiting for its PDF", ""
    if message.status == "pending":
        note = f"next try {message.next_attempt_at:%d %b %Y %H:%M} UTC" if message.attempts else ""
        return "pending", "; ".join(x for x in (note, message.last_error[:120]) if x)
    return message.status, message.last_error[:160]


def listing(engine: sa.Engine, statuses: tuple[str, ...], limit: int) -> list[Row]:
    with Session(engine) as session:
        found = session.exec(
            select(OutboxMessage, RenderJob).outerjoin(RenderJob, col(RenderJob.id) == OutboxMessage.render_job_id)
            .where(col(OutboxMessage.status).in_(statuses)).order_by(col(OutboxMessage.id).desc()).limit(limit)).all()
        rows = []
        for message, job in found:
            state, note = _state(message, job)
            rows.append(Row(message.id or 0, message.kind, message.channel, message.address, state,
                            message.attempts, note))
        return rows


def counts(engine: sa.Engine) -> dict[str, int]:
    """How many messages the outbox holds in each state."""
    with Session(engine) as session:
        return dict(session.exec(select(OutboxMessage.status, func.count())
                                 .group_by(col(OutboxMessage.status))).all())


def left_out(counts: dict[str, int], statuses: tuple[str, ...], shown: int) -> str:
    """What a listing of `statuses` did not show, in words (empty when it showed everything)."""
    parts = []
    listed = sum(counts.get(s, 0) for s in statuses)
    if listed > shown:
        parts.append(f"the newest {shown} of {listed} are shown (--limit {listed} shows them all)")
    hidden = sorted((s for s, n in counts.items() if n and s not in statuses), key=_in_order)
    if hidden:
        parts.append(f"not shown: {', '.join(f'{counts[s]} {s}' for s in hidden)} (add "
                     f"{' '.join(f'--status {s}' for s in hidden)}, or use --all)")
    return "; ".join(parts)


def _in_order(status: str) -> int:
    return STATE_ORDER.index(status) if status in STATE_ORDER else len(STATE_ORDER)


def statuses(engine: sa.Engine) -> dict[int, str]:
    with Session(engine) as session:
        return {i: s for i, s in session.exec(select(col(OutboxMessage.id), col(OutboxMessage.status)).where(
            col(OutboxMessage.status) != "sent")) if i is not None}  # a stored row always has its id


def needing_attention(engine: sa.Engine) -> list[Row]:
    """Failed and interrupted messages: nothing is dropped without an operator seeing it."""
    return listing(engine, ("failed", "interrupted"), 1000)


def delivery_summary(engine: sa.Engine, before: dict[int, str], now: datetime) -> str:
    """What one `outbox send` did: sent, failed, waiting, and to whom."""
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage).where(col(OutboxMessage.id).in_(set(before)))).all()
    sent = [m for m in rows if m.status == "sent"]
    failed = [m for m in rows if m.status in ("failed", "interrupted") and before.get(m.id or 0) != m.status]
    waiting = [m for m in rows if m.status == "pending"]
    lines = [f"{plural(len(sent), 'message')} sent, {len(failed)} failed, {len(waiting)} waiting."]
    lines += [f"  sent: {m.kind} to {m.address} ({m.channel})" for m in sent[:20]]
    lines += [f"  failed: {m.kind} to {m.address} ({m.channel}): {m.last_error[:120]}" for m in failed[:20]]
    later = [m for m in waiting if m.next_attempt_at > now]
    if later:
        first = min(m.next_attempt_at for m in later)
        lines.append(f"  {plural(len(later), 'message')} will be tried again from {first:%d %b %Y %H:%M} UTC.")
    return "\n".join(lines)
