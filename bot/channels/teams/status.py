"""The Teams part of `kpibot status`: each `[[teams]]` channel, whether kpibot can post to it, when it last did,
and a channel whose last card failed for good (the workflow deleted, the URL refused) with what to do."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot import config
from bot.storage.models import OutboxMessage
from kpi_core.formatting import plural


def status_lines(engine: sa.Engine, settings: config.Settings, now: datetime) -> list[str]:
    """Lines for `kpibot status` (none when no [[teams]] entry is configured)."""
    if not settings.teams:
        return []
    zone = ZoneInfo(settings.timezone)
    names = {t.name for t in settings.teams}
    with Session(engine) as session:
        query = select(OutboxMessage.address, OutboxMessage.status, func.count(),  # type: ignore[call-overload]
                       func.max(OutboxMessage.sent_at), func.max(OutboxMessage.id))
        rows = session.exec(query.where(OutboxMessage.channel == "teams", col(OutboxMessage.address).in_(names))
                            .group_by(OutboxMessage.address, OutboxMessage.status)).all()
        latest_ids: dict[str, int] = {}
        for address, _, _, _, last_id in rows:
            latest_ids[address] = max(latest_ids.get(address, 0), last_id)
        latest = {m.address: m for m in session.exec(select(OutboxMessage).where(
            col(OutboxMessage.id).in_(list(latest_ids.values()))))}
    counts = {(address, status): count for address, status, count, _, _ in rows}
    posted = {address: sent for address, status, _, sent, _ in rows if status == "sent"}
    organisations = {o.id: o.name for o in settings.organisations}
    lines = ["", f"Teams: {plural(len(settings.teams), 'channel')}"]
    for entry in settings.teams:
        scope = ", ".join(entry.contracts) if entry.contracts else "every contract"
        head = f"  {entry.name} ({organisations.get(entry.organisation, entry.organisation)}, {scope})"
        if not settings.teams_urls.get(entry.name):
            lines.append(f"{head}: OFF: {entry.url_env} is not set in this environment, so nothing is queued for "
                         "it (set it where `kpibot run` runs)")
            continue
        last = latest.get(entry.name)
        if last is not None and last.status in ("failed", "interrupted"):
            failed = counts.get((entry.name, "failed"), 0) + counts.get((entry.name, "interrupted"), 0)
            lines.append(f"{head}: FAILING: the last card ({last.kind}) {last.status}: {last.last_error[:200]}; "
                         f"{plural(failed, 'card')} not posted (`kpibot outbox list`, then `kpibot outbox retry ID` "
                         "once it is mended)")
            continue
        when = posted.get(entry.name)
        said = f"last card posted {when.astimezone(zone):%d %b %Y %H:%M}" if when else "no card posted yet"
        waiting = counts.get((entry.name, "pending"), 0) + counts.get((entry.name, "sending"), 0)
        lines.append(f"{head}: {said}; {plural(waiting, 'card')} waiting.")
    return lines
