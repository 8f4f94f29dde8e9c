"""Confidence intervals for proportions, as public-health profile tools publish them."""

from __future__ import annotations

import math

Z95 = 1.959963984540054


def wilson_interval(successes: float, trials: float, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval for successes/trials as proportions in [0, 1]; None when it is undefined.

    Wilson behaves at 0% and 100% and with small denominators, where the normal approximation gives nonsense
    (the method used by OHID's Fingertips for proportions).
    """
    if trials <= 0 or successes < 0 or successes > trials:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)
