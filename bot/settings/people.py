"""Who is who: organisations (the council, providers), their contracts and the contacts with their roles."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bot.settings.base import Id, Model
from kpi_core import loader
from kpi_core.terms import ContractTerms, TermOverrides, contract_terms

Role = Literal["provider_submitter", "provider_manager", "commissioner"]


class Organisation(Model):
    id: Id
    name: str
    kind: Literal["council", "provider"]


class Contract(Model):
    id: Id
    name: str
    framework: str
    provider: Id
    commissioner: Id
    value: Decimal = Field(ge=0, description="annual contract value in pounds")
    start: date
    end: date | None = None
    year_start_month: int | None = Field(default=None, ge=1, le=12)
    # The commissioner's changes to the framework's terms for this contract: due dates, returns, data-submission
    # KPIs, the late-returns service failure rule (`false` removes one). See kpi_core/terms.py.
    terms: TermOverrides = Field(default_factory=TermOverrides)

    @field_validator("framework")
    @classmethod
    def _known_framework(cls, value: str) -> str:
        known = loader.known()
        if value not in known:
            raise ValueError(f"unknown framework {value!r}; known: {', '.join(sorted(known))}")
        return value

    @model_validator(mode="after")
    def _terms_fit(self) -> "Contract":
        problems = self.terms.problems(loader.get(self.framework))
        if problems:
            raise ValueError("terms: " + "; ".join(problems))
        return self

    def contract_terms(self) -> ContractTerms:
        """The terms in force for this contract: the framework's, with this contract's changes."""
        return contract_terms(loader.get(self.framework), self.terms)

    @property
    def start_month(self) -> int:
        """The month the contract's reporting years start (the framework's unless overridden)."""
        return self.year_start_month or loader.get(self.framework).calendar.year_start_month


class Contact(Model):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    name: str
    organisation: Id
    role: Role
    telegram_chat_id: int | None = None
    contracts: tuple[Id, ...] = ()  # empty: every contract of the organisation
    channel: Literal["any", "email", "telegram"] = "any"  # "telegram": returns by email are not accepted

    @field_validator("email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()
