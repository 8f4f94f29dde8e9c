"""Validation mistakes in plain words: where a mistake is, counted the way a person counts, and what to write.

A council officer editing a framework file or config.toml reads these, not the validation library's own text
("Input tag 'linar' found using 'kind' does not match any of the expected tags", "Field required"). `place` turns a
location into `indicators #4 (ref '1.4'): target`; `sentence` turns one error into what is wrong and what to write.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

# How an entry of a list of tables is named after its number: the first of these keys it has.
NAME_KEYS = ("id", "ref", "email", "version")
# Patterns the models use, said in words.
PATTERNS = {
    r"^[a-z0-9][a-z0-9_]*$": "may hold only lower-case letters, digits and underscores, starting with a letter or "
                             "digit (e.g. quit_dates)",
    r"^[a-z0-9][a-z0-9\-]*$": "may hold only lower-case letters, digits and hyphens, starting with a letter or digit "
                              "(e.g. ch-stop-smoking)",
    r"^[a-z0-9][a-z0-9\-_]*$": "may hold only lower-case letters, digits, hyphens and underscores, starting with a "
                               "letter or digit (e.g. ch-stop-smoking)",
    r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$": "may hold only letters, digits, dots, hyphens and underscores (e.g. 1.4, "
                                     "T2.4b)",
    r"^[^@\s]+@[^@\s]+\.[^@\s]+$": "must be an email address, e.g. name@example.gov.uk",
    r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$": "must be an email address, e.g. kpibot@example.gov.uk",
    r"^[A-Za-z0-9][A-Za-z0-9.\-]*$|^$": "must be a Directory (tenant) ID or a domain, e.g. example.gov.uk",
}


def place(loc: Sequence[int | str], data: Any) -> str:
    """`contracts #1 (id 'ch-stop-smoking'): framework` for a location in `data` (the file as read): list entries
    are counted from 1 and named by their id, ref, email or version; keys inside an entry follow a colon."""
    out = ""
    node = data
    keys: list[str] = []
    for part in loc:
        if isinstance(part, int):
            label = f" #{part + 1}"
            entry = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(entry, Mapping):
                for key in NAME_KEYS:
                    if isinstance(entry.get(key), str) and entry.get(key):
                        label += f" ({key} {entry[key]!r})"
                        break
            out += ".".join(keys) + label
            keys = []
            node = entry
        else:
            if not keys and out:
                out += ": "
            keys.append(str(part))
            node = node.get(part) if isinstance(node, Mapping) else None
    return out + ".".join(keys)


def sentence(error: Mapping[str, Any]) -> str:
    """What is wrong with one pydantic error, and what to write instead, in words."""
    kind, ctx = error["type"], error.get("ctx") or {}
    message = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    given = error.get("input")
    shown = f" (not {given!r})" if isinstance(given, (str, int, float)) and not isinstance(given, bool) else ""
    if kind == "missing":
        return "is missing: add it"
    if kind == "extra_forbidden":
        return "is not a known key (check its spelling)"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number without quotes, e.g. 15{shown}"
    if kind in ("float_type", "float_parsing", "decimal_type", "decimal_parsing", "finite_number"):
        return f"must be a number without quotes, e.g. 52.5{shown}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, without quotes{shown}"
    if kind in ("string_type", "str_type"):
        return f"must be text in quotes, e.g. \"...\"{shown}"
    if kind == "string_pattern_mismatch":
        return PATTERNS.get(str(ctx.get("pattern")), "has characters that are not allowed here") + shown
    if kind == "string_too_long":
        return f"is too long: at most {ctx.get('max_length')} characters"
    if kind == "string_too_short":
        return "must not be empty"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        limit = next(iter(ctx.values()), "")
        words = {"greater_than_equal": f"{limit} or more", "greater_than": f"more than {limit}",
                 "less_than_equal": f"{limit} or less", "less_than": f"less than {limit}"}[kind]
        return f"must be {words}{shown}"
    if kind == "literal_error":
        return f"must be {_choices(str(ctx.get('expected', '')))}{shown}"
    if kind == "union_tag_invalid":
        key = str(ctx.get("discriminator", "")).strip("'")
        return f"{key} = {ctx.get('tag')!r} is not one of {_choices(str(ctx.get('expected_tags', '')))}"
    if kind == "union_tag_not_found":
        key = str(ctx.get("discriminator", "")).strip("'")
        return f"needs {key} (say which kind it is)"
    if kind in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        return "must be a table: a [section] of keys, or { key = value, ... } on one line"
    if kind in ("list_type", "tuple_type", "set_type", "iterable_type"):
        return f"must be a list in square brackets, e.g. [\"a\", \"b\"]{shown}"
    if kind in ("too_short",):
        return f"needs at least {ctx.get('min_length')} entries"
    if kind in ("too_long",):
        return f"may have at most {ctx.get('max_length')} entries"
    if kind.startswith("date") or kind.startswith("datetime"):
        return f"must be a date written as 2025-04-01, without quotes{shown}"
    if kind.startswith("time"):
        return f"must be a time written as 09:00, without quotes{shown}"
    if kind in ("value_error", "assertion_error"):
        return message
    return _lowered(message)


def _choices(expected: str) -> str:
    """`'council' or 'provider'` from pydantic's list of expected values."""
    values = re.findall(r"'([^']*)'", expected)
    if not values:
        return expected
    quoted = [repr(v) for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _lowered(message: str) -> str:
    """A library message we have no words for, made to read on after a key: `Input should be ...` -> `should be`."""
    return re.sub(r"^Input should", "should", message)
