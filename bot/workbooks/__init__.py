"""Return workbooks on the application side: writing the template providers fill in, and reading received files
in a separate process with a memory and time limit.

The names below load on first use (PEP 562): the reader's worker process imports only what reading needs, not
openpyxl, which writing the template needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

_HOMES = {"IsolatedReader": "isolated", "build_template": "template"}

if TYPE_CHECKING:
    from bot.workbooks.isolated import IsolatedReader
    from bot.workbooks.template import build_template


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'bot.workbooks' has no attribute {name!r}")
    return getattr(importlib.import_module(f"bot.workbooks.{home}"), name)


__all__ = sorted(_HOMES)
