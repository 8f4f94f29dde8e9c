"""What a loaded framework or indicator implies, worked out once per object.

Frameworks and their indicators are immutable once loaded, but not hashable (they hold lists), so `functools.cache`
cannot key on them. The cache here keys on their identities and keeps the objects themselves with the answer:
while they are kept, no other object can take their ids.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
V = TypeVar("V")

LIMIT = 8192  # frameworks loaded again and again (tests) start the cache afresh


def once_per_object(function: Callable[P, V]) -> Callable[P, V]:
    """`function(*objects)` worked out once for each tuple of objects, by identity (positional arguments only)."""
    found: dict[tuple[int, ...], tuple[tuple[object, ...], V]] = {}

    @functools.wraps(function)
    def cached(*objects: P.args, **none: P.kwargs) -> V:
        if none:
            raise TypeError(f"{function.__name__} takes its objects by position only")
        key = tuple(map(id, objects))
        hit = found.get(key)
        if hit is not None:
            return hit[1]
        value = function(*objects, **none)
        if len(found) >= LIMIT:
            found.clear()
        found[key] = (objects, value)  # the objects kept: their ids name nothing else meanwhile
        return value

    return cached
