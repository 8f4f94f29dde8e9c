"""Payment by results and incentive tiers as the schedule writes them (the arithmetic is in kpi_core.payments)."""

from __future__ import annotations

from fractions import Fraction
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from kpi_core.framework.base import Id, Model, Ref, share


class Tier(Model):
    at: float
    share: Fraction
    label: str = ""

    @field_validator("share", mode="before")
    @classmethod
    def _share(cls, value: object) -> Fraction:
        return share(value)


class LinearPayment(Model):
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
        return share(value)

    @model_validator(mode="after")
    def _order(self) -> "LinearPayment":
        if self.minimum == self.stretch:
            raise ValueError("minimum and stretch must differ")
        return self


class TierPayment(Model):
    """Incentive tiers: each tier reached adds its share of contract value."""

    id: Id
    name: str
    kind: Literal["tiers"]
    indicator: Ref
    tiers: tuple[Tier, ...] = Field(min_length=1)
    notes: str = ""


PaymentRule = Annotated[LinearPayment | TierPayment, Field(discriminator="kind")]
