"""A framework: what a contract's KPI schedule says, as data, with every reference checked on load."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, PrivateAttr, model_validator

from kpi_core import expressions
from kpi_core.framework.base import Id, Model
from kpi_core.framework.implied_rules import part_within_whole_rules, per_category_rules, same_people_rules
from kpi_core.framework.indicators import (
    Amber,
    DataItem,
    Disaggregation,
    Indicator,
    ValidationRule,
)
from kpi_core.framework.notes import Assumption, Discrepancy, NotEncoded, Version
from kpi_core.framework.payment_rules import LinearPayment, PaymentRule
from kpi_core.framework.returns import ReturnType


class CalendarSpec(Model):
    year_start_month: int = Field(default=4, ge=1, le=12)


class ScoringSpec(Model):
    amber: Amber | None = None  # none: a miss is red, as the action-plan template's "ALL measures showing RED"
    min_denominator: int = Field(default=30, ge=1)


class DataSubmissionTerms(Model):
    """Data submission KPIs: timeliness and accuracy of returns against a % target (lifestyle schedule 2.5)."""

    timeliness_target: float = Field(default=95, gt=0, le=100)
    accuracy_target: float = Field(default=95, gt=0, le=100)


class Terms(Model):
    """Contract terms beyond the indicators: data-submission KPIs and the late-returns service failure rule.

    Absent means the contract does not have the term; `assumed` says what kpibot chose where the schedule is
    silent. A commissioner may set or remove each term per contract in config.toml (`[contracts.terms]`).
    """

    data_submission: DataSubmissionTerms | None = None
    service_failure_after_late: int | None = Field(default=None, ge=1, le=12)  # consecutive late periods
    # The contract's own words for that rule and where they are, quoted in the service-failure notice.
    service_failure_rule: str = ""
    service_failure_source: str = ""
    assumed: str = ""


class Framework(Model):
    schema_version: Literal[1] = Field(alias="schema")
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9\-]*$", max_length=64)]
    name: str
    version: str = "1"
    description: str = ""
    source: str = ""
    calendar: CalendarSpec = Field(default_factory=CalendarSpec)
    scoring: ScoringSpec = Field(default_factory=ScoringSpec)
    terms: Terms = Field(default_factory=Terms)
    returns: dict[Id, ReturnType] = Field(min_length=1)
    disaggregations: dict[Id, Disaggregation] = {}
    items: tuple[DataItem, ...] = Field(min_length=1)
    indicators: tuple[Indicator, ...] = ()
    rules: tuple[ValidationRule, ...] = ()
    payments: tuple[PaymentRule, ...] = ()
    assumptions: tuple[Assumption, ...] = ()
    discrepancies: tuple[Discrepancy, ...] = ()
    not_encoded: tuple[NotEncoded, ...] = ()
    versions: tuple[Version, ...] = ()
    # Set by kpi_core.terms.apply_terms, never in a file: the indicators a contract's terms leave out, as people
    # read them (`DS.1 Timeliness of data and information submissions`), shown as not applicable.
    _not_applicable: tuple[str, ...] = PrivateAttr(default=())

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, arbitrary_types_allowed=True,
                              defer_build=True)

    @model_validator(mode="after")
    def _references(self) -> "Framework":
        problems = reference_problems(self.returns, self.disaggregations, list(enumerate(self.items)),
                                      list(enumerate(self.indicators)), list(enumerate(self.rules)),
                                      list(enumerate(self.payments)), list(enumerate(self.versions)))
        if problems:
            raise ValueError("\n".join(problems))  # one mistake a line
        # Rules written once for every category, the same people counted in two breakdowns, and those that follow
        # from the indicators themselves: every part is at most its whole, per category.
        rules = self.rules + per_category_rules(self.rules, self.items, self.disaggregations)
        rules += same_people_rules(self.items, self.disaggregations)
        rules += part_within_whole_rules(rules, self.items, self.indicators, self.disaggregations)
        object.__setattr__(self, "rules", rules)
        return self

    @property
    def not_applicable(self) -> tuple[str, ...]:
        return self._not_applicable

    def without(self, refs: set[str], why: tuple[str, ...]) -> "Framework":
        """A copy without the indicators `refs`, which `why` lists as not applicable to the contract."""
        copy = self.model_copy(update={"indicators": tuple(i for i in self.indicators if i.ref not in refs)})
        copy.__pydantic_private__["_not_applicable"] = self._not_applicable + why  # type: ignore[index]
        return copy

    # Convenience lookups used throughout kpibot.
    def item(self, item_id: str) -> DataItem:
        return next(i for i in self.items if i.id == item_id)

    def indicator(self, ref: str) -> Indicator:
        return next(i for i in self.indicators if i.ref == ref)

    def items_for(self, return_id: str) -> list[DataItem]:
        return [i for i in self.items if not i.returns or return_id in i.returns]

    def indicators_for(self, return_id: str) -> list[Indicator]:
        return [i for i in self.indicators if not i.returns or return_id in i.returns]



def entry(table: str, index: int, key: str, name: object) -> str:
    """`indicators #4 (ref '1.4')`: an entry of a list of tables, counted from 1 and named, as a person finds it."""
    return f"{table} #{index + 1} ({key} {name!r})"


def reference_problems(returns: Mapping[str, ReturnType], disaggregations: Mapping[str, Disaggregation],
                       items_: Sequence[tuple[int, DataItem]], indicators: Sequence[tuple[int, Indicator]],
                       rules: Sequence[tuple[int, ValidationRule]], payments: Sequence[tuple[int, PaymentRule]],
                       versions: Sequence[tuple[int, Version]], invalid: Collection[str] = ()) -> list[str]:
    """Every reference between the parts of a framework that does not hold, and every impossible threshold a
    payment sets. Entries come with their place in the file; `invalid` names entries (items, indicators) that are
    in the file but have mistakes of their own, so nothing is reported twice."""
    problems: list[str] = []
    item_list = [i for _, i in items_]
    problems += [f"items: id {d!r} is defined twice" for d in _duplicates([i.id for i in item_list])]
    problems += [f"indicators: ref {d!r} is defined twice" for d in _duplicates([i.ref for _, i in indicators])]
    problems += [f"rules: id {d!r} is defined twice" for d in _duplicates([r.id for _, r in rules])]
    problems += [f"payments: id {d!r} is defined twice" for d in _duplicates([p.id for _, p in payments])]
    items = {i.id: i for i in item_list}
    known_returns = set(returns)
    checker = _References(items, disaggregations, set(invalid))
    for index, item in items_:
        where = entry("items", index, "id", item.id)
        for dim in item.breakdowns:
            if dim not in disaggregations and dim not in invalid:
                problems.append(f"{where}: breakdown {dim!r} is not a disaggregation; known: {_known(disaggregations)}")
        for ret in item.returns:
            if ret not in known_returns and ret not in invalid:
                problems.append(f"{where}: return {ret!r} is unknown; known: {_known(known_returns)}")
        if item.weight is not None and item.weight not in items and item.weight not in invalid:
            problems.append(f"{where}: weight {item.weight!r} is not a data item")
    for index, ind in indicators:
        where = entry("indicators", index, "ref", ind.ref)
        nodes = [expressions.parse(text) for text in ind.expression_texts()]
        # Threshold bounds are already parsed; rendering them back to text could lose digits (1e-05).
        nodes += [t.expression for t in (ind.target, ind.critical, ind.stretch) if t and t.expression is not None]
        for node in nodes:
            for ref in expressions.refs(node):
                problems += checker.check(ref, where)
        for ret in ind.returns:
            if ret not in known_returns and ret not in invalid:
                problems.append(f"{where}: return {ret!r} is unknown; known: {_known(known_returns)}")
        if isinstance(ind.trajectory, tuple) and ind.cumulative:
            periods = {"monthly": 12, "quarterly": 4, "annual": 1}
            counts = {periods[returns[r].frequency] for r in (ind.returns or tuple(returns))
                      if r in returns}  # an unknown return is reported above
            if counts and len(ind.trajectory) not in counts:
                problems.append(f"{where}: trajectory has {len(ind.trajectory)} shares; expected one per period")
        if ind.cohort is not None:
            for name in (ind.cohort.item, ind.cohort.fallback):
                if name is not None and name not in items and name not in invalid:
                    problems.append(f"{where}: cohort: {name!r} is not a data item")
    for index, rule in rules:
        where = entry("rules", index, "id", rule.id)
        for ref in expressions.refs(expressions.parse(rule.check, allow_comparison=True)):
            problems += checker.check(ref, where)
        for ret in rule.returns:
            if ret not in known_returns and ret not in invalid:
                problems.append(f"{where}: return {ret!r} is unknown; known: {_known(known_returns)}")
    for key, dis in disaggregations.items():
        for cat, other in dis.same_as.items():
            other_dim, _, other_cat = other.partition("=")
            where = f"disaggregations.{key}.same_as.{cat}"
            if cat not in dis.categories:
                problems.append(f"{where}: {cat!r} is not a category of {key!r}; known: {_known(dis.categories)}")
            elif other_dim not in disaggregations:
                problems.append(f"{where}: write the other breakdown's category as \"breakdown=category\", e.g. "
                                f"\"age_band=under_18\"; {other_dim!r} is not a disaggregation")
            elif other_cat not in disaggregations[other_dim].categories:
                problems.append(f"{where}: {other_cat!r} is not a category of {other_dim!r}; known: "
                                f"{_known(disaggregations[other_dim].categories)}")
    by_ref = {i.ref: i for _, i in indicators}
    for index, version in versions:
        for change in version.indicators:
            if change.ref not in by_ref and change.ref not in invalid:
                problems.append(f"{entry('versions', index, 'version', version.version)}: indicator "
                                f"{change.ref!r} is not defined")
    for index, pay in payments:
        where = entry("payments", index, "id", pay.id)
        target = by_ref.get(pay.indicator)
        if target is None:
            if pay.indicator not in invalid:
                problems.append(f"{where}: indicator {pay.indicator!r} is not defined")
            continue
        problems += [f"{where}: {p}" for p in payment_bounds(pay, target)]
    return problems


def payment_bounds(pay: PaymentRule, ind: Indicator) -> list[str]:
    """Levels a payment sets that its indicator can never reach (a percentage above 100 or below 0)."""
    if ind.kind != "percentage":
        return []
    levels = ([("minimum", pay.minimum), ("stretch", pay.stretch)] if isinstance(pay, LinearPayment)
              else [(f"tier #{n} at", t.at) for n, t in enumerate(pay.tiers, start=1)])
    return [f"{name} {value:g} is not a percentage ({ind.ref} is a percentage, from 0 to 100); write the level "
            f"as a percentage, e.g. {min(max(value, 0), 100):g}" for name, value in levels if not 0 <= value <= 100]


class _References:
    """Checks that a reference in an expression names a data item, a breakdown it has and a category of it."""

    def __init__(self, items: Mapping[str, DataItem], disaggregations: Mapping[str, Disaggregation],
                 invalid: set[str]) -> None:
        self.items, self.disaggregations, self.invalid = items, disaggregations, invalid

    def check(self, ref: expressions.Ref, where: str) -> list[str]:
        if ref.item in self.invalid:
            return []  # the item has mistakes of its own, reported where it is defined
        if ref.item not in self.items:
            close = difflib.get_close_matches(ref.item, self.items, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"data items: {_known(self.items)}"
            return [f"{where}: {ref.item!r} is not a data item; {hint}"]
        problems = []
        item = self.items[ref.item]
        for dim, cat in ref.breakdown:
            if dim not in item.breakdowns:
                problems.append(f"{where}: {ref.item!r} is not broken down by {dim!r}; it is by: "
                                f"{_known(item.breakdowns)}")
            elif dim in self.disaggregations and cat not in self.disaggregations[dim].categories:
                problems.append(f"{where}: {cat!r} is not a category of {dim!r}; known: "
                                f"{_known(self.disaggregations[dim].categories)}")
        return problems


def _duplicates(values: list[str]) -> list[str]:
    return sorted(v for v, count in Counter(values).items() if count > 1)


def _known(values: Collection[str]) -> str:
    names = sorted(values) if values else []
    return ", ".join(names) if names else "(none)"
