"""Draw the PDF reports replies wait for, off the submit path.

The intake commits the assessment and the reply's text at once, with a render job; this queue draws the PDF
afterwards, so a burst of returns is never serialised behind WeasyPrint and no database lock is held while it
draws. Each job is claimed with a lease (a killed renderer's job is taken over), retried with back-off when
drawing fails, and failed for good after a few attempts: the messages waiting for it then go with their text alone
(`OutboxMessage.fallback_text`), so a render fault never loses a reply.

A report is drawn from pinned inputs (the submission and the versions of earlier periods it was judged with), so
the PDF says what the reply said. The same inputs give the same PDF: it is kept once and reused (`cache_key`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime, timedelta
from functools import cache, partial
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.assessment.in_context import assess_in_context, framework_for, terms_of
from bot.clock import utc_now
from bot.processes import leases
from bot.reports.isolated import RenderPool
from bot.storage.audit import record
from bot.storage.db import insert_ignore, retrying, write_session
from bot.storage.files import FileStore
from bot.storage.models import (
    Contract,
    Obligation,
    Organisation,
    RenderedReport,
    RenderJob,
    StoredFile,
    Submission,
)
from kpi_core.calendar import parse_period
from kpi_core.findings import Finding
from kpi_core.returns.reader import read_return

log = logging.getLogger(__name__)
LEASE_SECONDS = 180.0
MAX_ATTEMPTS = 4
BACKOFF = timedelta(seconds=30)
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


@cache
def renderer_fingerprint() -> str:
    """What else a report's look depends on: kpibot's version and its templates (a change draws anew)."""
    digest = hashlib.sha256()
    try:
        digest.update(version("kpibot").encode())
    except PackageNotFoundError:
        pass
    for path in sorted(TEMPLATES.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(TEMPLATES).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_key(kind: str, submission: Submission, framework_version: str, inputs: dict[str, Any]) -> str:
    material = json.dumps({"kind": kind, "submission": submission.id, "sha256": submission.sha256,
                           "version": submission.version, "framework": framework_version, "inputs": inputs,
                           "renderer": renderer_fingerprint()}, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()


class RenderQueue:
    def __init__(self, engine: sa.Engine, settings: config.Settings, files: FileStore,
                 clock: Callable[[], datetime] = utc_now, render: Callable[[object], bytes] | None = None,
                 pool: RenderPool | None = None) -> None:
        """Reports are laid out by `pool` (worker processes, bounded in time and memory, several at once), or by
        `render` (a ReturnReport in, PDF bytes out) in this process; without either, in this process by
        WeasyPrint."""
        self.engine, self.settings, self.files, self.clock = engine, settings, files, clock
        self._render = render
        self.pool = pool

    def run_once(self, limit: int = 20) -> int:
        """Draw up to `limit` due reports (as many at once as the pool has workers); return how many jobs were
        worked on."""
        done = 0
        width = self.pool.size if self.pool is not None else 1
        with ThreadPoolExecutor(max_workers=width, thread_name_prefix="render") as threads:
            while done < limit:
                claimed: list[int] = []
                while len(claimed) < min(width, limit - done):
                    job_id = retrying(self._claim_next)
                    if job_id is None:
                        break
                    claimed.append(job_id)
                if not claimed:
                    break
                list(threads.map(lambda job_id: self.draw(job_id, claimed=True), claimed))
                done += len(claimed)
        return done

    def draw(self, job_id: int, claimed: bool = False) -> bool:
        """Draw one job now (claiming it unless the caller did); True when its PDF is ready."""
        if not claimed and not retrying(lambda: self._claim(job_id)):
            return False
        try:
            pdf, key = self._draw(job_id)
        except Exception as exc:  # noqa: BLE001 - a render fault must never lose the reply waiting for it
            log.exception("drawing render job %s failed", job_id)
            retrying(partial(self._failed, job_id, exc))
            return False
        retrying(lambda: self._done(job_id, pdf, key))
        return True

    # -- steps ---------------------------------------------------------------------------------------------

    def _claim_next(self) -> int | None:
        now = self.clock()
        with Session(self.engine) as session:
            rows = session.exec(select(RenderJob).where(sa.or_(
                sa.and_(col(RenderJob.status) == "pending", col(RenderJob.next_attempt_at) <= now),
                col(RenderJob.status) == "rendering")).order_by(col(RenderJob.id)).limit(20)).all()
            due = [r.id for r in rows if r.status == "pending" or leases.expired(r.lease_until, r.lease_owner, now)]
        for job_id in due:
            assert job_id is not None
            if self._claim(job_id):
                return job_id
        return None

    def _claim(self, job_id: int) -> bool:
        now = self.clock()
        with write_session(self.engine) as session:
            job = session.get(RenderJob, job_id)
            if job is None or job.status in ("done", "failed") or (
                    job.status == "rendering" and not leases.expired(job.lease_until, job.lease_owner, now)):
                return False
            job.status, job.attempts = "rendering", job.attempts + 1
            job.lease_owner, job.lease_until = leases.me(), leases.until(now, LEASE_SECONDS)
            session.commit()
            return True

    def _draw(self, job_id: int) -> tuple[bytes, str]:
        """The PDF of a job (reused when the same inputs were drawn before), and its cache key."""
        from bot.reports.context import ReturnMeta, build_return_report
        from bot.reports.pdf import Drawings
        from bot.reports.render import render_return_report, return_report_html
        from bot.reports.trends import trends_from_history

        with Session(self.engine) as session:
            job = session.get(RenderJob, job_id)
            assert job is not None and job.submission_id is not None
            sub = session.get(Submission, job.submission_id)
            assert sub is not None and sub.sha256 is not None and sub.contract_id and sub.period_id
            contract = session.get(Contract, sub.contract_id)
            obligation = session.get(Obligation, sub.obligation_id)
            assert contract is not None and obligation is not None
            period = parse_period(sub.period_id, contract.year_start_month)
            framework = framework_for(contract, period)
            key = cache_key(job.kind, sub, framework.version, job.inputs)
            kept = session.exec(select(RenderedReport).where(RenderedReport.cache_key == key)).first()
            if kept is not None and self.files.exists(kept.sha256):
                return self.files.get(kept.sha256), key
            parsed = read_return(self.files.get(sub.sha256), sub.filename, limits=config.read_limits(self.settings))
            history = {k: int(v) for k, v in job.inputs.get("history", {}).items()}
            assessed = assess_in_context(session, contract, period, parsed, sub.received_at, self.settings.timezone,
                                         terms=terms_of(self.settings, contract, period), history_versions=history)
            added = tuple(Finding(**f) for f in job.inputs.get("added", []))  # what the intake found beyond the file
            if added:
                a = assessed.assessment
                assessed = replace(assessed, assessment=replace(a, findings=(
                    *(f for f in a.findings if f.is_error), *added, *(f for f in a.findings if not f.is_error))))
            provider = session.get(Organisation, contract.provider_id)
            meta = ReturnMeta(contract.id, contract.name, provider.name if provider else contract.provider_id,
                              sub.received_at, sub.version, sub.on_time, obligation.due_date, sub.filename)
            report = build_return_report(assessed.assessment, meta,
                                         trends_from_history(assessed.assessment, assessed.history),
                                         timezone=self.settings.timezone)
        if self._render is not None:
            return self._render(report), key
        if self.pool is None:
            return render_return_report(report), key
        drawings = Drawings()
        html = return_report_html(report, drawings=drawings)
        return self.pool.render(html, drawings.served), key

    def _done(self, job_id: int, pdf: bytes, key: str) -> None:
        digest = self.files.put(pdf)  # before the transaction: no lock held during disk writes
        now = self.clock()
        with write_session(self.engine) as session:
            job = session.get(RenderJob, job_id)
            assert job is not None
            insert_ignore(session, StoredFile, dict(sha256=digest, size=len(pdf), first_seen_at=now))
            sub = session.get(Submission, job.submission_id)
            assert sub is not None
            if session.exec(select(RenderedReport).where(RenderedReport.cache_key == key,
                                                         RenderedReport.sha256 == digest)).first() is None:
                session.add(RenderedReport(kind=job.kind, contract_id=sub.contract_id, period_id=sub.period_id or "",
                                           submission_id=sub.id, sha256=digest, created_at=now, cache_key=key))
            job.status, job.sha256, job.finished_at, job.last_error = "done", digest, now, ""
            job.lease_owner = job.lease_until = None
            session.commit()

    def _failed(self, job_id: int, exc: Exception) -> None:
        now = self.clock()
        with write_session(self.engine) as session:
            job = session.get(RenderJob, job_id)
            assert job is not None
            job.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            job.lease_owner = job.lease_until = None
            if job.attempts >= MAX_ATTEMPTS:
                job.status, job.finished_at = "failed", now
                record(session, now, "system", "render_failed", f"render_job:{job.id}",
                       {"error": job.last_error, "attempts": job.attempts})
            else:
                job.status = "pending"
                job.next_attempt_at = now + BACKOFF * 2 ** (job.attempts - 1)
            session.commit()
