"""`[intake]`, `[reports]` and `[outbox]`: how much kpibot takes in, how it draws PDFs, how often it retries."""

from __future__ import annotations

from pydantic import Field

from bot.settings.base import Model


class Intake(Model):
    max_upload_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_uncompressed_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    # Files refused as possible personal data, and files from unknown senders, are kept restricted this long
    # (for the commissioner to look into), then purged from disk; the record that they came stays.
    quarantine_days: int = Field(default=30, ge=1, le=3650)
    unknown_sender_max_files: int = Field(default=200, ge=0)  # beyond this, unknown senders' files are not kept


class Reports(Model):
    attach_pdf: bool = True  # attach the PDF return report to every reply (rendering takes about a second)
    # PDFs are laid out in worker processes: how many at once (one per core), and the bounds on each report.
    render_workers: int = Field(default=2, ge=1, le=32)
    render_timeout_seconds: float = Field(default=120, gt=0)
    render_memory_mb: int = Field(default=1536, ge=256)


class Outbox(Model):
    max_attempts: int = Field(default=8, ge=1)
    backoff_seconds: int = Field(default=60, ge=1)
