"""Everything judging a return reads from storage, in one statement: the submission log (the contract's
obligations and their submissions, the inaccuracies found, the requests for information), the accepted versions
in force of the earlier periods with their figures, and the framework's benchmarks.

The intake judges each return in one read; five statements cost five round trips and five compilations. The
branches are those of `bot.storage.plain_reads` (`obligations`, `findings`, `requests`, `accepted_values`,
`benchmarks`), joined by UNION ALL. Each branch fills its own typed slots of one wide row (NULL elsewhere), and
each part is put in the order its own read gives it. tests/test_plain_reads.py checks it against those reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from fractions import Fraction
from typing import Any

from bot.storage.plain_reads import (
    FindingRow,
    ObligationRow,
    PlainReader,
    RequestRow,
    SubmissionRow,
    _in,
    day,
    exact_value,
    moment,
)
from kpi_core.comparators import Benchmark
from kpi_core.values import Key

LOG, FINDING, REQUEST, VALUE, BENCHMARK = range(5)
# The slots of the wide row, by type: k, i1, i2, i3, t1, t2, t3, t4, t5, d1, d2, ts1, ts2.
SLOTS = ("INTEGER",) * 3 + ("TEXT",) * 5 + ("DATE",) * 2 + ("TIMESTAMP WITH TIME ZONE",) * 2


@dataclass(frozen=True)
class History:
    """What `read` found, each part as its plain read gives it."""

    obligations: list[ObligationRow]
    submissions: list[SubmissionRow]
    findings: list[FindingRow]
    requests: list[RequestRow]
    versions: dict[str, int]  # accepted version in force by period id
    values: dict[str, dict[Key, Fraction]]  # their figures
    benchmarks: list[Benchmark] | None  # None: not asked for


def _row(reader: PlainReader, kind: int, **filled: str) -> str:
    """One branch's select list: its columns in their slots (`i1`...`ts2`), typed NULLs elsewhere (PostgreSQL
    resolves a UNION's column types branch by branch, so the first branch's NULLs must say their type)."""
    names = ("i1", "i2", "i3", "t1", "t2", "t3", "t4", "t5", "d1", "d2", "ts1", "ts2")
    null = (lambda n: "NULL") if reader.is_sqlite else (lambda n: f"CAST(NULL AS {SLOTS[n]})")
    return ", ".join([str(kind)] + [filled.get(name, null(n)) for n, name in enumerate(names)])


def read(reader: PlainReader, contract_id: str, start: date, as_of: date, return_type: str,
         period_ids: list[str], framework_id: str | None) -> History:
    """The contract's submission log from `start` as of `as_of`, the accepted versions of `period_ids` (of
    `return_type`) with their figures, and the benchmarks of `framework_id` (unless None), in one statement."""
    owed = ("obligation.contract_id = :contract AND obligation.due_date >= :start AND obligation.period_start <= "
            ":as_of")
    parts = [
        f"SELECT {_row(reader, LOG, i1='obligation.id', t1='obligation.return_type', t2='obligation.period_id', d1='obligation.period_start', d2='obligation.due_date', i2='submission.id', t3='submission.status', ts1='submission.received_at', i3='submission.version')} "  # noqa: E501
        f"FROM obligation LEFT OUTER JOIN submission ON submission.obligation_id = obligation.id WHERE {owed}",
        f"SELECT {_row(reader, FINDING, i1='spot_check.obligation_id', ts1='spot_check.checked_at', i2='0', t1='spot_check.note')} "  # noqa: E501
        f"FROM spot_check WHERE spot_check.obligation_id IN (SELECT obligation.id FROM obligation WHERE {owed}) "
        "AND spot_check.accurate = :no",
        f"SELECT {_row(reader, FINDING, i1='review.obligation_id', ts1='review_query.asked_at', i2='1', t1='review_query.reason')} "  # noqa: E501
        "FROM review_query JOIN review ON review.id = review_query.review_id WHERE review.obligation_id IN "
        f"(SELECT obligation.id FROM obligation WHERE {owed}) AND review_query.state = 'corrected'",
        f"SELECT {_row(reader, REQUEST, i1='id', t1='what', d1='due', ts1='asked_at', ts2='answered_at')} "
        "FROM info_request WHERE contract_id = :contract AND due >= :start AND state != 'withdrawn'",
    ]
    params: dict[str, Any] = dict(contract=contract_id, start=start, as_of=as_of, no=False)
    wanted = sorted(set(period_ids))
    if wanted:
        periods, more = _in("p", wanted)
        params.update(more, type=return_type)
        parts.append(
            f"SELECT {_row(reader, VALUE, t2='obligation.period_id', i2='submission.id', t1='data_value.item_id', t3='data_value.breakdown', t4='data_value.exact')} "  # noqa: E501
            "FROM obligation JOIN submission ON submission.obligation_id = obligation.id LEFT OUTER JOIN data_value "
            "ON data_value.submission_id = submission.id AND data_value.period_id = obligation.period_id WHERE "
            f"obligation.contract_id = :contract AND obligation.return_type = :type AND obligation.period_id IN "
            f"{periods} AND submission.status = 'accepted'")
    if framework_id is not None:
        params["framework"] = framework_id
        parts.append(
            f"SELECT {_row(reader, BENCHMARK, t2='period_id', t1='item_id', t3='breakdown', t4='exact', t5='source', d1='published')} "  # noqa: E501
            "FROM benchmark WHERE framework_id = :framework")
    found: dict[int, ObligationRow] = {}
    submissions: list[SubmissionRow] = []
    findings: list[tuple[int, Any, FindingRow]] = []
    requests: list[RequestRow] = []
    versions: dict[str, int] = {}
    values: dict[str, dict[Key, Fraction]] = {}
    benchmarks: list[Benchmark] = []
    for k, i1, i2, i3, t1, t2, t3, t4, t5, d1, d2, ts1, ts2 in reader.rows(" UNION ALL ".join(parts), **params):
        if k == LOG:
            if i1 not in found:
                found[i1] = ObligationRow(i1, t1, t2, _day(d1), _day(d2))
            if i2 is not None:
                submissions.append(SubmissionRow(i2, i1, t3, _moment(ts1), i3))
        elif k == FINDING:
            at = _moment(ts1)
            findings.append((i2, at, FindingRow(i1, at, "query" if i2 else "spot_check", t1)))
        elif k == REQUEST:
            requests.append(RequestRow(i1, t1, _day(d1), _moment(ts1), moment(ts2)))
        elif k == VALUE:
            versions[t2] = i2
            figures = values.setdefault(t2, {})
            if t1 is not None:
                figures[(t1, t3)] = exact_value(t4)
        else:
            benchmarks.append(Benchmark(framework_id or "", t2, t1, t3, exact_value(t4), t5, day(d1)))
    obligations = sorted(found.values(), key=lambda o: (o.due_date, o.id or 0))
    return History(obligations, sorted(submissions, key=lambda s: (s.received_at, s.id or 0)),
                   [f for _, _, f in sorted(findings, key=lambda f: (f[0], f[1]))],
                   sorted(requests, key=lambda r: (r.due, r.id or 0)), versions, values,
                   sorted(benchmarks, key=lambda b: (b.period_id, b.item, b.breakdown))
                   if framework_id is not None else None)


def _day(value: date | str) -> date:
    found = day(value)
    assert found is not None
    return found


def _moment(value: datetime | str) -> datetime:
    found = moment(value)
    assert found is not None
    return found
