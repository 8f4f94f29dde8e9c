"""Hypothesis settings for the fuzz and property tests of files and expressions.

Each test names a default number of examples small enough for the suite to stay quick; set KPIBOT_FUZZ_EXAMPLES
to run every one of them deeper, e.g. `KPIBOT_FUZZ_EXAMPLES=5000 .venv/bin/python -m pytest tests/test_fuzz.py
tests/test_returns_properties.py -q`.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

DEEP = int(os.environ.get("KPIBOT_FUZZ_EXAMPLES", "0") or 0)


def fuzz(examples: int) -> settings:
    """`examples` by default, KPIBOT_FUZZ_EXAMPLES when set; no deadline (the machine is shared)."""
    return settings(max_examples=DEEP or examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
