"""The shape of a KPI framework file, validated on load.

A framework is what a contract's KPI schedule says, as data: the data items a provider enters, the indicators
computed from them, validation rules, payment rules and the returns with their due dates. Adding a contract means
writing a TOML file; nothing here knows any particular council.
"""

from __future__ import annotations

import difflib
from fractions import Fraction
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kpi_core import expressions
from kpi_core.thresholds import Threshold, parse_threshold

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=64)]
Ref = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=32)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


def _share(value: float | str) -> Fraction:
    """Accept 0.05 or '5%' for a share of contract value."""
    if isinstance(value, str):
        text = value.strip()
        if not text.endswith("%"):
            raise ValueError("write a share as a fraction (0.05) or a percentage ('5%')")
        result = Fraction(text[:-1].strip()) / 100
    else:
        result = Fraction(str(value))
    if not 0 <= result <= 1:
        raise ValueError("a share must lie between 0 and 1 (0% and 100%)")
    return result


class DayOfNextMonth(_Model):
    """`day` of the month after the period ends: the 15th of the month after the quarter."""

    rule: Literal["day_of_next_month"]
    day: int = Field(ge=1, le=28)
    roll_to_working_day: bool = False


class DateAfter(_Model):
    """The first `day` `month` after the period ends: 30 April after the year."""

    rule: Literal["date_after"]
    month: int = Field(ge=1, le=12)
    day: int = Field(ge=1, le=31)
    roll_to_working_day: bool = False

    @model_validator(mode="after")
    def _real_date(self) -> "DateAfter":
        import calendar

        if self.day > calendar.monthrange(2023, self.month)[1]:
            raise ValueError(f"month {self.month} has no day {self.day}")
        return self


class WorkingDaysAfter(_Model):
    """N working days (England and Wales) after the period ends."""

    rule: Literal["working_days_after"]
    days: int = Field(ge=1, le=260)
    roll_to_working_day: bool = False


class DaysAfter(_Model):
    """N calendar days after the period ends."""

    rule: Literal["days_after"]
    days: int = Field(ge=0, le=366)
    roll_to_working_day: bool = False


class EndOfNextMonth(_Model):
    """The last day of the month after the period ends: "the end of the month of the monitoring return"."""

    rule: Literal["end_of_next_month"]
    roll_to_working_day: bool = False


DueRule = Annotated[DayOfNextMonth | DateAfter | WorkingDaysAfter | DaysAfter | EndOfNextMonth,
                    Field(discriminator="rule")]


class ReturnType(_Model):
    """A monitoring return the contract requires, e.g. the quarterly workbook.

    `assumed` says, in words, what kpibot chose where the schedule is silent (no due date given, no such return
    named); empty when the schedule states the return and its due date.
    """

    label: str
    frequency: Literal["monthly", "quarterly", "annual"]
    due: DueRule
    meeting: DueRule | None = None  # the performance meeting on this return, when the schedule sets one
    assumed: str = ""


class Category(_Model):
    id: Id
    label: str


class Disaggregation(_Model):
    """A way a figure is broken down (age band, sex, priority group...).

    `exhaustive` says the categories partition the total, so they must add up to it; priority groups overlap and
    are not exhaustive.
    """

    label: str
    exhaustive: bool = True
    categories: dict[Id, str]
    assumed: str = ""

    @field_validator("categories")
    @classmethod
    def _not_empty(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) < 2:
            raise ValueError("a disaggregation needs at least two categories")
        return value


class DataItem(_Model):
    """One figure a provider enters (or, with source = 'system', kpibot derives from the submission log)."""

    id: Id
    label: str
    unit: str = "people"
    type: Literal["count", "sum", "average", "yes_no"] = "count"
    guidance: str = ""
    breakdowns: tuple[Id, ...] = ()
    required: bool = True
    returns: tuple[Id, ...] = ()  # empty: every return type of the framework
    minimum: float | None = None
    maximum: float | None = None
    weight: Id | None = None  # for averages: the item that weights them when pooling periods
    # provider: entered in the return; system: worked out from the submission log; commissioner: a benchmark the
    # commissioner loads per period (`kpibot benchmarks load`), never taken from the return.
    source: Literal["provider", "system", "commissioner"] = "provider"
    assumed: str = ""


class Amber(_Model):
    """A band short of target that the contract calls amber; without one, every miss is red.

    `relative` (a share of target, 0.1 = within 10%), `absolute` (in the indicator's unit) or
    `between_critical = true` (anything between the critical level and the target).
    """

    relative: float | None = Field(default=None, gt=0, lt=1)
    absolute: float | None = Field(default=None, gt=0)
    between_critical: bool = False
    assumed: str = ""

    @model_validator(mode="after")
    def _one(self) -> "Amber":
        given = (self.relative is not None) + (self.absolute is not None) + self.between_critical
        if given != 1:
            raise ValueError("give exactly one of relative (share of target, e.g. 0.1), absolute (in the unit) or "
                             "between_critical = true")
        return self


class Cohort(_Model):
    """A denominator from an earlier period: the people a follow-up counts were in an earlier cohort.

    "4-week quitters followed up at 6 months" are followed up from the quitters of the quarter six months earlier:
    `item = "quits_4wk"`, `months_earlier = 6`. The figure comes from that period's accepted return; when it is
    not stored, the return's own `fallback` item (the cohort size the provider gives) is used.
    """

    item: Id
    months_earlier: int = Field(ge=1, le=60)
    fallback: Id | None = None


KIND_MULTIPLIER = {"percentage": Fraction(100), "rate": None, "ratio": Fraction(1), "average": Fraction(1)}


class Indicator(_Model):
    """A KPI computed from data items and judged against its thresholds."""

    ref: Ref
    name: str
    section: str = ""
    kind: Literal["count", "percentage", "rate", "average", "ratio"]
    expression: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    per: int | None = Field(default=None, gt=0)  # rate per `per` (100000 for "per 100,000")
    unit: str = ""
    direction: Literal["higher", "lower"] | None = None
    target: Threshold | None = None
    critical: Threshold | None = None
    stretch: Threshold | None = None
    amber: Amber | Literal[False] | None = None  # None: the framework's band; false: no band for this one
    cohort: Cohort | None = None
    # The numerator is not a subset of the denominator (e.g. starters this quarter of referrals this quarter, some
    # referred last quarter): no "numerator <= denominator" rule is generated for it.
    different_cohort: bool = False
    # The target is the contract's data-submission term (timeliness or accuracy), which config.toml may change.
    term: Literal["timeliness", "accuracy"] | None = None
    assumed: str = ""
    target_text: str = ""
    cumulative: bool = False
    trajectory: Literal["even"] | tuple[float, ...] = "even"
    information_only: bool = False
    returns: tuple[Id, ...] = ()
    exception_report: bool = False
    incentivised: bool = False
    notes: str = ""

    @field_validator("target", "critical", "stretch", mode="before")
    @classmethod
    def _threshold(cls, value: object) -> object:
        if value is None or isinstance(value, Threshold):
            return value
        return parse_threshold(value)  # type: ignore[arg-type]

    @field_validator("expression", "numerator", "denominator")
    @classmethod
    def _expression(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                expressions.parse(value)
            except expressions.ExpressionError as exc:
                raise ValueError(f"{value!r}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "Indicator":
        fraction_kinds = ("percentage", "rate", "ratio")
        if self.cohort is not None and not (self.numerator and self.denominator):
            raise ValueError("a cohort replaces the denominator: give numerator and denominator")
        if self.kind in fraction_kinds:
            if not (self.numerator and self.denominator) or self.expression:
                raise ValueError(f"a {self.kind} indicator needs numerator and denominator (and no expression)")
        elif self.expression is None:
            if not (self.numerator and self.denominator):
                raise ValueError(f"a {self.kind} indicator needs an expression (or numerator and denominator)")
        if self.kind == "rate" and self.per is None:
            raise ValueError("a rate needs per, e.g. per = 100000 for a rate per 100,000")
        if self.information_only:
            return self  # reported, never coloured: thresholds, if any, are shown for context only
        if self.target is None:
            raise ValueError("give a target, or set information_only = true for baseline or information indicators")
        direction = "higher" if self.target.higher_is_better else "lower"
        if self.direction is not None and self.direction != direction:
            raise ValueError(f"direction is {self.direction!r} but target {self.target.text!r} says {direction}")
        for name in ("critical", "stretch"):
            other: Threshold | None = getattr(self, name)
            if other is None:
                continue
            # A critical threshold names the failing side; a stretch the good side.
            good_side = other.higher_is_better if name == "stretch" else not other.higher_is_better
            if good_side != self.target.higher_is_better:
                raise ValueError(f"{name} {other.text!r} points the other way from target {self.target.text!r}")
            if self.target.bound is not None and other.bound is not None:
                better = other.bound >= self.target.bound if direction == "higher" else other.bound <= self.target.bound
                if name == "critical" and better and other.bound != self.target.bound:
                    raise ValueError(f"critical {other.text!r} lies on the good side of target {self.target.text!r}")
                if name == "stretch" and not better:
                    raise ValueError(f"stretch {other.text!r} is easier than target {self.target.text!r}")
        if isinstance(self.trajectory, tuple):
            if any(share < 0 for share in self.trajectory) or abs(sum(self.trajectory) - 1) > 1e-9:
                raise ValueError("a custom trajectory lists each period's share of the annual target, adding to 1")
        return self

    @property
    def higher_is_better(self) -> bool:
        if self.target is not None:
            return self.target.higher_is_better
        return self.direction != "lower"

    @property
    def multiplier(self) -> Fraction:
        if self.kind == "rate":
            return Fraction(self.per or 1)
        return KIND_MULTIPLIER.get(self.kind, Fraction(1)) or Fraction(1)

    def expression_texts(self) -> list[str]:
        return [t for t in (self.expression, self.numerator, self.denominator) if t]


class ValidationRule(_Model):
    """A check over data items, e.g. `quits_4wk <= quit_dates`."""

    id: Id
    check: str
    severity: Literal["error", "warning"] = "error"
    message: str
    generated: bool = False  # made by kpibot from an indicator whose numerator is part of its denominator

    @field_validator("check")
    @classmethod
    def _rule(cls, value: str) -> str:
        try:
            node = expressions.parse(value, allow_comparison=True)
        except expressions.ExpressionError as exc:
            raise ValueError(f"{value!r}: {exc}") from None
        if not isinstance(node, expressions.Compare):
            raise ValueError(f"{value!r} must compare two sides, e.g. 'a <= b'")
        return value


class Tier(_Model):
    at: float
    share: Fraction
    label: str = ""

    @field_validator("share", mode="before")
    @classmethod
    def _share(cls, value: object) -> Fraction:
        return _share(value)  # type: ignore[arg-type]


class LinearPayment(_Model):
    """Payment by results: nothing at or below `minimum`, all of the pot at `stretch`, proportional between."""

    id: Id
    name: str
    kind: Literal["linear"]
    indicator: Ref
    share: Fraction
    minimum: float
    stretch: float
    notes: str = ""

    @field_validator("share", mode="before")
    @classmethod
    def _share(cls, value: object) -> Fraction:
        return _share(value)  # type: ignore[arg-type]

    @model_validator(mode="after")
    def _order(self) -> "LinearPayment":
        if self.minimum == self.stretch:
            raise ValueError("minimum and stretch must differ")
        return self


class TierPayment(_Model):
    """Incentive tiers: each tier reached adds its share of contract value."""

    id: Id
    name: str
    kind: Literal["tiers"]
    indicator: Ref
    tiers: tuple[Tier, ...] = Field(min_length=1)
    notes: str = ""


PaymentRule = Annotated[LinearPayment | TierPayment, Field(discriminator="kind")]


class CalendarSpec(_Model):
    year_start_month: int = Field(default=4, ge=1, le=12)


class ScoringSpec(_Model):
    amber: Amber | None = None  # none: a miss is red, as the action-plan template's "ALL measures showing RED"
    min_denominator: int = Field(default=30, ge=1)


class DataSubmissionTerms(_Model):
    """Data submission KPIs: timeliness and accuracy of returns against a % target (lifestyle schedule 2.5)."""

    timeliness_target: float = Field(default=95, gt=0, le=100)
    accuracy_target: float = Field(default=95, gt=0, le=100)


class Terms(_Model):
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


class Assumption(_Model):
    """A choice kpibot made where the schedule is silent or ambiguous, for the commissioner to confirm."""

    about: str
    text: str


class Discrepancy(_Model):
    """Something in the schedule itself that does not add up; kpibot keeps the schedule's figures."""

    about: str
    text: str


class NotEncoded(_Model):
    """A requirement of the schedule that kpibot does not score, and why."""

    about: str
    why: str


class IndicatorChange(_Model):
    """Fields of one indicator that change in a later version (a new target, a reviewed threshold)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    ref: Ref


class Version(_Model):
    """A framework version in force from a contract year on: year-2 targets, a review at 24 months."""

    version: str
    from_contract_year: int = Field(ge=2, le=50)
    notes: str = ""
    indicators: tuple[IndicatorChange, ...] = ()


class Framework(_Model):
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
        object.__setattr__(self, "rules", self.rules + _part_within_whole_rules(self))
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
                problems.append(f"{where}: {cat!r} is not a category of {dim!r}; known: {_known(self.disaggregations[dim].categories)}")
        return problems

    # Convenience lookups used throughout kpibot.
    def item(self, item_id: str) -> DataItem:
        return next(i for i in self.items if i.id == item_id)

    def indicator(self, ref: str) -> Indicator:
        return next(i for i in self.indicators if i.ref == ref)

    def items_for(self, return_id: str) -> list[DataItem]:
        return [i for i in self.items if not i.returns or return_id in i.returns]

    def indicators_for(self, return_id: str) -> list[Indicator]:
        return [i for i in self.indicators if not i.returns or return_id in i.returns]


def _part_within_whole_rules(fw: Framework) -> tuple[ValidationRule, ...]:
    """`numerator <= denominator` for every percentage or rate whose numerator counts part of its denominator,
    and the same for each category both sides are broken down by (40 quitters of 4 in one priority group is
    impossible however the totals look). Indicators marked `different_cohort` are left out; one with a `cohort`
    is checked against the cohort size the return gives (its stored size is checked in `kpi_core.cohorts`).
    A pair an explicit rule already compares keeps the explicit rule (and its severity)."""
    seen = {_pair_key(expressions.parse(r.check, allow_comparison=True)) for r in fw.rules}
    items = {i.id: i for i in fw.items}
    out: list[ValidationRule] = []
    for ind in fw.indicators:
        if ind.kind not in ("percentage", "rate") or ind.different_cohort:
            continue
        assert ind.numerator is not None and ind.denominator is not None
        num, den = expressions.parse(ind.numerator), expressions.parse(ind.denominator)
        if ind.cohort is not None:  # the part is of an earlier cohort: of the size the return gives, if any
            if ind.cohort.fallback is None:
                continue
            den = expressions.Ref(ind.cohort.fallback)
        pairs: list[tuple[expressions.Node, expressions.Node, str]] = [(num, den, "")]
        if isinstance(num, expressions.Ref) and isinstance(den, expressions.Ref) and num.breakdown == den.breakdown:
            used = {dim for dim, _ in num.breakdown}
            shared = [d for d in items[num.item].breakdowns if d in items[den.item].breakdowns and d not in used]
            for dim in shared:
                for cat in fw.disaggregations[dim].categories:
                    pairs.append((expressions.Ref(num.item, num.breakdown + ((dim, cat),)),
                                  expressions.Ref(den.item, den.breakdown + ((dim, cat),)), f"_{dim}_{cat}"))
        base = "within_" + "".join(c if c.isalnum() else "_" for c in ind.ref.lower())
        for left, right, suffix in pairs:
            key = _pair_key(expressions.Compare("<=", left, right))
            if key in seen:
                continue
            seen.add(key)
            out.append(ValidationRule(
                id=(base + suffix)[:64], check=f"{_plain(left)} <= {_plain(right)}", generated=True,
                message=f"{_describe(fw, left)} cannot exceed {_describe(fw, right)} ({ind.ref}: the first is "
                        "part of the second)"))
    return tuple(out)


def _pair_key(node: expressions.Node) -> tuple[str, str] | None:
    if not isinstance(node, expressions.Compare):
        return None
    left, right = _plain(node.left), _plain(node.right)
    return (left, right) if node.op in ("<=", "<") else (right, left)


def _plain(node: expressions.Node) -> str:
    text = expressions.to_text(node)
    return text[1:-1] if text.startswith("(") and text.endswith(")") else text


def _describe(fw: Framework, node: expressions.Node) -> str:
    """`4-week quitters (Diagnosed serious mental illness)` for a ref; the expression itself otherwise."""
    if not isinstance(node, expressions.Ref):
        return _plain(node)
    label = next((i.label for i in fw.items if i.id == node.item), node.item)
    cats = [fw.disaggregations[d].categories.get(c, c) for d, c in node.breakdown if d in fw.disaggregations]
    return label + (f" ({', '.join(cats)})" if cats else "")


def _duplicates(values: list[str]) -> list[str]:
    seen: set[str] = set()
    return sorted({v for v in values if v in seen or seen.add(v)})  # type: ignore[func-returns-value]


def _known(values: object) -> str:
    names = sorted(values) if values else []  # type: ignore[call-overload]
    return ", ".join(names) if names else "(none)"
