"""What a council sets up in kpibot beside the returns: the benchmarks its commissioners load, and the day the
deployment started (returns due before it are not chased)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from bot.storage.models import _ts


class BenchmarkRow(SQLModel, table=True):
    """A benchmark the commissioner loaded (national, regional, top quartile), with where it comes from."""

    __tablename__ = "benchmark"
    __table_args__ = (sa.UniqueConstraint("framework_id", "period_id", "item_id", "breakdown"),)
    id: int | None = Field(default=None, primary_key=True)
    framework_id: str = Field(max_length=64, index=True)
    period_id: str = Field(max_length=16)
    item_id: str = Field(max_length=64)
    breakdown: str = Field(default="", max_length=200)
    exact: str = Field(max_length=64)  # the exact value as a fraction, e.g. "943/20"
    value: float
    source: str = Field(max_length=200)
    published: date | None = None
    loaded_at: datetime = _ts()
    loaded_from: str = Field(default="", max_length=255)  # the file's name


class Deployment(SQLModel, table=True):
    """The day `kpibot init` first loaded this database: returns due before it are not chased."""

    __tablename__ = "deployment"
    id: int = Field(default=1, primary_key=True)  # one row
    started_on: date  # in the deployment's time zone
    started_at: datetime = _ts()
