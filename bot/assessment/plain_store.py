"""The reads of judging a return in context as plain SQL (`bot.storage.plain_reads`), for `kpibot score`: the same
rows the ORM reads (`in_context.SessionStore`), handed to the same judging code, without loading the ORM."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from fractions import Fraction
from typing import NamedTuple

from bot.assessment.submission_log import SubmissionLog
from bot.storage import history_read, plain_reads
from bot.storage.history_read import Earlier, History, Owed, OwedRead
from bot.storage.plain_reads import PlainReader
from kpi_core.calendar import Period
from kpi_core.comparators import Benchmark, in_force
from kpi_core.framework.model import Framework
from kpi_core.values import Key


class Asked(NamedTuple):
    """What `PlainStore.prefetch` read: the reads it can serve are those asked with the same arguments."""

    contract_id: str
    start: date
    as_of: date
    return_type: str
    periods: tuple[str, ...] | None  # sorted period ids; None: no accepted values were read
    framework_id: str | None  # None: no benchmarks were read


class PlainStore:
    """`in_context.Store` on a read-only plain connection (or the intake's own, `PlainReader.on`). After
    `prefetch`, the reads it covers are served from its one statement, which also reads the return `owed` (the
    intake's: `owed_read`)."""

    def __init__(self, reader: PlainReader) -> None:
        self.reader = reader
        self.owed: Owed | None = None  # the return the intake asks for with the history (set before `prefetch`)
        self._read: History | None = None
        self._asked: Asked | None = None

    def prefetch(self, contract_id: str, start: date, as_of: date, return_type: str, periods: list[Period] | None,
                 framework_id: str | None) -> None:
        ids = None if periods is None else tuple(sorted({p.id for p in periods}))
        asked = Asked(contract_id, start, as_of, return_type, ids, framework_id)
        if self._read is not None and asked == self._asked:  # read ahead by the intake (`owed_read`)
            return
        self._read = history_read.read(self.reader, contract_id, start, as_of, return_type, list(ids or ()),
                                       framework_id, self.owed)
        self._asked = asked

    def owed_read(self) -> OwedRead | None:
        """The return `owed`, as the prefetch read it (None before it, or when nothing was owed)."""
        return self._read.owed if self._read is not None else None

    def earlier(self) -> list[Earlier] | None:
        """The versions of the return `owed` with their figures (`bot.intake.undoing`), as the prefetch read them."""
        owed = self.owed_read()
        return owed.earlier if owed is not None else None

    def obligation_id(self, contract_id: str, return_type: str, period_id: str) -> int | None:
        return plain_reads.obligation_id(self.reader, contract_id, return_type, period_id)

    def log(self, contract_id: str, start: date, as_of: date) -> SubmissionLog:
        asked = self._asked
        if self._read is not None and asked is not None and (asked.contract_id, asked.start, asked.as_of) == (
                contract_id, start, as_of):
            read = self._read
            return SubmissionLog(start, read.obligations, read.submissions, read.findings, read.requests)
        obligations, submissions = plain_reads.obligations(self.reader, contract_id, start, as_of)
        ids = [o.id for o in obligations if o.id is not None]
        return SubmissionLog(start, obligations, submissions, plain_reads.findings(self.reader, ids),
                             plain_reads.requests(self.reader, contract_id, start))

    def accepted_versions(self, contract_id: str, return_type: str, periods: Iterable[Period]) -> dict[str, int]:
        return plain_reads.accepted_versions(self.reader, contract_id, return_type, [p.id for p in periods])

    def accepted_values(self, contract_id: str, return_type: str,
                        periods: Iterable[Period]) -> tuple[dict[str, int], dict[str, dict[Key, Fraction]]]:
        periods = list(periods)
        asked = self._asked
        if self._read is not None and asked is not None and asked.periods is not None and \
                (asked.contract_id, asked.return_type, asked.periods) == (
                    contract_id, return_type, tuple(sorted({p.id for p in periods}))):
            return self._read.versions, self._read.values
        return plain_reads.accepted_values(self.reader, contract_id, return_type, [p.id for p in periods])

    def values_of_versions(self, versions: dict[str, int]) -> dict[str, dict[Key, Fraction]]:
        return plain_reads.values_of_versions(self.reader, versions)

    def benchmarks(self, framework: Framework, period: Period, start_month: int) -> list[Benchmark]:
        if self._read is not None and self._read.benchmarks is not None and self._asked is not None and \
                self._asked.framework_id == framework.id:
            return in_force(self._read.benchmarks, period, start_month)
        return in_force(plain_reads.benchmarks(self.reader, framework.id), period, start_month)
