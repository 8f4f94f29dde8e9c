"""The part of `kpibot status` about the running service, for the operator and the commissioner.

When each task of `kpibot run` last ran (so a stopped service is visible), channels whose sending is paused and
why, messages that failed or were cut off (nothing is dropped without someone seeing it), files refused as
possible personal data (that they exist, never what they hold), and each channel's own lines.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from bot.app import App
from bot.commands.common import plural
from bot.outbox.listing import needing_attention
from bot.processes.heartbeats import heartbeats
from bot.storage.models import StoredFile, Submission
from kpi_core.formatting import ago

# A task whose last run is older than this (several of its intervals) is reported as not running.
STALE = {"resume": timedelta(minutes=10), "render": timedelta(minutes=5), "outbox": timedelta(minutes=5),
         "purge": timedelta(hours=3)}
DEFAULT_STALE = timedelta(minutes=30)


def _scheduler(app: App, now: datetime) -> list[str]:
    from jobs.status import SWEEP, chasing_line, scheduler_lines

    swept = scheduler_lines(app.engine, app.settings, now) if SWEEP in heartbeats(app.engine) else []
    return [*swept, chasing_line(app.engine, app.settings)]


def _service(app: App, now: datetime) -> list[str]:
    from jobs.status import SWEEP

    beats = {name: beat for name, beat in heartbeats(app.engine).items() if name != SWEEP}  # shown above
    if not beats:
        return ["Service: `kpibot run` has never run against this database: nothing is delivered, drawn or "
                "swept on its own, and no reminders, overdue notices, escalations or reports go out (run it, or "
                "`kpibot outbox send` by hand)."]
    lines = []
    for name, beat in sorted(beats.items()):
        age = now - beat.at
        late = age > STALE.get(name, DEFAULT_STALE)
        fault = " (its last run failed: see the service log)" if beat.detail.get("found") == -1 else ""
        lines.append(f"  {name:<10} last ran {ago(age)}{' - NOT RUNNING' if late else ''}{fault}")
    stopped = any(now - b.at > STALE.get(n, DEFAULT_STALE) for n, b in beats.items())
    head = "Service: NOT RUNNING for some tasks, check `kpibot run`" if stopped else "Service: every task ran recently"
    return [head, *lines]


def _outbox(app: App, now: datetime) -> list[str]:
    from bot.outbox.pauses import disabled_lines, status_lines

    lines = status_lines(app.engine, app.settings.timezone) + disabled_lines(app.engine)
    rows = needing_attention(app.engine)
    if not rows:
        return lines
    lines += [f"Messages needing attention: {plural(len(rows), 'message')} failed or interrupted "
             "(`kpibot outbox list`, then `kpibot outbox retry ID`):"]
    lines += [f"  {r.id}: {r.kind} to {r.address} ({r.channel}), {r.state}: {r.note[:100]}" for r in rows[:10]]
    if len(rows) > 10:
        lines.append(f"  ... and {len(rows) - 10} more")
    return lines


def _refused(app: App, now: datetime) -> list[str]:
    """Files kept restricted: refused as possible personal data, and sent by addresses kpibot does not know (an
    operator's matter: no council can be told of a sender who is no one's)."""
    with Session(app.engine) as session:
        quarantined = session.exec(select(func.count()).select_from(Submission).where(
            Submission.status == "quarantined", col(Submission.received_at) >= now - timedelta(days=365))).one()
        unknown = session.exec(select(Submission.sha256).where(
            col(Submission.sender_contact_id).is_(None), col(Submission.reason).startswith("unknown sender"),
            col(Submission.received_at) >= now - timedelta(days=app.settings.intake.quarantine_days))).all()
        held = session.exec(select(func.count()).select_from(StoredFile).where(
            col(StoredFile.restricted) == True, col(StoredFile.purged_at).is_(None))).one()  # noqa: E712
    lines = []
    if quarantined:
        lines.append(f"Refused as possible personal data in the last year: {plural(quarantined, 'file')}; their "
                     "content is never shown.")
    if unknown:
        dropped = sum(1 for sha in unknown if sha is None)
        lines.append(f"From unknown senders in the last {app.settings.intake.quarantine_days} days: "
                     f"{plural(len(unknown), 'file')}" + (f" ({dropped} not kept: the cap of "
                     f"{app.settings.intake.unknown_sender_max_files} held files was reached)" if dropped else "")
                     + "; add the sender to config.toml if they should submit.")
    if lines:
        lines.append(f"Restricted files still held until purged: {held}.")
    return lines


def _channels(app: App, now: datetime) -> list[str]:
    from bot.channels.email.status import status_lines as email_lines
    from bot.channels.teams.status import status_lines as teams_lines
    from bot.channels.telegram.linking import status_lines as telegram_lines

    return [*telegram_lines(app.engine, now), *email_lines(app.engine, app.settings, now),
            *teams_lines(app.engine, app.settings, now)]


SECTIONS: list[Callable[[App, datetime], list[str]]] = [_scheduler, _service, _outbox, _refused, _channels]


def service_lines(app: App, now: datetime) -> list[str]:
    lines: list[str] = []
    for section in SECTIONS:
        found = section(app, now)
        if found:
            lines += ["", *found]
    return lines


