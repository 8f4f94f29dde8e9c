"""What a query is about: the indicators and items its reason names, found in the words a commissioner typed.

A reason names an indicator by its reference as the contract writes it (`1.5`, `KPI 1.5`, `DS.2`) or by its
name, and a data item by its label (`4-week quitters`) or, from the command line, by its id. A query must name
at least one: "the figures look wrong" gives the provider nothing to check. People read them back as references
with names and as labels, never as item ids.
"""

from __future__ import annotations

import re
from functools import cache

from kpi_core.framework.model import Framework

MIN_REASON = 8  # characters: "1.5 high" is the shortest reason that says anything
MAX_REASON = 4000


@cache
def _ref_pattern(ref: str) -> re.Pattern[str]:
    # `1.5` must not match inside `11.5`, `1.50` or `1.5.2`; `DS.2` is matched in any case.
    return re.compile(rf"(?<![\w.]){re.escape(ref)}(?![\w]|\.\d)", re.IGNORECASE)


def _phrase(text: str) -> str:
    return " ".join(re.sub(r"[^\w%]+", " ", text.lower()).split())


def named_in(framework: Framework, return_id: str, text: str) -> tuple[str, ...]:
    """The indicator references and item ids `text` names, in the framework's order (indicators first)."""
    words = f" {_phrase(text)} "
    refs = [i.ref for i in framework.indicators_for(return_id)
            if _ref_pattern(i.ref).search(text) or (len(i.name) > 12 and f" {_phrase(i.name)} " in words)]
    items = [d.id for d in framework.items_for(return_id) if d.source != "system"
             and (re.search(rf"(?<![\w]){re.escape(d.id)}(?![\w])", text)
                  or (len(d.label) > 6 and f" {_phrase(d.label)} " in words))]
    return tuple(refs) + tuple(items)


def shown(framework: Framework, about: list[str] | tuple[str, ...]) -> list[str]:
    """How people read what a query is about: `1.5 Stretch target for 4 week quits`, `4-week quitters`."""
    refs = {i.ref: i for i in framework.indicators}
    items = {d.id: d for d in framework.items}
    found = []
    for key in about:
        if key in refs:
            found.append(f"{key} {refs[key].name}")
        elif key in items:
            found.append(items[key].label)
    return found


def examples(framework: Framework, return_id: str) -> str:
    """A hint of what a reason may name, from the return's own indicators."""
    indicators = [i for i in framework.indicators_for(return_id) if not i.information_only][:2]
    return " or ".join(f"{i.ref} ({i.name})" for i in indicators) or "an indicator's reference"
