"""The reads `kpibot score` judges a return with, as plain SQL on a read-only connection, without the ORM.

Importing SQLAlchemy, SQLModel and defining every table model costs a command line more than half a second, while
a preview reads a handful of rows from eight tables. On SQLite these queries run on Python's own `sqlite3`; on any
other database they run as `text()` on the SQLAlchemy engine (the driver costs as much as the ORM there). The
intake and the reports read the same rows through the ORM (`bot.storage.queries`, `bot.assessment.submission_kpis`);
tests/test_plain_reads.py checks every column named here against the models and that both reads agree.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from kpi_core.comparators import Benchmark
from kpi_core.values import Key

if TYPE_CHECKING:
    import sqlalchemy as sa


@dataclass(frozen=True)
class ContractRow:
    id: str
    framework_id: str
    value: Decimal
    start: date
    end: date | None
    year_start_month: int


@dataclass(frozen=True)
class ObligationRow:
    id: int | None
    return_type: str
    period_id: str
    period_start: date
    due_date: date


@dataclass(frozen=True)
class SubmissionRow:
    id: int | None
    obligation_id: int | None
    status: str
    received_at: datetime
    version: int | None


@dataclass(frozen=True)
class FindingRow:
    """A spot check that found a return inaccurate, or a query answered with a correction (`kind`)."""

    obligation_id: int
    at: datetime
    kind: str  # spot_check | query
    note: str


@dataclass(frozen=True)
class RequestRow:
    id: int | None
    what: str
    due: date
    asked_at: datetime
    answered_at: datetime | None


class PlainReader:
    """A read-only connection to the configured database that runs plain SQL with `:name` parameters."""

    def __init__(self, database_url: str, sqlite_path: Path | None) -> None:
        self._sqlite: sqlite3.Connection | None = None
        self._engine: sa.Engine | None = None
        self._connection: sa.Connection | None = None
        if sqlite_path is not None:
            # mode=rw: never create a database file that is not there; the SQLAlchemy engine's busy timeout.
            self._sqlite = sqlite3.connect(f"file:{quote(str(sqlite_path))}?mode=rw", uri=True, timeout=30)
            self._sqlite.execute("PRAGMA query_only = ON")
        else:
            from bot.storage.db import make_engine

            self._engine = make_engine(database_url)

    @classmethod
    def on(cls, connection: sa.Connection) -> PlainReader:
        """The same reads on a connection already open (the intake's, in its transaction); not closed here."""
        reader = cls.__new__(cls)
        reader._sqlite, reader._engine, reader._connection = None, None, connection
        return reader

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        """The rows `sql` selects, as tuples of the driver's values (`moment`, `day` and `money` convert them)."""
        if self.is_sqlite:  # SQLite keeps dates as ISO text
            params = {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()}
        if self._sqlite is not None:
            return self._sqlite.execute(sql, params).fetchall()
        import sqlalchemy as sa

        if self._connection is not None:
            if self.is_sqlite:  # sqlite3 takes `:name` itself: no statement to compile, no result to convert
                return list(self._connection.exec_driver_sql(sql, params).fetchall())
            return [tuple(row) for row in self._connection.execute(sa.text(sql), params)]
        assert self._engine is not None
        with self._engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql), params)]

    @property
    def is_sqlite(self) -> bool:
        return self._sqlite is not None or (self._connection is not None
                                            and self._connection.dialect.name == "sqlite")

    def close(self) -> None:
        if self._sqlite is not None:
            self._sqlite.close()
        if self._engine is not None:
            self._engine.dispose()


def moment(value: datetime | str | None) -> datetime | None:
    """A stored time as aware UTC, as `models.UTCDateTime` reads it (SQLite keeps naive UTC text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _moment(value: datetime | str) -> datetime:
    found = moment(value)
    assert found is not None
    return found


def day(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _day(value: date | str) -> date:
    found = day(value)
    assert found is not None
    return found


def money(value: Decimal | float | int | str) -> Decimal:
    """A Numeric(14, 2) as SQLAlchemy returns it: a Decimal with two places (SQLite keeps a number)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        return Decimal(value)
    return Decimal(f"{value:.2f}")


def exact_value(text: str) -> Fraction:
    """A stored exact figure (`DataValue.exact`): a whole count, the usual case, parsed as an int first (3x faster)."""
    return Fraction(int(text)) if text.isascii() and text.isdigit() else Fraction(text)


def _in(name: str, values: Iterable[object]) -> tuple[str, dict[str, object]]:
    """`(:name0, :name1, ...)` and its parameters, for `IN`."""
    params = {f"{name}{i}": value for i, value in enumerate(values)}
    return "(" + ", ".join(f":{key}" for key in params) + ")", params


def revision(reader: PlainReader) -> str | None:
    """The revision the schema is at (Alembic's one row), or None before `kpibot init`."""
    tables = ("sqlite_master WHERE type = 'table' AND name = :name" if reader.is_sqlite else
              "information_schema.tables WHERE table_name = :name AND table_schema = current_schema()")
    if not reader.rows(f"SELECT 1 FROM {tables}", name="alembic_version"):
        return None
    found = reader.rows("SELECT version_num FROM alembic_version")
    return found[0][0] if found else None


def contract(reader: PlainReader, contract_id: str) -> ContractRow | None:
    found = reader.rows('SELECT id, framework_id, value, start, "end", year_start_month FROM contract '
                        "WHERE id = :id", id=contract_id)
    if not found:
        return None
    cid, framework_id, value, start, end, year_start_month = found[0]
    return ContractRow(cid, framework_id, money(value), _day(start), day(end), year_start_month)


def obligation_id(reader: PlainReader, contract_id: str, return_type: str, period_id: str) -> int | None:
    found = reader.rows("SELECT id FROM obligation WHERE contract_id = :contract AND return_type = :type AND "
                        "period_id = :period", contract=contract_id, type=return_type, period=period_id)
    return found[0][0] if found else None


def obligations(reader: PlainReader, contract_id: str, start: date,
                as_of: date) -> tuple[list[ObligationRow], list[SubmissionRow]]:
    """The contract's obligations due from `start` whose periods began by `as_of`, by due date, and every
    submission of them, in order of receipt: one statement."""
    found: dict[int, ObligationRow] = {}
    submissions = []
    for oid, return_type, period_id, period_start, due_date, sid, status, received_at, version in reader.rows(
            "SELECT obligation.id, obligation.return_type, obligation.period_id, obligation.period_start, "
            "obligation.due_date, submission.id, submission.status, submission.received_at, submission.version FROM "
            "obligation LEFT OUTER JOIN submission ON submission.obligation_id = obligation.id WHERE "
            "obligation.contract_id = :contract AND obligation.due_date >= :start AND obligation.period_start <= "
            ":as_of ORDER BY obligation.due_date, obligation.id",
            contract=contract_id, start=start, as_of=as_of):
        if oid not in found:
            found[oid] = ObligationRow(oid, return_type, period_id, _day(period_start), _day(due_date))
        if sid is not None:
            submissions.append(SubmissionRow(sid, oid, status, _moment(received_at), version))
    return list(found.values()), sorted(submissions, key=lambda s: (s.received_at, s.id or 0))


def findings(reader: PlainReader, obligation_ids: Sequence[int]) -> list[FindingRow]:
    """Spot checks that found these returns inaccurate, then queries answered with a correction, each oldest
    first (as `bot.assessment.reviews.inaccuracies` reads them)."""
    if not obligation_ids:
        return []
    wanted, params = _in("o", obligation_ids)
    rows = reader.rows(f"SELECT obligation_id, checked_at, 0, note FROM spot_check WHERE obligation_id IN {wanted} "
                       "AND accurate = :no UNION ALL SELECT review.obligation_id, review_query.asked_at, 1, "
                       "review_query.reason FROM review_query JOIN review ON review.id = review_query.review_id "
                       f"WHERE review.obligation_id IN {wanted} AND review_query.state = 'corrected' ORDER BY 3, 2",
                       no=False, **params)
    return [FindingRow(oid, _moment(at), "query" if kind else "spot_check", note) for oid, at, kind, note in rows]


def requests(reader: PlainReader, contract_id: str, start: date) -> list[RequestRow]:
    """The contract's requests for information due from `start`, not withdrawn, by due date."""
    return [RequestRow(rid, what, _day(due), _moment(asked_at), moment(answered_at))
            for rid, what, due, asked_at, answered_at in reader.rows(
                "SELECT id, what, due, asked_at, answered_at FROM info_request WHERE contract_id = :contract AND "
                "due >= :start AND state != 'withdrawn' ORDER BY due, id", contract=contract_id, start=start)]


def accepted_versions(reader: PlainReader, contract_id: str, return_type: str,
                      period_ids: Iterable[str]) -> dict[str, int]:
    """The accepted version in force for each period that has one: period id -> submission id."""
    wanted = sorted(set(period_ids))
    if not wanted:
        return {}
    periods, params = _in("p", wanted)
    return {period_id: sid for period_id, sid in reader.rows(
        "SELECT obligation.period_id, submission.id FROM obligation JOIN submission ON submission.obligation_id = "
        "obligation.id WHERE obligation.contract_id = :contract AND obligation.return_type = :type AND "
        f"obligation.period_id IN {periods} AND submission.status = 'accepted'",
        contract=contract_id, type=return_type, **params) if sid is not None}


def accepted_values(reader: PlainReader, contract_id: str, return_type: str,
                    period_ids: Iterable[str]) -> tuple[dict[str, int], dict[str, dict[Key, Fraction]]]:
    """`accepted_versions` and their `values_of_versions`, in one statement."""
    wanted = sorted(set(period_ids))
    if not wanted:
        return {}, {}
    periods, params = _in("p", wanted)
    versions: dict[str, int] = {}
    found: dict[str, dict[Key, Fraction]] = {}
    for period_id, sid, item_id, breakdown, exact in reader.rows(
            "SELECT obligation.period_id, submission.id, data_value.item_id, data_value.breakdown, data_value.exact "
            "FROM obligation JOIN submission ON submission.obligation_id = obligation.id LEFT OUTER JOIN data_value "
            "ON data_value.submission_id = submission.id AND data_value.period_id = obligation.period_id WHERE "
            f"obligation.contract_id = :contract AND obligation.return_type = :type AND obligation.period_id IN "
            f"{periods} AND submission.status = 'accepted'", contract=contract_id, type=return_type, **params):
        versions[period_id] = sid
        values = found.setdefault(period_id, {})
        if item_id is not None:
            values[(item_id, breakdown)] = exact_value(exact)
    return versions, found


def values_of_versions(reader: PlainReader, versions: dict[str, int]) -> dict[str, dict[Key, Fraction]]:
    """The stored figures of each period's given version."""
    if not versions:
        return {}
    ids, params = _in("s", sorted(set(versions.values())))
    periods, more = _in("p", sorted(versions))
    found: dict[str, dict[Key, Fraction]] = {period_id: {} for period_id in versions}
    for period_id, sid, item_id, breakdown, exact in reader.rows(  # a version's own history copies not wanted
            f"SELECT period_id, submission_id, item_id, breakdown, exact FROM data_value WHERE submission_id IN {ids} "
            f"AND period_id IN {periods}", **params, **more):
        if versions.get(period_id) == sid:
            found[period_id][(item_id, breakdown)] = exact_value(exact)
    return found


def benchmarks(reader: PlainReader, framework_id: str) -> list[Benchmark]:
    """The benchmarks loaded for a framework (as `bot.assessment.comparators.stored_benchmarks` reads them)."""
    return [Benchmark(fid, period_id, item_id, breakdown, exact_value(exact), source, day(published))
            for fid, period_id, item_id, breakdown, exact, source, published in reader.rows(
                "SELECT framework_id, period_id, item_id, breakdown, exact, source, published FROM benchmark "
                "WHERE framework_id = :framework ORDER BY period_id, item_id, breakdown", framework=framework_id)]
