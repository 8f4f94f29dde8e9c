"""Everything judging a return reads from storage, in one statement: the submission log (the contract's
obligations and their submissions, the inaccuracies found, the requests for information), the accepted versions
in force of the earlier periods with their figures, and the framework's benchmarks; for the intake, also the return
a submission is for (its obligation, its review and its saved versions: `Owed`).

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

LOG, FINDING, REQUEST, VALUE, BENCHMARK, OBLIGATION, REVIEW, SAVED, EARLIER = range(9)
# The slots of the wide row (after its kind), and their types.
NAMES = ("i1", "i2", "i3", "i4", "i5", "t1", "t2", "t3", "t4", "t5", "d1", "d2", "d3", "d4", "ts1", "ts2", "ts3")
SLOTS = ("INTEGER",) * 5 + ("TEXT",) * 5 + ("DATE",) * 4 + ("TIMESTAMP WITH TIME ZONE",) * 3


@dataclass(frozen=True)
class Owed:
    """What the intake asks with the history: the return of the history's contract a submission is for."""

    submission_id: int
    return_type: str
    period_id: str


# A saved version's figure: its submission id, status, version, time received, and the item, breakdown and exact
# value of one figure of the period (all three None for a version without figures).
Earlier = tuple[int, str, int, datetime, str | None, str | None, str | None]


@dataclass(frozen=True)
class OwedRead:
    """The return `Owed` names, as `read` found it: its obligation's and its review's columns by name (None: it
    has none), and a row (id, version, sha256, status, lease owner) for each saved version and for the submission
    itself (when the return exists); and its accepted and superseded versions with their figures for the period,
    a row (id, status, version, received at, item, breakdown, exact figure) per figure (`bot.intake.undoing`)."""

    obligation: dict[str, Any] | None
    review: dict[str, Any] | None
    saved: list[tuple[int, int | None, str | None, str, str | None]]
    earlier: list[Earlier]


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
    owed: OwedRead | None = None  # None: not asked for


def _row(reader: PlainReader, kind: int, **filled: str) -> str:
    """One branch's select list: its columns in their slots (`i1`...`ts2`), typed NULLs elsewhere (PostgreSQL
    resolves a UNION's column types branch by branch, so the first branch's NULLs must say their type)."""
    null = (lambda n: "NULL") if reader.is_sqlite else (lambda n: f"CAST(NULL AS {SLOTS[n]})")
    return ", ".join([str(kind)] + [filled.get(name, null(n)) for n, name in enumerate(NAMES)])


def read(reader: PlainReader, contract_id: str, start: date, as_of: date, return_type: str,
         period_ids: list[str], framework_id: str | None, return_owed: Owed | None = None) -> History:
    """The contract's submission log from `start` as of `as_of`, the accepted versions of `period_ids` (of
    `return_type`) with their figures, the benchmarks of `framework_id` (unless None) and the return
    `return_owed` (unless None), in one statement."""
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
    if return_owed is not None:
        params.update(owed_type=return_owed.return_type, owed_period=return_owed.period_id,
                      owed_submission=return_owed.submission_id)
        theirs = ("obligation.contract_id = :contract AND obligation.return_type = :owed_type AND "
                  "obligation.period_id = :owed_period")
        its = f"(SELECT obligation.id FROM obligation WHERE {theirs})"  # the return's obligation (none, or one)
        parts += [
            f"SELECT {_row(reader, OBLIGATION, i1='obligation.id', i2='obligation.escalation_level', t1='obligation.contract_id', t2='obligation.return_type', t3='obligation.period_id', d1='obligation.period_start', d2='obligation.period_end', d3='obligation.due_date', d4='obligation.next_notice_on', ts1='obligation.first_accepted_at')} "  # noqa: E501
            f"FROM obligation WHERE {theirs}",
            f"SELECT {_row(reader, REVIEW, i1='review.id', i2='review.obligation_id', i3='review.submission_id', i4='review.version', i5='review.signed_off_by', t1='review.contract_id', t2='review.period_id', t3='review.state', ts1='review.since', ts2='review.opened_at', ts3='review.signed_off_at')} "  # noqa: E501
            f"FROM review WHERE review.obligation_id IN {its}",
            # The submission itself only when the return exists (as a join would give it).
            f"SELECT {_row(reader, SAVED, i1='submission.id', i2='submission.version', t1='submission.sha256', t2='submission.status', t3='submission.lease_owner')} "  # noqa: E501
            f"FROM submission WHERE (submission.obligation_id IN {its} AND submission.version IS NOT NULL) OR "
            f"(submission.id = :owed_submission AND EXISTS {its})",
            f"SELECT {_row(reader, EARLIER, i1='submission.id', i2='submission.version', t1='submission.status', ts1='submission.received_at', t2='data_value.item_id', t3='data_value.breakdown', t4='data_value.exact')} "  # noqa: E501
            "FROM submission LEFT OUTER JOIN data_value ON data_value.submission_id = submission.id AND "
            f"data_value.period_id = :owed_period WHERE submission.obligation_id IN {its} AND "
            "submission.status IN ('accepted', 'superseded') AND submission.version IS NOT NULL",
        ]
    found: dict[int, ObligationRow] = {}
    submissions: list[SubmissionRow] = []
    findings: list[tuple[int, Any, FindingRow]] = []
    requests: list[RequestRow] = []
    versions: dict[str, int] = {}
    values: dict[str, dict[Key, Fraction]] = {}
    benchmarks: list[Benchmark] = []
    obligation: dict[str, Any] | None = None
    review: dict[str, Any] | None = None
    saved: list[tuple[int, int | None, str | None, str, str | None]] = []
    earlier: list[Earlier] = []
    for k, i1, i2, i3, i4, i5, t1, t2, t3, t4, t5, d1, d2, d3, d4, ts1, ts2, ts3 in reader.rows(
            " UNION ALL ".join(parts), **params):
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
        elif k == BENCHMARK:
            benchmarks.append(Benchmark(framework_id or "", t2, t1, t3, exact_value(t4), t5, day(d1)))
        elif k == OBLIGATION:
            obligation = dict(id=i1, contract_id=t1, return_type=t2, period_id=t3, period_start=_day(d1),
                              period_end=_day(d2), due_date=_day(d3), first_accepted_at=moment(ts1),
                              escalation_level=i2, next_notice_on=day(d4))
        elif k == REVIEW:
            review = dict(id=i1, obligation_id=i2, contract_id=t1, period_id=t2, submission_id=i3, version=i4,
                          state=t3, since=_moment(ts1), opened_at=_moment(ts2), signed_off_by=i5,
                          signed_off_at=moment(ts3))
        elif k == SAVED:
            saved.append((i1, i2, t1, t2, t3))
        else:
            earlier.append((i1, t1, i2, _moment(ts1), t2, t3, t4))
    obligations = sorted(found.values(), key=lambda o: (o.due_date, o.id or 0))
    return History(obligations, sorted(submissions, key=lambda s: (s.received_at, s.id or 0)),
                   [f for _, _, f in sorted(findings, key=lambda f: (f[0], f[1]))],
                   sorted(requests, key=lambda r: (r.due, r.id or 0)), versions, values,
                   sorted(benchmarks, key=lambda b: (b.period_id, b.item, b.breakdown))
                   if framework_id is not None else None,
                   OwedRead(obligation, review, sorted(saved), earlier) if return_owed is not None else None)


def _day(value: date | str) -> date:
    found = day(value)
    assert found is not None
    return found


def _moment(value: datetime | str) -> datetime:
    found = moment(value)
    assert found is not None
    return found
