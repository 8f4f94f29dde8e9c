"""Benchmarks from the commissioner: national, regional and top-quartile figures a target is judged against.

A provider must not set its own bar, so benchmark items (`source = "commissioner"` in a framework) are never read
from a return: the commissioner loads them per period with their source and publication date, and scoring uses the
latest loaded for each item on or before the period.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from kpi_core import formatting
from kpi_core.calendar import Period, PeriodError, parse_period
from kpi_core.days import DayError, parse_day
from kpi_core.expressions import refs
from kpi_core.framework.indicators import Indicator
from kpi_core.framework.model import Framework
from kpi_core.returns.numbers import NumberError, parse_number
from kpi_core.values import Key, breakdown_key

COLUMNS = ("framework", "period", "item", "breakdown", "value", "source", "published")


@dataclass(frozen=True, slots=True)
class Benchmark:
    framework_id: str
    period_id: str
    item: str
    breakdown: str
    value: Fraction
    source: str  # e.g. "NDTMS, quarterly activity report"
    published: date | None

    @property
    def key(self) -> Key:
        return (self.item, self.breakdown)

    def describe(self) -> str:
        when = f", published {self.published.day} {self.published:%B %Y}" if self.published else ""
        label = self.item + (f"[{self.breakdown}]" if self.breakdown else "")
        return f"{label} = {formatting.number(self.value, 2)} ({self.source}{when}; for {self.period_id})"


class BenchmarkFileError(ValueError):
    """A benchmark file that cannot be loaded; `problems` lists each line and what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def read_benchmarks(text: str, frameworks: dict[str, Framework], where: str = "") -> list[Benchmark]:
    """Read a CSV with the columns framework, period, item, breakdown, value, source, published (a date, day first
    as in the UK, or YYYY-MM-DD).

    Every line is checked (a known framework, a period of its calendar, a benchmark item and category, a number)
    and all problems are reported together: a file loads whole or not at all."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise BenchmarkFileError([f"{where}line 1: missing column(s) {', '.join(missing)}; the header must be "
                                  f"{','.join(COLUMNS)}"])
    out, problems = [], []
    seen: dict[tuple[str, str, Key], int] = {}
    for line, row in enumerate(reader, start=2):
        at = f"{where}line {line}: "
        fw = frameworks.get((row["framework"] or "").strip())
        if fw is None:
            problems.append(f"{at}unknown framework {row['framework']!r}; known: {', '.join(sorted(frameworks))}")
            continue
        try:
            period = parse_period(row["period"] or "", fw.calendar.year_start_month)
        except PeriodError as exc:
            problems.append(f"{at}{exc}")
            continue
        item_id = (row["item"] or "").strip()
        item = next((i for i in fw.items if i.id == item_id), None)
        if item is None or item.source != "commissioner":
            known = ", ".join(i.id for i in fw.items if i.source == "commissioner") or "none"
            problems.append(f"{at}{item_id!r} is not a benchmark of {fw.id}; its benchmarks: {known}")
            continue
        try:
            breakdown = breakdown_key(row["breakdown"] or "")
        except ValueError as exc:
            problems.append(f"{at}{exc}")
            continue
        for part in filter(None, breakdown.split(",")):
            dim, cat = part.split("=", 1)
            if dim not in item.breakdowns or cat not in fw.disaggregations[dim].categories:
                problems.append(f"{at}{item_id} has no breakdown {part!r}")
                break
        else:
            try:
                figure = parse_number(row["value"])
            except NumberError as exc:
                problems.append(f"{at}value: {exc}")
                continue
            if figure is None:
                problems.append(f"{at}value is empty")
                continue
            low, high = item.minimum, item.maximum
            if (low is not None and figure.value < Fraction(str(low))) or (high is not None and
                                                                        figure.value > Fraction(str(high))):
                problems.append(f"{at}value {row['value']!r} is outside {formatting.number(low)} to "
                                f"{formatting.number(high)}")
                continue
            source = (row["source"] or "").strip()
            if not source:
                problems.append(f"{at}source is empty: say where the figure comes from (e.g. NDTMS)")
                continue
            try:
                published = parse_day(row["published"]) if (row["published"] or "").strip() else None
            except DayError as exc:
                problems.append(f"{at}published: {exc}")
                continue
            benchmark = Benchmark(fw.id, period.id, item_id, breakdown, figure.value, source, published)
            first = seen.setdefault((fw.id, period.id, benchmark.key), line)
            if first != line:
                problems.append(f"{at}the same benchmark as line {first}; give each one once")
                continue
            out.append(benchmark)
    if problems:
        raise BenchmarkFileError(problems)
    if not out:
        raise BenchmarkFileError([f"{where}no benchmarks in the file"])
    return out


def in_force(benchmarks: Iterable[Benchmark], period: Period, start_month: int) -> list[Benchmark]:
    """For each benchmark item, the one loaded for the latest period ending on or before `period` ends."""
    best: dict[Key, tuple[date, Benchmark]] = {}
    for b in benchmarks:
        try:
            end = parse_period(b.period_id, start_month).end
        except PeriodError:
            continue
        if end <= period.end and (b.key not in best or end >= best[b.key][0]):
            best[b.key] = (end, b)
    return [b for _, b in best.values()]


def benchmark_notes(ind: Indicator, benchmarks: Sequence[Benchmark]) -> list[str]:
    """`Benchmark: national_completion_pct[substance=opiate] = 47.2 (NDTMS, published ...)` for each one the
    indicator's thresholds use."""
    used = {(r.item, r.breakdown_key) for t in (ind.target, ind.critical, ind.stretch)
            if t is not None and t.expression is not None for r in refs(t.expression)}
    return [f"Benchmark: {b.describe()}." for b in benchmarks if b.key in used]
