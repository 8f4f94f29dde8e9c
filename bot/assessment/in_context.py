"""Assess a return in the context storage gives it: the year's accepted history and the submission log.

The intake uses this when a file arrives, and reports use it to rebuild a stored submission's assessment from its
raw file, so both judge a return the same way: with the framework version in force for the return's contract year,
the contract's terms, and the commissioner's benchmarks for the period.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Protocol

from bot import config
from bot.assessment.submission_kpis import Judging, kpis_from, local_date, log_start, system_values_for
from bot.assessment.submission_log import SubmissionLog, read_log
from kpi_core import loader
from kpi_core.annual import part_return
from kpi_core.assess import Assessment, assess, return_type_for
from kpi_core.calendar import Period
from kpi_core.cohorts import cohort_periods
from kpi_core.comparators import Benchmark
from kpi_core.escalation import escalation_rule_for
from kpi_core.framework.model import Framework
from kpi_core.part_year import ContractSpan
from kpi_core.returns.model import ParsedReturn
from kpi_core.terms import ContractTerms, apply_terms, contract_terms
from kpi_core.values import Key

if TYPE_CHECKING:
    from sqlmodel import Session

    from bot.storage.models import Obligation


class StoredContract(Protocol):
    """A contract as stored: the ORM's `Contract`, or `plain_reads.ContractRow` for `kpibot score`."""

    @property
    def id(self) -> str: ...
    @property
    def framework_id(self) -> str: ...
    @property
    def value(self) -> Decimal: ...
    @property
    def start(self) -> date: ...
    @property
    def end(self) -> date | None: ...
    @property
    def year_start_month(self) -> int: ...


class Store(Protocol):
    """The reads that judging a return in context makes: through the ORM (`SessionStore`) or as plain SQL
    (`bot.assessment.plain_store.PlainStore`, for `kpibot score`)."""

    def obligation_id(self, contract_id: str, return_type: str, period_id: str) -> int | None: ...
    def log(self, contract_id: str, start: date, as_of: date) -> SubmissionLog: ...
    def accepted_versions(self, contract_id: str, return_type: str, periods: Iterable[Period]) -> dict[str, int]: ...
    def values_of_versions(self, versions: dict[str, int]) -> dict[str, dict[Key, Fraction]]: ...
    def accepted_values(self, contract_id: str, return_type: str,
                        periods: Iterable[Period]) -> tuple[dict[str, int], dict[str, dict[Key, Fraction]]]: ...
    def benchmarks(self, framework: Framework, period: Period, start_month: int) -> list[Benchmark]: ...
    def prefetch(self, contract_id: str, start: date, as_of: date, return_type: str, periods: list[Period] | None,
                 framework_id: str | None) -> None:
        """Read what `log(contract_id, start, as_of)`, `accepted_values(contract_id, return_type, periods)` and
        `benchmarks` of `framework_id` will ask for at once, where the store can (None: not asked for)."""


class SessionStore:
    """The reads through an ORM session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def obligation_id(self, contract_id: str, return_type: str, period_id: str) -> int | None:
        from bot.storage.queries import obligation_for

        obligation = obligation_for(self.session, contract_id, return_type, period_id)
        return obligation.id if obligation is not None else None

    def log(self, contract_id: str, start: date, as_of: date) -> SubmissionLog:
        return read_log(self.session, contract_id, start, as_of)

    def accepted_versions(self, contract_id: str, return_type: str, periods: Iterable[Period]) -> dict[str, int]:
        from bot.storage.queries import accepted_versions

        return accepted_versions(self.session, contract_id, return_type, periods)

    def values_of_versions(self, versions: dict[str, int]) -> dict[str, dict[Key, Fraction]]:
        from bot.storage.queries import values_of_versions

        return values_of_versions(self.session, versions)

    def accepted_values(self, contract_id: str, return_type: str,
                        periods: Iterable[Period]) -> tuple[dict[str, int], dict[str, dict[Key, Fraction]]]:
        versions = self.accepted_versions(contract_id, return_type, periods)
        return versions, self.values_of_versions(versions)

    def benchmarks(self, framework: Framework, period: Period, start_month: int) -> list[Benchmark]:
        from bot.assessment.comparators import benchmarks_for

        return benchmarks_for(self.session, framework, period, start_month)

    def prefetch(self, contract_id: str, start: date, as_of: date, return_type: str, periods: list[Period] | None,
                 framework_id: str | None) -> None:
        """Nothing: the ORM's reads are made as they are asked for."""


@dataclass(frozen=True)
class Assessed:
    assessment: Assessment
    history: dict[str, dict[Key, Fraction]]  # the accepted earlier periods it was judged with
    history_versions: dict[str, int]  # which version of each earlier period: period id -> submission id


def framework_for(contract: StoredContract, period: Period) -> Framework:
    """The framework version in force for `period` of `contract` (year-2 targets for year 2, ...)."""
    return loader.for_period(contract.framework_id, period, contract.start)


def organisation_name(session: Session, settings: config.Settings, organisation_id: str) -> str:
    """An organisation's name as configured (the database holds the same, synced from it; read only when the
    configuration no longer names it)."""
    from bot.storage.models import Organisation  # here: `kpibot score` imports this module without the ORM

    configured = next((o.name for o in settings.organisations if o.id == organisation_id), None)
    stored = None if configured else session.get(Organisation, organisation_id)
    return configured or (stored.name if stored else organisation_id)


def terms_of(settings: config.Settings, contract: StoredContract, period: Period | None = None) -> ContractTerms:
    """The contract's terms as configured; the framework's own when it is no longer in config.toml."""
    try:
        return settings.contract(contract.id).contract_terms()
    except config.ConfigError:
        framework = framework_for(contract, period) if period else loader.get(contract.framework_id)
        return contract_terms(framework)


def span_of(contract: StoredContract) -> ContractSpan:
    """When the contract runs: a contract that starts or ends mid-year owes only the periods it overlaps."""
    return ContractSpan(contract.start, contract.end)


def history_periods(framework: Framework, return_type: str, period: Period) -> list[Period]:
    """The earlier periods whose accepted figures scoring needs: the year so far, the previous period and the
    cohorts followed up (the quarter 6 months back, the same quarter last year)."""
    wanted = [*period.earlier_in_year(), period.previous(), *cohort_periods(framework, return_type, period)]
    return list(dict.fromkeys(wanted))


def assess_in_context(session: Session, contract: StoredContract, period: Period, parsed: ParsedReturn,
                      received_at: datetime, zone: str, *, terms: ContractTerms | None = None,
                      benchmarks: Sequence[Benchmark] | None = None,
                      history_versions: dict[str, int] | None = None, submission_id: int | None = None,
                      obligation: Obligation | None = None, store: Store | None = None) -> Assessed:
    """Interpret, validate and score `parsed` as of `received_at`, with stored history and system figures.

    `terms` are the contract's (`config.Contract.contract_terms()`; default: the framework's own); `benchmarks` the
    commissioner's in force for the period (default: those loaded in the database); `history_versions` pins the
    earlier periods' versions (to draw a report exactly as the reply judged it; default: the versions in force);
    `submission_id` is the stored submission being judged, if there is one (a preview has none); `obligation` the
    return it is for, when the caller has read it already; `store` what reads the rest (default: the ORM, in
    `session`)."""
    return assess_with(store or SessionStore(session), contract, period, parsed, received_at, zone, terms=terms,
                       benchmarks=benchmarks, history_versions=history_versions, submission_id=submission_id,
                       obligation_id=obligation.id if obligation is not None and (
                           obligation.contract_id, obligation.period_id) == (contract.id, period.id) else None)


def assess_with(store: Store, contract: StoredContract, period: Period, parsed: ParsedReturn, received_at: datetime,
                zone: str, *, terms: ContractTerms | None = None, benchmarks: Sequence[Benchmark] | None = None,
                history_versions: dict[str, int] | None = None, submission_id: int | None = None,
                obligation_id: int | None = None) -> Assessed:
    """`assess_in_context` with the stored context read from `store` (`obligation_id`: the return's, when the
    caller knows it)."""
    framework, terms, return_type, today, start, wanted = _context(contract, period, received_at, zone, terms,
                                                                    history_versions is None)
    # The data-submission KPIs as the log stood when the return arrived, the return itself counted: every
    # report of it (the reply, its PDF drawn later, a report drawn again) shows the same figures.
    if obligation_id is None:
        obligation_id = store.obligation_id(contract.id, return_type, period.id)
    judging = Judging(obligation_id, received_at, submission_id) if obligation_id is not None else None
    rule = escalation_rule_for(terms)
    store.prefetch(contract.id, start, today, return_type, wanted, framework.id if benchmarks is None else None)
    log = store.log(contract.id, start, today)
    kpis = kpis_from(log, contract.id, today, zone, rule=rule, moment=received_at, judging=judging)
    system = system_values_for(kpis, framework, terms)
    if history_versions is None:  # the versions in force and their figures
        history_versions, history = store.accepted_values(contract.id, return_type, wanted or [])
    else:
        history = store.values_of_versions(history_versions)
    if benchmarks is None:
        benchmarks = store.benchmarks(framework, period, contract.year_start_month)
    assessment = assess(framework, period, parsed, history=history, contract_value=contract.value, today=today,
                        extra_values=system, expected_contract=contract.id, benchmarks=benchmarks,
                        span=span_of(contract), period_returns=year_parts(store, contract, framework, period))
    return Assessed(assessment, history, history_versions)


def prefetch_for(store: Store, contract: StoredContract, period: Period, received_at: datetime, zone: str,
                 terms: ContractTerms | None = None) -> None:
    """Have `store` read now what `assess_with` (given no benchmarks and no pinned versions) will read: the intake
    reads the return it saves in the same statement (`PlainStore.owed`), before judging it."""
    framework, _, return_type, today, start, wanted = _context(contract, period, received_at, zone, terms, True)
    store.prefetch(contract.id, start, today, return_type, wanted, framework.id)


def _context(contract: StoredContract, period: Period, received_at: datetime, zone: str,
             terms: ContractTerms | None, versions_in_force: bool,
             ) -> tuple[Framework, ContractTerms, str, date, date, list[Period] | None]:
    """The framework (with the contract's terms), the terms, the return type, the day of receipt, the submission
    log's first day and the earlier periods whose figures are read (None: the versions are pinned)."""
    framework = framework_for(contract, period)
    terms = terms or contract_terms(framework)
    framework = apply_terms(framework, terms)
    return_type = return_type_for(framework, period)
    today = local_date(received_at, zone)
    start = log_start(today, rule=escalation_rule_for(terms))
    wanted = history_periods(framework, return_type, period) if versions_in_force else None
    return framework, terms, return_type, today, start, wanted


def year_parts(store: Store, contract: StoredContract, framework: Framework,
               period: Period) -> dict[str, dict[Key, Fraction]] | None:
    """For an annual return, the accepted returns of its year's periods (its quarters), by period id."""
    sub = part_return(framework) if period.frequency == "annual" else None
    if sub is None:
        return None
    parts = period.year.periods(framework.returns[sub].frequency)
    return store.accepted_values(contract.id, sub, parts)[1]
