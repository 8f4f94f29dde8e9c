"""Every mistake in a framework file at once, in plain words: which entry, what is wrong, what to write instead.

Validation stops at the first layer that fails: while an entry has a mistake of its own, the checks between entries
(does this indicator name a data item?) never run. So when entries fail, each part is checked on its own and the
references are checked between the parts that are sound, and a council officer fixing a file sees every mistake in
one pass, not one per attempt.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from kpi_core import plain_errors
from kpi_core.framework.indicators import DataItem, Disaggregation, Indicator, ValidationRule
from kpi_core.framework.model import Framework, reference_problems
from kpi_core.framework.notes import Version
from kpi_core.framework.payment_rules import PaymentRule
from kpi_core.framework.returns import ReturnType

# pydantic names the branch of a tagged union in an error's location; the reader knows only the keys.
BRANCHES = ("linear", "tiers", "day_of_next_month", "date_after", "working_days_after", "days_after",
            "end_of_next_month")


@cache
def _payment() -> TypeAdapter[PaymentRule]:
    """The payment rule's validator, built only when a framework file has a mistake to explain."""
    return TypeAdapter(PaymentRule)


def every_problem(data: dict[str, Any]) -> list[str]:
    """Each mistake in a framework's data (the file as read), in plain words; empty when it is valid."""
    try:
        Framework.model_validate(data)
        return []
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    problems = explain(errors, data)
    if all(error["loc"] for error in errors):  # entries failed, so the references between them were not checked
        problems += _references_between_sound_parts(data)
    return list(dict.fromkeys(problems))


def explain(errors: list[Any], data: dict[str, Any]) -> list[str]:
    """pydantic's errors as `indicators #4 (ref '1.4'): target: ...` lines a council officer can act on."""
    problems = []
    for error in errors:
        loc = error["loc"]
        if error["type"] == "too_short" and any(e["loc"][: len(loc)] == loc and e["loc"] != loc for e in errors):
            continue  # pydantic also counts the invalid entries as absent: "at least 1 item, not 0" would mislead
        if loc and _union_tag(loc[-1]) and str(loc[-1]).startswith("literal[") and len(errors) > 1:
            continue  # `amber = false` is the other branch of the union: its "should be False" is noise
        loc = _reader_loc(tuple(part for part in loc if not _union_tag(part)), data)
        where = plain_errors.place(loc, data)
        if error["type"] == "extra_forbidden":
            message = "is not a known key (check its spelling)"
            allowed = _allowed_keys(tuple(error["loc"])[:-1])
            if allowed:
                message += f"; allowed: {', '.join(allowed)}"
        elif error["type"] == "missing":
            message = "is required"
        else:
            message = plain_errors.sentence(error)
        # A model's own checks may find several mistakes at once, one per line.
        for line in message.split("\n"):
            problems.append(f"{where}: {line}" if where else line)
    return problems


def _references_between_sound_parts(data: dict[str, Any]) -> list[str]:
    """The reference checks, run between the parts of the file that are sound on their own."""
    invalid: set[str] = set()

    def sound(table: str, check: Callable[[Any], Any], name_key: str = "") -> list[tuple[int, Any]]:
        entries = data.get(table)
        found = []
        for index, raw in enumerate(entries if isinstance(entries, list) else []):
            entry = _lenient(check, raw)
            if entry is not None:
                found.append((index, entry))
                continue
            name = raw.get(name_key) if isinstance(raw, dict) and name_key else None
            if isinstance(name, str):  # as written, and as the id it was meant to be ("Quit Dates")
                invalid.update({name, "_".join(name.strip().lower().replace("-", " ").split())})
        return found

    def sound_table(table: str, model: type[BaseModel]) -> dict[str, Any]:
        entries = data.get(table)
        found = {}
        for key, raw in (entries.items() if isinstance(entries, dict) else ()):
            try:
                found[key] = model.model_validate(raw)
            except ValidationError:
                invalid.add(key)
        return found

    returns = sound_table("returns", ReturnType)
    disaggregations = sound_table("disaggregations", Disaggregation)
    items = sound("items", DataItem.model_validate, "id")
    indicators = sound("indicators", Indicator.model_validate, "ref")
    rules = sound("rules", ValidationRule.model_validate)
    payments = sound("payments", _payment().validate_python)
    versions = sound("versions", Version.model_validate)
    return reference_problems(returns, disaggregations, items, indicators, rules, payments, versions, invalid)


def _lenient(check: Callable[[Any], Any], raw: Any) -> Any:
    """An entry as sound as it can be made for checking what it refers to: without the keys that have mistakes
    (reported already), a placeholder for a missing name, and for an indicator whose thresholds are wrong, none.
    None when even that fails."""
    try:
        return check(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    if not isinstance(raw, dict):
        return None
    fixed = dict(raw)
    for error in errors:
        loc = [part for part in error["loc"] if part not in BRANCHES]
        if not loc:  # the entry's own checks (thresholds that cannot be met): keep what it refers to
            fixed.update(information_only=True)
            for key in ("target", "critical", "stretch", "direction", "amber"):
                fixed.pop(key, None)
        elif error["type"] == "missing":
            fixed[loc[0]] = "?"
        else:
            fixed.pop(loc[0], None)
    try:
        return check(fixed)
    except ValidationError:
        return None


def _union_tag(part: int | str) -> bool:
    """pydantic names the branch of a plain union in the location (`literal[False]`, `function-after[...]`)."""
    return isinstance(part, str) and (part.startswith("literal[") or part.startswith("function-after["))


def _reader_loc(loc: tuple[int | str, ...], data: Any) -> tuple[int | str, ...]:
    """The location without the union branch names pydantic inserts (`payments.0.linear.share`)."""
    out: list[int | str] = []
    node = data
    for part in loc:
        if isinstance(part, str) and part in BRANCHES and isinstance(node, dict) and part not in node:
            continue
        out.append(part)
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
    return tuple(out)


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys accepted by the table at a pydantic location, found by walking the framework's model types."""
    node: Any = Framework
    for part in loc:
        node = _unwrap(node)
        if isinstance(node, type) and issubclass(node, BaseModel):
            fields = {f.alias or name: f for name, f in node.model_fields.items()}
            node = fields[part].annotation if part in fields else None
        elif typing.get_origin(node) in (dict, tuple):
            node = typing.get_args(node)[-1 if typing.get_origin(node) is dict else 0]
        elif typing.get_origin(node) in (typing.Union, types.UnionType):
            # A tagged union (payment kind, due rule): pydantic names the branch by its tag.
            node = next((m for m in typing.get_args(node) if isinstance(m, type) and issubclass(m, BaseModel)
                         and any(typing.get_args(f.annotation) == (part,) for f in m.model_fields.values())), None)
        else:
            return []
    node = _unwrap(node)
    if isinstance(node, type) and issubclass(node, BaseModel):
        return sorted(f.alias or name for name, f in node.model_fields.items())
    return []


def _unwrap(node: Any) -> Any:
    """Strip Annotated[...] and Optional[...] from a type."""
    if typing.get_origin(node) is typing.Annotated:
        node = typing.get_args(node)[0]
    if typing.get_origin(node) in (typing.Union, types.UnionType):
        members = [m for m in typing.get_args(node) if m is not type(None)]
        if len(members) == 1:
            return _unwrap(members[0])
    return node
