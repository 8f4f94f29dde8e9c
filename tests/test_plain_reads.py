"""`kpibot score` reads its context as plain SQL (bot/storage/plain_reads.py) without loading the ORM: the same rows
as the ORM reads, judged by the same code, give the same scores, figures and words (on SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from intake_fixtures import received, sample_csv
from sqlmodel import Session, SQLModel, select

from bot import config
from bot.assessment.comparators import save_benchmarks
from bot.assessment.in_context import assess_in_context, assess_with
from bot.assessment.plain_store import PlainStore
from bot.assessment.submission_kpis import kpis_from, log_start, submission_kpis
from bot.assessment.submission_log import SubmissionLog, read_log
from bot.commands.score import as_dict, render_text
from bot.intake.service import Intake
from bot.storage import db, history_read, plain_reads
from bot.storage.models import Contact, Contract, Obligation, Submission
from bot.storage.plain_reads import PlainReader
from bot.storage.plan_models import InfoRequest
from bot.storage.review_models import Review, ReviewQuery, SpotCheck
from bot.storage.sync import ensure_obligations
from kpi_core.calendar import parse_period
from kpi_core.comparators import Benchmark
from kpi_core.escalation import ServiceFailureRule
from kpi_core.returns.csv_long import parse_csv
from kpi_core.terms import contract_terms

CONTRACT = "ch-stop-smoking"
ZONE = "Europe/London"
CAROL = "carol@example-council.example"


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def logged(intake: Intake) -> Intake:
    """A year of returns: on time, late, rejected then corrected, corrected after acceptance, one missing; a spot
    check that found one inaccurate (another that did not), a query answered with a correction, requests for
    information answered on time, late, never and withdrawn, and a benchmark."""
    with Session(intake.engine) as session:
        contract = session.get(Contract, CONTRACT)
        ensure_obligations(session, contract, date(2026, 9, 30))  # type: ignore[arg-type]
        session.commit()
    good, bad = sample_csv(seed=1), b"item,breakdown,value\nquit_dates,,-1\n"
    for message, period, day, data in [
        ("q1", "2025-26-Q1", date(2025, 7, 10), good), ("q2", "2025-26-Q2", date(2025, 10, 20), sample_csv(seed=2)),
        ("q3a", "2025-26-Q3", date(2026, 1, 12), bad), ("q3b", "2025-26-Q3", date(2026, 1, 14), sample_csv(seed=3)),
        ("q4a", "2025-26-Q4", date(2026, 4, 15), good), ("q4b", "2025-26-Q4", date(2026, 4, 20), sample_csv(seed=5)),
    ]:
        intake.submit(received(data, message_id=message, caption=period, at=at(day)))
    with Session(intake.engine) as session:
        carol = session.exec(select(Contact).where(Contact.email == CAROL)).one().id
        assert carol is not None
        for period, checked, accurate in (("2025-26-Q1", date(2025, 8, 1), False),
                                          ("2025-26-Q2", date(2025, 11, 3), True)):
            obligation, sub = _accepted(session, period)
            review = _review(session, obligation, sub, at(checked))
            session.add(SpotCheck(review_id=review, obligation_id=obligation.id, submission_id=sub.id,
                                  version=sub.version or 1, checked_by=carol, checked_at=at(checked, 15),
                                  channel="cli", accurate=accurate, note="the register has 12 fewer quitters"))
        obligation, sub = _accepted(session, "2025-26-Q4")
        review = _review(session, obligation, sub, at(date(2026, 4, 16)))
        session.add(ReviewQuery(review_id=review, submission_id=sub.id, version=1, asked_by=carol,
                                asked_at=at(date(2026, 4, 17), 10), channel="web", reason="1.4 looks high",
                                respond_by=date(2026, 5, 1), state="corrected"))
        for what, due, answered, state in (("Inspection report", date(2025, 11, 30), date(2025, 11, 28), "answered"),
                                           ("Audit", date(2026, 1, 31), date(2026, 2, 3), "answered"),
                                           ("Policy", date(2026, 3, 31), None, "open"),
                                           ("Withdrawn", date(2026, 2, 28), None, "withdrawn")):
            session.add(InfoRequest(contract_id=CONTRACT, what=what, due=due, asked_by=carol,
                                    asked_at=at(date(2025, 11, 1)), channel="web", state=state,
                                    answered_at=at(answered, 23) if answered else None))
        save_benchmarks(session, [Benchmark(CONTRACT, "2025-26-Q3", "quit_dates", "", Fraction(401, 3), "NHS Digital",
                                            date(2026, 2, 1))], at(date(2026, 2, 2)), "benchmarks.csv")
        session.commit()
    return intake


def _accepted(session: Session, period_id: str) -> tuple[Obligation, Submission]:
    obligation = session.exec(select(Obligation).where(Obligation.contract_id == CONTRACT,
                                                       Obligation.period_id == period_id)).one()
    sub = session.exec(select(Submission).where(Submission.obligation_id == obligation.id)
                       .order_by(Submission.id)).first()  # type: ignore[arg-type]
    assert sub is not None
    return obligation, sub


def _review(session: Session, obligation: Obligation, sub: Submission, when: datetime) -> int:
    """The return's review (the intake opens one for an accepted return)."""
    review = session.exec(select(Review).where(Review.obligation_id == obligation.id)).first()
    review = review or Review(obligation_id=obligation.id, contract_id=CONTRACT, period_id=obligation.period_id,
                              submission_id=sub.id, version=sub.version or 1, state="waiting", since=when,
                              opened_at=when)
    session.add(review)
    session.flush()
    assert review.id is not None
    return review.id


@pytest.fixture
def reader(settings: config.Settings) -> Iterator[PlainReader]:
    opened = PlainReader(settings.storage.database_url, settings.storage.sqlite_path)
    yield opened
    opened.close()


def rows(log: SubmissionLog) -> dict[str, list[tuple[Any, ...]]]:
    """The log's rows as plain values, whichever way they were read."""
    return {
        "obligations": [(o.id, o.return_type, o.period_id, o.period_start, o.due_date) for o in log.obligations],
        "submissions": [(s.id, s.obligation_id, s.status, s.received_at, s.version) for s in log.submissions],
        "findings": [(f.obligation_id, f.at, f.kind, getattr(f, "note", "")) for f in log.findings],
        "requests": [(r.id, r.what, r.due, r.asked_at, r.answered_at) for r in log.requests],
    }


def test_the_plain_log_holds_the_rows_the_orm_reads(logged: Intake, reader: PlainReader) -> None:
    with Session(logged.engine) as session:
        for start, as_of in ((date(2024, 7, 15), date(2026, 7, 14)), (date(2025, 10, 16), date(2026, 1, 20))):
            orm = rows(read_log(session, CONTRACT, start, as_of))
            plain = rows(PlainStore(reader).log(CONTRACT, start, as_of))
            assert plain == orm
    full = rows(PlainStore(reader).log(CONTRACT, date(2024, 7, 15), date(2026, 7, 14)))
    assert {"2025-26-Q1", "2025-26-Q4", "2025-26"} <= {o[2] for o in full["obligations"]}
    assert [len(full[k]) for k in ("submissions", "findings", "requests")] == [6, 2, 3]  # withdrawn left out
    assert {f[2] for f in full["findings"]} == {"spot_check", "query"}
    assert all(s[3].tzinfo is UTC for s in full["submissions"])


@pytest.mark.parametrize("as_of, moment", [(date(2026, 7, 14), None), (date(2026, 4, 18), at(date(2026, 4, 16))),
                                           (date(2026, 2, 10), at(date(2026, 1, 13)))])
def test_submission_kpis_from_plain_rows_are_the_orms(logged: Intake, reader: PlainReader, as_of: date,
                                                      moment: datetime | None) -> None:
    rule = ServiceFailureRule(2)
    with Session(logged.engine) as session:
        orm = submission_kpis(session, CONTRACT, as_of, ZONE, rule=rule, moment=moment)
    plain = kpis_from(PlainStore(reader).log(CONTRACT, log_start(as_of, rule=rule), as_of), CONTRACT, as_of, ZONE,
                      rule=rule, moment=moment)
    assert dataclasses.replace(plain, records=()) == dataclasses.replace(orm, records=())
    assert ([(r.obligation.id, r.submitted, r.timely, r.accurate, r.why_inaccurate) for r in plain.records]
            == [(r.obligation.id, r.submitted, r.timely, r.accurate, r.why_inaccurate) for r in orm.records])
    assert orm.records and orm.requests


def test_stored_contracts_benchmarks_and_versions_read_plainly_are_the_orms(logged: Intake,
                                                                            reader: PlainReader) -> None:
    with Session(logged.engine) as session:
        for stored in session.exec(select(Contract)):
            plain = plain_reads.contract(reader, stored.id)
            assert plain is not None
            assert [str(getattr(plain, f.name)) for f in dataclasses.fields(plain)] == [
                str(getattr(stored, f.name)) for f in dataclasses.fields(plain)]  # 720000.00, not 720000
        versions = plain_reads.accepted_versions(reader, CONTRACT, "quarterly",
                                                 ["2025-26-Q1", "2025-26-Q3", "2025-26-Q4", "2026-27-Q1"])
        assert set(versions) == {"2025-26-Q1", "2025-26-Q3", "2025-26-Q4"}
        from bot.storage.queries import accepted_versions, values_of_versions

        periods = [parse_period(p, 4) for p in ("2025-26-Q1", "2025-26-Q3", "2025-26-Q4", "2026-27-Q1")]
        assert accepted_versions(session, CONTRACT, "quarterly", periods) == versions
        assert plain_reads.values_of_versions(reader, versions) == values_of_versions(session, versions)
        assert plain_reads.accepted_values(reader, CONTRACT, "quarterly", [p.id for p in periods]) == (
            versions, values_of_versions(session, versions))
        from bot.assessment.comparators import stored_benchmarks

        assert plain_reads.benchmarks(reader, CONTRACT) == stored_benchmarks(session, CONTRACT) != []
    assert plain_reads.contract(reader, "no-such-contract") is None
    assert plain_reads.obligation_id(reader, CONTRACT, "quarterly", "2019-20-Q1") is None
    assert plain_reads.revision(reader) == db.current_revision(logged.engine)


def test_the_one_statement_history_read_gives_each_part_as_its_own_read_does(logged: Intake,
                                                                             reader: PlainReader) -> None:
    """The intake judges a return on one read (bot/storage/history_read.py): the log, the versions in force with
    their figures and the benchmarks, each as the plain read of its own gives it, on both databases."""
    periods = ["2025-26-Q1", "2025-26-Q3", "2025-26-Q4", "2026-27-Q1"]
    for start, as_of in ((date(2025, 9, 1), date(2025, 12, 31)), (date(2024, 7, 15), date(2026, 7, 14)),
                         (date(2025, 4, 1), date(2026, 7, 14))):
        one = history_read.read(reader, CONTRACT, start, as_of, "quarterly", periods, CONTRACT)
        apart = rows(PlainStore(reader).log(CONTRACT, start, as_of))
        assert rows(SubmissionLog(start, one.obligations, one.submissions, one.findings, one.requests)) == apart
        assert (one.versions, one.values) == plain_reads.accepted_values(reader, CONTRACT, "quarterly", periods)
        assert one.benchmarks == plain_reads.benchmarks(reader, CONTRACT) != []
    assert len(apart["findings"]) == 2 and apart["requests"] and apart["submissions"]  # the whole year: all kinds
    bare = history_read.read(reader, CONTRACT, date(2025, 4, 1), date(2026, 7, 14), "quarterly", [], None)
    assert (bare.versions, bare.values, bare.benchmarks) == ({}, {}, None)


@pytest.mark.parametrize("period_id", ["2025-26-Q1", "2025-26-Q3", "2025-26-Q4", "2026-27-Q1"])
def test_the_return_owed_read_with_the_history_is_what_the_orm_and_the_undo_check_read(
        logged: Intake, reader: PlainReader, period_id: str) -> None:
    """The intake reads the return a submission is for in the history's statement (`history_read.Owed`): its
    obligation and review as the ORM loads them (every column), a row for each saved version and for the
    submission itself, and the versions' figures as the undo check reads them; nothing when it is not owed."""
    from bot.intake import undoing
    from bot.storage.db import table_of
    from kpi_core import loader

    with Session(logged.engine) as session:
        obligation = session.exec(select(Obligation).where(Obligation.contract_id == CONTRACT,
                                                           Obligation.period_id == period_id)).one()
        review = session.exec(select(Review).where(Review.obligation_id == obligation.id)).first()
        saved = session.exec(select(Submission).where(Submission.obligation_id == obligation.id,
                                                      Submission.version != None)).all()  # noqa: E711
        other = session.exec(select(Submission).order_by(Submission.id.desc())).first()  # type: ignore[union-attr]
        assert other is not None and other.id is not None
        owed = history_read.Owed(other.id, "quarterly", period_id)
        one = history_read.read(reader, CONTRACT, date(2025, 4, 1), date(2026, 7, 14), "quarterly", [], None, owed)
        assert one.owed is not None
        assert one.owed.obligation == {c.name: getattr(obligation, c.name) for c in table_of(Obligation).columns}
        assert one.owed.review == (None if review is None else
                                   {c.name: getattr(review, c.name) for c in table_of(Review).columns})
        mine = [(other.id, other.version, other.sha256, other.status, other.lease_owner)] \
            if other.obligation_id != obligation.id else []
        assert one.owed.saved == sorted([(s.id, s.version, s.sha256, s.status, s.lease_owner) for s in saved] + mine)
        provider = {i.id for i in loader.get(CONTRACT).items}
        assert undoing._versions(session, obligation.id, period_id, provider, one.owed.earlier) == \
            undoing._versions(session, obligation.id, period_id, provider)
    assert len(saved) == {"2025-26-Q1": 1, "2025-26-Q3": 2, "2025-26-Q4": 2, "2026-27-Q1": 0}[period_id]
    assert (review is not None) == (period_id != "2026-27-Q1")
    nowhere = history_read.read(reader, CONTRACT, date(2025, 4, 1), date(2026, 7, 14), "quarterly", [], None,
                                history_read.Owed(other.id, "quarterly", "2019-20-Q1"))
    assert nowhere.owed == history_read.OwedRead(None, None, [], [])


@pytest.mark.parametrize("period_id, seed, when", [
    ("2025-26-Q4", 7, at(date(2026, 4, 14))),  # a preview of a correction, with Q1-Q3 accepted
    ("2026-27-Q1", 8, at(date(2026, 7, 10))),  # a new year: the previous period and the cohorts followed up
    ("2025-26", 9, at(date(2026, 4, 25))),  # the annual return: its year's quarters
])
def test_a_return_is_judged_the_same_from_plain_rows_as_through_the_orm(
        logged: Intake, reader: PlainReader, settings: config.Settings, period_id: str, seed: int,
        when: datetime) -> None:
    configured = settings.contract(CONTRACT)
    period = parse_period(period_id, configured.start_month)
    parsed = parse_csv(sample_csv(seed=seed), "return.csv")
    with Session(logged.engine) as session:
        stored = session.get(Contract, CONTRACT)
        assert stored is not None
        orm = assess_in_context(session, stored, period, parsed, when, ZONE, terms=configured.contract_terms())
    plain_contract = plain_reads.contract(reader, CONTRACT)
    assert plain_contract is not None
    plain = assess_with(PlainStore(reader), plain_contract, period, parsed, when, ZONE,
                        terms=configured.contract_terms())
    assert as_dict(CONTRACT, plain.assessment) == as_dict(CONTRACT, orm.assessment)
    assert render_text(configured.name, plain.assessment) == render_text(configured.name, orm.assessment)
    assert (plain.history, plain.history_versions) == (orm.history, orm.history_versions)


def test_the_data_submission_kpis_and_service_failures_are_judged_the_same(logged: Intake,
                                                                           reader: PlainReader) -> None:
    """A framework whose terms have timeliness, accuracy and the late-returns rule (lifestyle), on this log."""
    from kpi_core import loader

    terms = contract_terms(loader.get("lifestyle"))
    assert terms.data_submission is not None and terms.service_failure_after_late is not None
    period, when = parse_period("2025-26-Q3", 11), at(date(2026, 8, 10))  # due 15 August 2026
    parsed = parse_csv(b"item,breakdown,value\ncs_participants,,60\n", "q.csv")
    fields = {"id": CONTRACT, "framework_id": "lifestyle", "value": Decimal("720000.00"), "start": date(2025, 11, 1),
              "end": None, "year_start_month": 11}
    orm_contract = Contract(name="x", framework_version="2025.1", provider_id="breathe-easy",
                            commissioner_id="example-council", **fields)
    with Session(logged.engine) as session:
        orm = assess_in_context(session, orm_contract, period, parsed, when, ZONE, terms=terms)
    plain = assess_with(PlainStore(reader), plain_reads.ContractRow(**fields), period, parsed, when, ZONE,
                        terms=terms)
    assert as_dict(CONTRACT, plain.assessment) == as_dict(CONTRACT, orm.assessment)
    assert orm.assessment.scorecard.result("DS.1").status != "no_data"


def test_the_revision_of_a_file_without_kpibots_tables_is_none_and_a_missing_file_is_never_created(
        tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    reader = PlainReader(f"sqlite:///{empty}", empty)
    assert plain_reads.revision(reader) is None
    reader.close()
    with pytest.raises(sqlite3.OperationalError):
        PlainReader(f"sqlite:///{tmp_path / 'missing.db'}", tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()


SQL_WORDS = {"select", "from", "where", "and", "in", "order", "by", "join", "on", "not", "null", "is", "left", "outer",
             "union", "all"}


def test_every_table_and_column_the_plain_reads_name_is_one_of_the_models(logged: Intake,
                                                                          reader: PlainReader) -> None:
    """The plain SQL names only tables and columns the models define, so a renamed column cannot drift."""
    seen: list[str] = []
    original = reader.rows

    def recording(sql: str, **params: Any) -> list[tuple[Any, ...]]:
        seen.append(sql)
        return original(sql, **params)

    reader.rows = recording  # type: ignore[method-assign]
    store = PlainStore(reader)
    store.log(CONTRACT, date(2024, 1, 1), date(2026, 7, 14))
    store.obligation_id(CONTRACT, "quarterly", "2025-26-Q1")
    plain_reads.contract(reader, CONTRACT)
    plain_reads.values_of_versions(reader, plain_reads.accepted_versions(reader, CONTRACT, "quarterly",
                                                                         ["2025-26-Q1"]))
    plain_reads.accepted_values(reader, CONTRACT, "quarterly", ["2025-26-Q1"])
    plain_reads.benchmarks(reader, CONTRACT)
    tables = SQLModel.metadata.tables
    assert len(seen) == 9  # every query of the module
    for sql in seen:
        named = set(re.findall(r"(?:FROM|JOIN) (\w+)", sql))
        assert named <= set(tables), sql
        columns = {c.name for t in named for c in tables[t].columns}
        for table, column in re.findall(r"\b(\w+)\.(\w+)\b", sql):
            assert table in named and column in {c.name for c in tables[table].columns}, (sql, table, column)
        unquoted = re.sub(r"'[^']*'|:\w+|\b\w+\.\w+\b", " ", sql)
        words = {w.strip('"') for w in re.findall(r'"?\b[a-z_]+\b"?', unquoted.lower())}
        assert words - SQL_WORDS - named - {"asc", "desc"} <= columns, sql


def test_kpibot_score_prints_what_the_orm_judged(logged: Intake, settings: config.Settings, tmp_path: Path) -> None:
    """End to end: `kpibot score` (plain reads) prints the figures and words the intake's ORM reads give."""
    import json

    from click.testing import CliRunner

    from bot.cli import main

    path = tmp_path / "q4.csv"
    path.write_bytes(sample_csv(seed=7))
    args = ["--config", str(tmp_path / "config.toml"), "score", str(path), "--contract", CONTRACT, "--period",
            "2025-26-Q4", "--today", "2026-04-14"]
    shown = CliRunner().invoke(main, [*args, "--json"], catch_exceptions=False)
    text = CliRunner().invoke(main, args, catch_exceptions=False)
    configured = settings.contract(CONTRACT)
    with Session(logged.engine) as session:
        stored = session.get(Contract, CONTRACT)
        assert stored is not None
        orm = assess_in_context(session, stored, parse_period("2025-26-Q4", 4), parse_csv(path.read_bytes(),
                                path.name), datetime(2026, 4, 14, 11, tzinfo=UTC), ZONE,
                                terms=configured.contract_terms())
    printed = json.loads(shown.output)
    assert printed["judged_with"]["periods"] == ["2025-26-Q1", "2025-26-Q2", "2025-26-Q3"]
    assert {k: v for k, v in printed.items() if k != "judged_with"} == json.loads(
        json.dumps(as_dict(CONTRACT, orm.assessment), default=str))
    assert text.output.startswith(render_text(configured.name, orm.assessment).split("\n")[0])
    assert render_text(configured.name, orm.assessment).split("\n", 2)[2] in text.output


def test_a_damaged_database_file_is_one_error_line_naming_it(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from intake_fixtures import deployment

    from bot.cli import main

    deployment(tmp_path, f"sqlite:///{tmp_path / 'kpibot.db'}")
    (tmp_path / "kpibot.db").write_bytes(b"not a database " * 1000)
    path = tmp_path / "q1.csv"
    path.write_bytes(sample_csv())
    done = CliRunner().invoke(main, ["--config", str(tmp_path / "config.toml"), "score", str(path), "--contract",
                                     CONTRACT, "--period", "2025-26-Q1"])
    assert done.exit_code == 1
    assert done.output.splitlines() == [f"Error: the database sqlite:///{tmp_path / 'kpibot.db'} refused the "
                                        "operation: file is not a database"]
