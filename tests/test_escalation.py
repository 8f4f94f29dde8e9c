"""Escalation levels for consecutive late returns."""

from __future__ import annotations

import pytest

from kpi_core.escalation import escalation_for


@pytest.mark.parametrize(("run", "level", "failure", "commissioner_told"), [
    (0, 0, False, False),
    (1, 1, False, False),
    (2, 2, False, False),
    (3, 3, True, True),
    (7, 3, True, True),
])
def test_three_consecutive_late_periods_is_a_service_failure(run: int, level: int, failure: bool,
                                                             commissioner_told: bool) -> None:
    escalation = escalation_for(run)
    assert (escalation.level, escalation.service_failure) == (level, failure)
    assert ("commissioner" in escalation.audience) is commissioner_told
