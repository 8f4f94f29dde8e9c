"""A sample return file carrying a year so far, for report samples (docs/), the benchmark and tests.

The figures come from `kpi_core.samples` (they obey the framework's rules and breakdown totals); this only
writes one period's figures per seed into a long-form CSV, so the year to date and the trend charts have history.
"""

from __future__ import annotations

from kpi_core import samples
from kpi_core.assess import return_type_for
from kpi_core.calendar import Period
from kpi_core.framework.model import Framework


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
