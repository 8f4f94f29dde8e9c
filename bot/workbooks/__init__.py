"""Return workbooks on the application side: writing the template providers fill in, and reading received files
in a separate process with a memory and time limit.

The names below load on first use (PEP 562): the reader's worker process imports only what reading needs, not
openpyxl, which writing the template needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.lazy import exports

_HOMES = {"IsolatedReader": "isolated", "build_template": "template"}

if TYPE_CHECKING:
    from bot.workbooks.isolated import IsolatedReader
    from bot.workbooks.template import build_template


__getattr__ = exports(__name__, _HOMES)

__all__ = sorted(_HOMES)
