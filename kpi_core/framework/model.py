"""A framework: what a contract's KPI schedule says, as data, with every reference checked on load."""

from __future__ import annotations

import difflib
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, PrivateAttr, model_validator

from kpi_core import expressions
from kpi_core.framework.base import Id, Model
from kpi_core.framework.implied_rules import part_within_whole_rules
from kpi_core.framework.indicators import (
    Amber,
    DataItem,
    Disaggregation,
    Indicator,
    ValidationRule,
)
from kpi_core.framework.notes import Assumption, Discrepancy, NotEncoded, Version
from kpi_core.framework.payment_rules import PaymentRule
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
    calendar: CalendarSpec = CalendarSpec()
    scoring: ScoringSpec = ScoringSpec()
    terms: Terms = Terms()
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

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, arbitrary_types_allowed=True)

    @model_validator(mode="after")
    def _references(self) -> "Framework":
        problems: list[str] = []
        item_ids = [i.id for i in self.items]
        problems += [f"items: {d!r} is defined twice" for d in _duplicates(item_ids)]
        problems += [f"indicators: ref {d!r} is defined twice" for d in _duplicates([i.ref for i in self.indicators])]
        problems += [f"rules: id {d!r} is defined twice" for d in _duplicates([r.id for r in self.rules])]
        problems += [f"payments: id {d!r} is defined twice" for d in _duplicates([p.id for p in self.payments])]
        items = {i.id: i for i in self.items}
        known_returns = set(self.returns)
        for index, item in enumerate(self.items):
            where = f"items[{index}] ({item.id})"
            for dim in item.breakdowns:
                if dim not in self.disaggregations:
                    problems.append(f"{where}: breakdown {dim!r} is not a disaggregation; known: {_known(self.disaggregations)}")
            for ret in item.returns:
                if ret not in known_returns:
                    problems.append(f"{where}: return {ret!r} is unknown; known: {_known(known_returns)}")
            if item.weight is not None and item.weight not in items:
                problems.append(f"{where}: weight {item.weight!r} is not a data item")
        for index, ind in enumerate(self.indicators):
            where = f"indicators[{index}] ({ind.ref})"
            nodes = [expressions.parse(text) for text in ind.expression_texts()]
            # Threshold bounds are already parsed; rendering them back to text could lose digits (1e-05).
            nodes += [t.expression for t in (ind.target, ind.critical, ind.stretch) if t and t.expression is not None]
            for node in nodes:
                for ref in expressions.refs(node):
                    problems += self._check_ref(ref, items, where)
            for ret in ind.returns:
                if ret not in known_returns:
                    problems.append(f"{where}: return {ret!r} is unknown; known: {_known(known_returns)}")
            if isinstance(ind.trajectory, tuple) and ind.cumulative:
                periods = {"monthly": 12, "quarterly": 4, "annual": 1}
                counts = {periods[self.returns[r].frequency] for r in (ind.returns or tuple(self.returns))
                          if r in self.returns}  # an unknown return is reported above
                if counts and len(ind.trajectory) not in counts:
                    problems.append(f"{where}: trajectory has {len(ind.trajectory)} shares; expected one per period")
        for index, rule in enumerate(self.rules):
            for ref in expressions.refs(expressions.parse(rule.check, allow_comparison=True)):
                problems += self._check_ref(ref, items, f"rules[{index}] ({rule.id})")
        for index, ind in enumerate(self.indicators):
            if ind.cohort is not None:
                for name in (ind.cohort.item, ind.cohort.fallback):
                    if name is not None and name not in items:
                        problems.append(f"indicators[{index}] ({ind.ref}).cohort: {name!r} is not a data item")
        refs = {i.ref for i in self.indicators}
        for index, version in enumerate(self.versions):
            for change in version.indicators:
                if change.ref not in refs:
                    problems.append(f"versions[{index}] ({version.version}): indicator {change.ref!r} is not defined")
        for index, pay in enumerate(self.payments):
            if pay.indicator not in refs:
                problems.append(f"payments[{index}] ({pay.id}): indicator {pay.indicator!r} is not defined")
        if problems:
            raise ValueError("; ".join(problems))
        # Rules that follow from the indicators themselves: every part is at most its whole, per category.
        implied = part_within_whole_rules(self.rules, self.items, self.indicators, self.disaggregations)
        object.__setattr__(self, "rules", self.rules + implied)
        return self

    def _check_ref(self, ref: expressions.Ref, items: dict[str, DataItem], where: str) -> list[str]:
        if ref.item not in items:
            close = difflib.get_close_matches(ref.item, items, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"data items: {_known(items)}"
            return [f"{where}: {ref.item!r} is not a data item; {hint}"]
        problems = []
        item = items[ref.item]
        for dim, cat in ref.breakdown:
            if dim not in item.breakdowns:
                problems.append(f"{where}: {ref.item!r} is not broken down by {dim!r}; it is by: {_known(item.breakdowns)}")
            elif cat not in self.disaggregations[dim].categories:
                known = _known(self.disaggregations[dim].categories)
                problems.append(f"{where}: {cat!r} is not a category of {dim!r}; known: {known}")
        return problems

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



def _duplicates(values: list[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({v for v in values if v in seen or seen.add(v)})  # type: ignore[func-returns-value]


def _known(values: object) -> str:
    names = sorted(values) if values else []  # type: ignore[call-overload]
    return ", ".join(names) if names else "(none)"
