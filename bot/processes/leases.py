"""Who is working on a row, and whether they still are.

A submission being processed, a report being drawn and a message being sent each carry a lease: an owner (this
host and process) and an expiry. Another process may take the work over once the lease has run out, or at once
when the owner is a process on this host that no longer exists (killed, crashed), so a restarted service resumes
what a killed one left without waiting out the lease.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path


def _start_ticks(pid: int) -> str | None:
    """When the process started (clock ticks since boot), to tell a live process from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


@cache
def _identity(pid: int) -> str:
    return f"{socket.gethostname()[:60]}:{pid}:{_start_ticks(pid) or '?'}"


def me() -> str:
    """This process as a lease owner: host, pid and start time (a forked child is a new owner)."""
    return _identity(os.getpid())


def owner_gone(owner: str | None) -> bool:
    """True when `owner` is a process on this host that is no longer running. Owners on other hosts are never
    judged gone here: their leases simply run out."""
    if not owner:
        return True
    parts = owner.split(":")
    if len(parts) < 3:
        return False
    host, pid_text, ticks = ":".join(parts[:-2]), parts[-2], parts[-1]
    if host != socket.gethostname()[:60] or not pid_text.isdigit():
        return False
    if owner == me():
        return False
    return _start_ticks(int(pid_text)) != ticks


def expired(lease_until: datetime | None, owner: str | None, now: datetime) -> bool:
    """May another process take this work over? (Work released with no owner but a time, `lease_until`, waits
    until then: e.g. an upload whose file could not be fetched yet.)"""
    if lease_until is None or lease_until <= now:
        return True
    return owner is not None and owner_gone(owner)


def until(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
