"""Validated settings kept between runs, beside the checked frameworks, so that a command line neither builds the
validators of every section of config.toml nor checks them again on each start (`kpibot score` starts in a third
of a second: benchmarks/bench_start.py).

An entry is what `Settings.model_validate` made of the file's data, keyed (kpi_core/framework_cache.py) by that
data, by whether each secret is set (never by its value), by the frameworks a contract may name (the shipped files'
text and the council's) and by the code that validates them (kpi_core, bot/config.py, bot/settings): any change to
one of these is validated in full. Only valid settings are stored, so a mistake in the file is explained as it
always is. Nothing secret is written: the secrets are blanked before an entry is stored and put back from the
environment when it is read, and settings whose validation reads a secret's value (a Teams webhook URL) or which
hold one (a database URL with a password) are never kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from hashlib import sha256
from pathlib import Path
from typing import Any

from kpi_core import loader
from kpi_core.framework_cache import code_digest


@cache
def settings_code() -> str:
    """What validates settings: kpi_core (with Python's and pydantic's versions), bot/config.py and bot/settings."""
    digest = sha256(code_digest().encode())
    here = Path(__file__).parent
    for path in [here.parent / "config.py", *sorted(here.glob("*.py"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def entry_text(data: Mapping[str, Any], secrets: Iterable[str]) -> str:
    """What a validation of `data` (with the `secrets` keys holding the environment's secrets) depends on, in one
    text: the data with each secret as whether it is set, the frameworks in use, and the code."""
    shown = {key: (bool(value) if key in secrets else value) for key, value in data.items()}
    frameworks = sorted({**loader.shipped_texts(), **loader.local_texts()}.items())
    return repr((settings_code(), frameworks, shown))
