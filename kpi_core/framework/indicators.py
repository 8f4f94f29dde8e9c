"""Data items, their breakdowns, and the indicators computed from them with their thresholds and checks."""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from kpi_core import expressions
from kpi_core.framework.base import Id, Model, Ref
from kpi_core.thresholds import Threshold, parse_threshold


class Category(Model):
    id: Id
    label: str


class Disaggregation(Model):
    """A way a figure is broken down (age band, sex, priority group...).

    `exhaustive` says the categories partition the total, so they must add up to it; priority groups overlap and
    are not exhaustive.
    """

    label: str
    exhaustive: bool = True
    categories: dict[Id, str]
    # A category that counts the same people as a category of another breakdown (`under_18 = "age_band=under_18"`):
    # for an item broken down both ways the two figures must be equal.
    same_as: dict[Id, str] = {}
    assumed: str = ""

    @field_validator("categories")
    @classmethod
    def _not_empty(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) < 2:
            raise ValueError("a disaggregation needs at least two categories")
        return value


class DataItem(Model):
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
    # The evidence is a document the provider attaches (`Insurance certificate`): kpibot asks for it as a request
    # for information when the return it belongs to falls due; the figure in the return is the provider's word
    # that it is in place. `expires`: the document runs out (an insurance certificate): its expiry date is
    # recorded with it and reminded before it lapses.
    document: str = ""
    expires: bool = False

    @model_validator(mode="after")
    def _range(self) -> "DataItem":
        if self.expires and not self.document:
            raise ValueError("only a document expires: give `document` (what the provider attaches) too")
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValueError(f"minimum {self.minimum:g} is above maximum {self.maximum:g}: no figure could be "
                             "entered")
        return self


class Amber(Model):
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


class Cohort(Model):
    """A denominator from an earlier period: the people a follow-up counts were in an earlier cohort.

    "4-week quitters followed up at 6 months" are followed up from the quitters of the quarter six months earlier:
    `item = "quits_4wk"`, `months_earlier = 6`. The figure comes from that period's accepted return; when it is
    not stored, the return's own `fallback` item (the cohort size the provider gives) is used.
    """

    item: Id
    months_earlier: int = Field(ge=1, le=60)
    fallback: Id | None = None


KIND_MULTIPLIER = {"percentage": Fraction(100), "rate": None, "ratio": Fraction(1), "average": Fraction(1)}


class Indicator(Model):
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
    # Tied to a term of the contract: the target is its data-submission term (timeliness or accuracy), which
    # config.toml may change; a contract without the term (or without the service failure rule) shows the
    # indicator as not applicable.
    term: Literal["timeliness", "accuracy", "service_failure"] | None = None
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
        return parse_threshold(value)

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
        problems = self._shape_problems()
        if not problems and not self.information_only:
            problems = self._threshold_problems()
        if problems:
            raise ValueError("\n".join(problems))  # one mistake a line
        return self

    def _shape_problems(self) -> list[str]:
        fraction_kinds = ("percentage", "rate", "ratio")
        problems = []
        if self.cohort is not None and not (self.numerator and self.denominator):
            problems.append("a cohort replaces the denominator: give numerator and denominator")
        if self.kind in fraction_kinds:
            if not (self.numerator and self.denominator) or self.expression:
                problems.append(f"a {self.kind} indicator needs numerator and denominator (and no expression)")
        elif self.expression is None:
            if not (self.numerator and self.denominator):
                problems.append(f"a {self.kind} indicator needs an expression (or numerator and denominator)")
        if self.kind == "rate" and self.per is None:
            problems.append("a rate needs per, e.g. per = 100000 for a rate per 100,000")
        if isinstance(self.trajectory, tuple):
            if any(share < 0 for share in self.trajectory) or abs(sum(self.trajectory) - 1) > 1e-9:
                problems.append("a custom trajectory lists each period's share of the annual target, adding to 1")
        if self.information_only:
            return problems  # reported, never coloured: thresholds, if any, are shown for context only
        if self.target is None:
            problems.append("give a target, or set information_only = true for baseline or information indicators")
        return problems

    def _threshold_problems(self) -> list[str]:
        assert self.target is not None
        problems = [p for name in ("target", "critical", "stretch") for p in self._possible(name)]
        direction = "higher" if self.target.higher_is_better else "lower"
        if self.direction is not None and self.direction != direction:
            problems.append(f"direction is {self.direction!r} but target {self.target.text!r} says {direction}")
        for name in ("critical", "stretch"):
            other: Threshold | None = getattr(self, name)
            if other is None:
                continue
            # A critical threshold names the failing side; a stretch the good side.
            good_side = other.higher_is_better if name == "stretch" else not other.higher_is_better
            if good_side != self.target.higher_is_better:
                problems.append(f"{name} {other.text!r} points the other way from target {self.target.text!r}")
            elif self.target.bound is not None and other.bound is not None:
                better = other.bound >= self.target.bound if direction == "higher" else other.bound <= self.target.bound
                if name == "critical" and better and other.bound != self.target.bound:
                    problems.append(f"critical {other.text!r} lies on the good side of target {self.target.text!r}")
                if name == "stretch" and not better:
                    problems.append(f"stretch {other.text!r} is easier than target {self.target.text!r}")
        return problems

    def _possible(self, name: str) -> list[str]:
        """A fixed threshold that no figure could ever meet, or that every figure meets, is a mistake: a
        percentage above 100 or below 0, a count or rate below 0."""
        threshold: Threshold | None = getattr(self, name)
        if threshold is None or threshold.bound is None:
            return []
        op, bound = threshold.op, threshold.bound
        low = Fraction(0)
        high = Fraction(100) if self.kind == "percentage" else None
        what = "a percentage runs from 0 to 100" if high is not None else f"a {self.kind} is never below 0"
        if self.kind not in ("percentage", "count", "rate"):
            return []
        above = high is not None and (bound >= high if op == ">" else bound > high if op == ">=" else False)
        below = bound <= low if op == "<" else bound < low if op == "<=" else False
        never = above or below
        always = (op == ">=" and bound <= low) or (op == ">" and bound < low) or (
            high is not None and ((op == "<=" and bound >= high) or (op == "<" and bound > high)))
        if never:
            example = "'< 15'" if op in ("<", "<=") else "'>= 95'" if high is not None else "'>= 10'"
            return [f"{name} {threshold.text!r} can never be met ({what}); write a level inside that range, e.g. "
                    f"{example}"]
        if always:
            return [f"{name} {threshold.text!r} is met by every figure ({what}), so it judges nothing; write the "
                    "level the contract sets, or information_only = true"]
        return []

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


class ValidationRule(Model):
    """A check over data items, e.g. `quits_4wk <= quit_dates`.

    An error is a figure that cannot be true (a part above its whole); a warning one that can be but seldom is,
    its message quoting what the schedule expects. `per_category` checks the rule in every category of each
    breakdown all its items share as well (4-week quitters plus those lost, per priority group); `returns` limits
    it to some return types (a quarter's figures, not the year's)."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=59)]  # a finding's code is `rule:<id>`
    check: str
    severity: Literal["error", "warning"] = "error"
    message: str
    per_category: bool = False
    returns: tuple[Id, ...] = ()  # empty: every return type
    generated: bool = False  # made by kpibot (a part within its whole, a rule per category, the same people twice)

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
