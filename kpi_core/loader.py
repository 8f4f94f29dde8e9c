"""Load framework TOML files and explain, in plain words, what is wrong with an invalid one."""

from __future__ import annotations

import tomllib
import types
import typing
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from kpi_core.framework import Framework

SHIPPED = "frameworks"


class FrameworkError(ValueError):
    """A framework file is unreadable or invalid; `problems` lists each one as 'key: what is wrong'."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def load_text(text: str, source: str = "<text>") -> Framework:
    """Parse and validate framework TOML; raise FrameworkError naming the file and each bad key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FrameworkError(source, [f"not valid TOML: {exc}"]) from None
    try:
        return Framework.model_validate(data)
    except ValidationError as exc:
        raise FrameworkError(source, _explain(exc, data)) from None


def load_path(path: str | Path) -> Framework:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FrameworkError(str(path), [f"cannot read the file: {exc}"]) from None
    return load_text(text, str(path))


@cache
def shipped() -> dict[str, Framework]:
    """Every framework shipped with kpibot, by id."""
    found: dict[str, Framework] = {}
    folder = resources.files("kpi_core") / SHIPPED
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            framework = load_text(entry.read_text(encoding="utf-8"), f"kpi_core/{SHIPPED}/{entry.name}")
            if framework.id in found:
                raise FrameworkError(entry.name, [f"framework id {framework.id!r} is already used"])
            found[framework.id] = framework
    return found


def get(framework_id: str) -> Framework:
    """A shipped framework by id; KeyError lists the known ones."""
    frameworks = shipped()
    if framework_id not in frameworks:
        raise KeyError(f"unknown framework {framework_id!r}; known: {', '.join(sorted(frameworks))}")
    return frameworks[framework_id]


def _explain(exc: ValidationError, data: dict[str, Any]) -> list[str]:
    problems = []
    errors = exc.errors(include_url=False)
    for error in errors:
        loc = error["loc"]
        if error["type"] == "too_short" and any(e["loc"][: len(loc)] == loc and e["loc"] != loc for e in errors):
            continue  # pydantic also counts the invalid entries as absent: "at least 1 item, not 0" would mislead
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
                                                                        "days_after"):
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
