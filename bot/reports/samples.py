"""A sample return and the year so far, for report samples (docs/), the benchmark and tests.

The figures come from `kpi_core.samples` (they obey the framework's rules and breakdown totals), one seed per
period so figures move from period to period. Only accepted returns count for their periods, so a sample's year so
far is handed to `assess` as accepted history (`sample_year`); `sample_return_csv` writes a file that also
carries the earlier periods (as references, which never count).
"""

from __future__ import annotations

from fractions import Fraction

from kpi_core import samples
from kpi_core.assess import return_type_for
from kpi_core.calendar import Period
from kpi_core.framework.model import Framework
from kpi_core.values import Key


def sample_return_csv(framework: Framework, period: Period, *, level: float = 0.7, scale: int = 200,
                      with_earlier: bool = True) -> bytes:
    """Long-form CSV (`item,breakdown,value,period`) for `period` and, if asked, the earlier periods of its year.

    Each period gets its own seed, so figures move from period to period; `level` (0..1) sets how well the
    provider performs and `scale` the typical count in a period (see `kpi_core.samples.sample_values`)."""
    return_id = return_type_for(framework, period)
    periods = (period.earlier_in_year() if with_earlier else []) + [period]
    lines = ["item,breakdown,value,period"]
    for seed, each in enumerate(periods):
        values = samples.sample_values(framework, return_id, seed=seed, scale=scale, level=level)
        lines += samples.to_csv(values, period=each.id).splitlines()[1:]
    return ("\n".join(lines) + "\n").encode()


def sample_year(framework: Framework, period: Period, *, level: float = 0.7,
                scale: int = 200) -> tuple[bytes, dict[str, dict[Key, Fraction]]]:
    """This period's return as a long-form CSV, and the earlier periods of its year as the accepted returns
    storage would hold (the same figures `sample_return_csv` writes for them)."""
    return_id = return_type_for(framework, period)
    history = {each.id: samples.sample_values(framework, return_id, seed=seed, scale=scale, level=level)
               for seed, each in enumerate(period.earlier_in_year())}
    values = samples.sample_values(framework, return_id, seed=len(history), scale=scale, level=level)
    return samples.to_csv(values).encode(), history
