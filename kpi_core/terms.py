"""A contract's terms: the framework's, with the commissioner's per-contract changes from config.toml.

Terms beyond the indicators differ between contracts: which returns are owed and when, whether data-submission KPIs
(timeliness, accuracy) apply, and whether late returns escalate to a service failure. A framework states them
(marking with `assumed` what kpibot chose where the schedule is silent); `config.toml` may set or remove each one
for a contract (`[contracts.terms]`). `assumptions` lists every choice kpibot made, for `kpibot frameworks show`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict, field_validator

from kpi_core.framework.model import DataSubmissionTerms, Framework
from kpi_core.framework.returns import DueRule, ReturnType
from kpi_core.thresholds import parse_threshold


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built when a contract's terms are read


class ReturnChange(_Model):
    """A change to one return: a due date the commissioner sets (or a new return: label and frequency too)."""

    due: DueRule | None = None
    label: str | None = None
    frequency: Literal["monthly", "quarterly", "annual"] | None = None


class TermOverrides(_Model):
    """`[contracts.terms]` in config.toml: each key sets a term; `false` removes it for this contract."""

    data_submission: DataSubmissionTerms | Literal[False] | None = None
    # How many consecutive late periods make a service failure (1 to 12), or false for none.
    service_failure_after_late: int | Literal[False] | None = None
    returns: dict[str, ReturnChange | Literal[False]] = {}

    @field_validator("service_failure_after_late", mode="before")
    @classmethod
    def _count_or_false(cls, value: object) -> object:
        if value is None or value is False:
            return value
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 12:
            raise ValueError("give the number of consecutive late periods that make a service failure (1 to 12), "
                             "or false for none")
        return value

    @field_validator("data_submission", mode="before")
    @classmethod
    def _targets_or_false(cls, value: object) -> object:
        if value is True:
            raise ValueError("give the targets, e.g. { timeliness_target = 95, accuracy_target = 95 }, or false")
        return value

    @field_validator("returns", mode="before")
    @classmethod
    def _change_or_false(cls, value: object) -> object:
        if isinstance(value, dict):
            bad = sorted(str(k) for k, v in value.items() if v is True)
            if bad:
                raise ValueError(f"{', '.join(bad)}: give a change, e.g. {{ due = {{ rule = \"day_of_next_month\", "
                                 "day = 20 } }, or false to remove the return")
        return value

    def problems(self, framework: Framework) -> list[str]:
        """What cannot apply to `framework` (an unknown return without label and frequency, a bad count)."""
        out = []
        for rid, change in self.returns.items():
            if change is False:
                if rid not in framework.returns:
                    out.append(f"returns.{rid}: {framework.id} has no such return to remove")
            elif rid not in framework.returns and (change.label is None or change.frequency is None
                                                   or change.due is None):
                out.append(f"returns.{rid}: a new return needs label, frequency and due")
        owed = {r for r in framework.returns if self.returns.get(r) is not False}
        owed |= {r for r, c in self.returns.items() if c is not False}
        if not owed:
            out.append("returns: a contract must owe at least one return")
        return out


@dataclass(frozen=True)
class Assumption:
    about: str
    text: str
    state: str  # "assumed" (kpibot's choice), "set in config.toml", "removed in config.toml", "discrepancy",
    # "not encoded"


@dataclass(frozen=True)
class ContractTerms:
    returns: dict[str, ReturnType]
    data_submission: DataSubmissionTerms | None
    service_failure_after_late: int | None


def contract_terms(framework: Framework, overrides: TermOverrides | None = None) -> ContractTerms:
    """The terms in force for a contract on `framework` with the commissioner's `overrides`."""
    overrides = overrides or TermOverrides()
    returns = dict(framework.returns)
    for rid, change in overrides.returns.items():
        if change is False:
            returns.pop(rid, None)
            continue
        base = returns.get(rid)
        fields = {k: v for k, v in change.model_dump(exclude_none=True).items()}
        if base is not None:
            returns[rid] = base.model_copy(update={**{k: getattr(change, k) for k in fields}, "assumed": ""})
        elif change.due is None:  # TermOverrides.problems() reports this when the configuration is read
            raise ValueError(f"returns.{rid}: a new return needs label, frequency and due")
        else:
            returns[rid] = ReturnType(label=change.label or rid, frequency=change.frequency or "quarterly",
                                      due=change.due)
    data_submission = framework.terms.data_submission
    if overrides.data_submission is False:
        data_submission = None
    elif overrides.data_submission is not None:
        data_submission = overrides.data_submission
    failure = framework.terms.service_failure_after_late
    if overrides.service_failure_after_late is False:
        failure = None
    elif overrides.service_failure_after_late is not None:
        failure = overrides.service_failure_after_late
    return ContractTerms(returns, data_submission, failure)


def apply_terms(framework: Framework, terms: ContractTerms) -> Framework:
    """The framework with the targets of indicators tied to a term (`term = "timeliness"`) set from the contract's
    terms, and those whose term the contract lacks left out and listed as not applicable; the same object when
    nothing differs (the usual case), so nothing is copied per return."""
    spec = terms.data_submission
    has = {"timeliness": spec is not None, "accuracy": spec is not None,
           "service_failure": terms.service_failure_after_late is not None}
    replaced = {}
    dropped = [ind for ind in framework.indicators if ind.term is not None and not has[ind.term]]
    for ind in framework.indicators:
        if ind.term not in ("timeliness", "accuracy") or spec is None:
            continue
        wanted = spec.timeliness_target if ind.term == "timeliness" else spec.accuracy_target
        if ind.target is None or ind.target.bound != Fraction(str(wanted)):
            replaced[ind.ref] = ind.model_copy(update={"target": parse_threshold(f">= {wanted:g}"),
                                                       "target_text": f"Target: {wanted:g}% (set for this contract)"})
    if replaced:
        framework = framework.model_copy(update={"indicators": tuple(replaced.get(i.ref, i)
                                                                     for i in framework.indicators)})
    if dropped:
        framework = framework.without({i.ref for i in dropped}, tuple(f"{i.ref} {i.name}" for i in dropped))
    return framework


def assumptions(framework: Framework, overrides: TermOverrides | None = None) -> list[Assumption]:
    """Every choice kpibot made for a framework, each discrepancy in the schedule and what it does not score;
    with `overrides`, the terms the commissioner set or removed for a contract are shown as such."""
    overrides = overrides or TermOverrides()
    out = [Assumption(a.about, a.text, "assumed") for a in framework.assumptions]
    if framework.terms.assumed:
        out.append(Assumption("terms", framework.terms.assumed, "assumed"))
    for rid, ret in framework.returns.items():
        change = overrides.returns.get(rid)
        if change is False:
            out.append(Assumption(f"returns.{rid}", f"{ret.label}: not owed by this contract.",
                                  "removed in config.toml"))
        elif change is not None and change.due is not None:
            out.append(Assumption(f"returns.{rid}", f"{ret.label}: due date set by the commissioner.",
                                  "set in config.toml"))
        elif ret.assumed:
            out.append(Assumption(f"returns.{rid}", ret.assumed, "assumed"))
    for rid, change in overrides.returns.items():
        if rid not in framework.returns and change is not False:
            out.append(Assumption(f"returns.{rid}", f"{change.label}: a {change.frequency} return added by the "
                                  "commissioner.", "set in config.toml"))
    for name in ("data_submission", "service_failure_after_late"):
        value = getattr(overrides, name)
        if value is False:
            out.append(Assumption(f"terms.{name}", "Removed for this contract.", "removed in config.toml"))
        elif value is not None:
            out.append(Assumption(f"terms.{name}", f"Set for this contract: {_term_text(value)}.",
                                  "set in config.toml"))
    for key, dis in framework.disaggregations.items():
        if dis.assumed:
            out.append(Assumption(f"disaggregations.{key}", dis.assumed, "assumed"))
    for item in framework.items:
        if item.assumed:
            out.append(Assumption(f"items.{item.id}", item.assumed, "assumed"))
    for ind in framework.indicators:
        if ind.assumed:
            out.append(Assumption(ind.ref, ind.assumed, "assumed"))
        if isinstance(ind.amber, BaseModel) and ind.amber.assumed:
            out.append(Assumption(f"{ind.ref}.amber", ind.amber.assumed, "assumed"))
    for version in framework.versions:
        for revised in version.indicators:
            text = (revised.model_extra or {}).get("assumed")
            if text:
                out.append(Assumption(f"{revised.ref} (version {version.version}, contract year "
                                      f"{version.from_contract_year} on)", str(text), "assumed"))
    out += [Assumption(d.about, d.text, "discrepancy") for d in framework.discrepancies]
    out += [Assumption(n.about, n.why, "not encoded") for n in framework.not_encoded]
    return out


def _term_text(value: object) -> str:
    if isinstance(value, DataSubmissionTerms):
        return (f"timeliness target {value.timeliness_target:g}%, accuracy target {value.accuracy_target:g}%")
    return f"{value} consecutive late periods is a service failure"
