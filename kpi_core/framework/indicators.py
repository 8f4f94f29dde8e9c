"""Data items, their breakdowns, and the indicators computed from them with their thresholds and checks."""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

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


class ValidationRule(Model):
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
