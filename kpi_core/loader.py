"""Load framework TOML files and explain, in plain words, what is wrong with an invalid one.

A framework may carry later versions (`[[versions]]`, from a contract year on): `for_period` gives the version in
force for a period of a contract, so a stored return is always scored with its own year's targets.
"""

from __future__ import annotations

import copy
import tomllib
import types
import typing
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from kpi_core.calendar import Period
from kpi_core.framework.model import Framework
from kpi_core.framework.notes import Version

SHIPPED = "frameworks"


class FrameworkError(ValueError):
    """A framework file is unreadable or invalid; `problems` lists each one as 'key: what is wrong'."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def _parse(text: str, source: str) -> tuple[dict[str, Any], Framework]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FrameworkError(source, [f"not valid TOML: {exc}"]) from None
    try:
        return data, Framework.model_validate(data)
    except ValidationError as exc:
        raise FrameworkError(source, _explain(exc, data)) from None


def load_text(text: str, source: str = "<text>") -> Framework:
    """Parse and validate framework TOML (its later versions too); raise FrameworkError naming the file and each
    bad key."""
    data, framework = _parse(text, source)
    later_versions(data, framework, source)
    return framework


def load_path(path: str | Path) -> Framework:
    return load_text(_read(path), str(path))


def _read(path: str | Path) -> str:
    path = Path(path)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FrameworkError(str(path), [f"cannot read the file: {exc}"]) from None


def load_path_versions(path: str | Path) -> tuple[Framework, list[tuple[Version, Framework]]]:
    """A framework file and each of its later versions, built and validated."""
    data, framework = _parse(_read(path), str(path))
    return framework, later_versions(data, framework, str(path))


def later_versions(data: dict[str, Any], framework: Framework, source: str) -> list[tuple[Version, Framework]]:
    """Each `[[versions]]` entry applied on top of the ones before it, as a validated Framework."""
    built = []
    current = copy.deepcopy(data)
    current.pop("versions", None)
    for index, version in enumerate(sorted(framework.versions, key=lambda v: v.from_contract_year)):
        by_ref = {entry.get("ref"): entry for entry in current.get("indicators", [])}
        for change in version.indicators:
            by_ref[change.ref].update(change.model_extra or {})
        current["version"] = version.version
        try:
            built.append((version, Framework.model_validate(current)))
        except ValidationError as exc:
            where = f"versions[{index}] ({version.version})"
            raise FrameworkError(source, [f"{where}: {p}" for p in _explain(exc, current)]) from None
        current = copy.deepcopy(current)
    return built


@cache
def _shipped_data() -> dict[str, tuple[dict[str, Any], Framework, str]]:
    found: dict[str, tuple[dict[str, Any], Framework, str]] = {}
    folder = resources.files("kpi_core") / SHIPPED
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            source = f"kpi_core/{SHIPPED}/{entry.name}"
            data, framework = _parse(entry.read_text(encoding="utf-8"), source)
            if framework.id in found:
                raise FrameworkError(entry.name, [f"framework id {framework.id!r} is already used"])
            found[framework.id] = (data, framework, source)
    return found


@cache
def shipped() -> dict[str, Framework]:
    """Every framework shipped with kpibot, by id (the first contract year's version)."""
    return {fid: framework for fid, (_, framework, _) in _shipped_data().items()}


def get(framework_id: str) -> Framework:
    """A shipped framework by id; KeyError lists the known ones."""
    frameworks = shipped()
    if framework_id not in frameworks:
        raise KeyError(f"unknown framework {framework_id!r}; known: {', '.join(sorted(frameworks))}")
    return frameworks[framework_id]


@cache
def versions(framework_id: str) -> tuple[tuple[Version, Framework], ...]:
    """The later versions of a shipped framework, oldest first."""
    get(framework_id)
    data, framework, source = _shipped_data()[framework_id]
    return tuple(later_versions(data, framework, source))


def contract_year(period: Period, contract_start: date) -> int:
    """1 for a period starting in the contract's first 12 months, 2 in the next 12, ...; 1 before the start.

    Contract years run from the start date ("yr 1", "review target at 24 months"), not from the reporting year,
    so a contract starting in January is still in year 1 in the April quarter."""
    months = (period.start.year - contract_start.year) * 12 + period.start.month - contract_start.month
    if period.start.day < contract_start.day:
        months -= 1
    return max(1, months // 12 + 1)


def for_year(framework_id: str, year: int) -> Framework:
    """The version of a shipped framework in force in contract year `year`."""
    chosen = get(framework_id)
    for version, framework in versions(framework_id):
        if version.from_contract_year <= year:
            chosen = framework
    return chosen


def for_period(framework_id: str, period: Period, contract_start: date) -> Framework:
    """The version of a shipped framework in force for `period` of a contract that started on `contract_start`:
    a return is scored, and re-scored, with its own year's targets, never a later file's."""
    return for_year(framework_id, contract_year(period, contract_start))


def _explain(exc: ValidationError, data: dict[str, Any]) -> list[str]:
    problems = []
    errors = exc.errors(include_url=False)
    for error in errors:
        loc = error["loc"]
        if error["type"] == "too_short" and any(e["loc"][: len(loc)] == loc and e["loc"] != loc for e in errors):
            continue  # pydantic also counts the invalid entries as absent: "at least 1 item, not 0" would mislead
        if loc and _union_tag(loc[-1]) and str(loc[-1]).startswith("literal[") and len(errors) > 1:
            continue  # `amber = false` is the other branch of the union: its "should be False" is noise
        loc = tuple(part for part in loc if not _union_tag(part))
        key = _key(loc, data)
        message = error["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if error["type"] == "extra_forbidden":
            message = "is not a known key (check its spelling)"
            allowed = _allowed_keys(loc[:-1])
            if allowed:
                message += f"; allowed: {', '.join(allowed)}"
        elif error["type"] == "missing":
            message = "is required"
        problems.append(f"{key}: {message}" if key else message)
    return problems


def _union_tag(part: int | str) -> bool:
    """pydantic names the branch of a plain union in the location (`literal[False]`, `function-after[...]`)."""
    return isinstance(part, str) and (part.startswith("literal[") or part.startswith("function-after["))


def _key(loc: tuple[int | str, ...], data: Any) -> str:
    """Render a pydantic location as a TOML key, naming list entries by their id or ref."""
    parts: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int):
            label = f"[{part}]"
            if isinstance(node, list) and part < len(node) and isinstance(node[part], dict):
                name = node[part].get("id") or node[part].get("ref")
                if isinstance(name, str):
                    label = f"[{part}] ({name})"
            parts.append(label)
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            if isinstance(node, dict) and part not in node and part in ("linear", "tiers", "day_of_next_month",
                                                                        "date_after", "working_days_after",
                                                                        "days_after", "end_of_next_month"):
                continue  # pydantic names the union branch; the reader wants the key
            parts.append(f".{part}" if parts else str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return "".join(parts)


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys accepted by the table at a pydantic location, found by walking the framework's model types."""
    node: Any = Framework
    for part in loc:
        node = _unwrap(node)
        if isinstance(node, type) and issubclass(node, BaseModel):
            fields = {f.alias or name: f for name, f in node.model_fields.items()}
            node = fields[part].annotation if isinstance(part, str) and part in fields else None
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
