"""Time to render the return report (context build + PDF) for a synthetic 60-indicator framework.

Two measurements: the first render in a fresh process (template compilation, font discovery and WeasyPrint's
lazy set-up included; imports timed apart), and warm renders in one process. Median and p95 of each.

    .venv/bin/python benchmarks/bench_report.py            # 5 fresh processes, 30 warm renders
    .venv/bin/python benchmarks/bench_report.py --fresh 10 --warm 50
    .venv/bin/python benchmarks/bench_report.py --no-plans  # without the action-plan appendix

Target (issue "Reports"): warm p95 under 1.5 s on the 2-core development machine.

Measured there (WeasyPrint 70 with HarfBuzz subsetting, machine shared, load about 1), 60 indicators giving
14 red, 7 amber, 36 green, 3 info and 57 trend charts:
  without the action plans (10 pages): first render 1.20 s (+0.47 s imports), warm median 1.33-1.44 s,
                                       p95 1.49-1.67 s
  with 14 action plans (24 pages):     first render 1.81 s, warm median 2.15 s, p95 2.29 s
Without libharfbuzz-subset0 WeasyPrint falls back to fontTools for font subsetting: about 0.2 s more per PDF.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SECTIONS = ("Access", "Outcomes", "Quality", "Equity", "Workforce", "Partnerships")


def framework_toml(indicators: int = 60) -> str:
    """A quarterly framework with `indicators` KPIs of every kind, two disaggregations and a PbR payment."""
    lines = [
        'schema = 1', 'id = "bench-sixty"', 'name = "Benchmark Service (60 indicators)"', 'version = "1"',
        '[returns.quarterly]', 'label = "Quarterly monitoring return"', 'frequency = "quarterly"',
        'due = { rule = "day_of_next_month", day = 15 }',
        '[disaggregations.sex]', 'label = "Sex"',
        'categories = { female = "Female", male = "Male", other = "Other", not_known = "Not known" }',
        '[disaggregations.age_band]', 'label = "Age band"',
        'categories = { under_18 = "Under 18", a18_24 = "18-24", a25_34 = "25-34", a35_44 = "35-44", '
        'a45_54 = "45-54", a55_64 = "55-64", a65_plus = "65 and over", not_known = "Not known" }',
    ]
    body: list[str] = []
    rules: list[str] = []
    for n in range(1, indicators + 1):
        section = SECTIONS[(n - 1) * len(SECTIONS) // indicators]
        base = f"m{n:02d}"
        kind = ("percentage", "percentage", "count", "percentage", "average")[n % 5]
        breakdowns = '["sex", "age_band"]' if n in (1, 2, 3) else "[]"
        if kind == "percentage":
            lines += ['[[items]]', f'id = "{base}_seen"', f'label = "People seen for measure {n}"',
                      f'breakdowns = {breakdowns}']
            lines += ['[[items]]', f'id = "{base}_met"', f'label = "People meeting measure {n}"']
            rules += ['[[rules]]', f'id = "{base}_within"', f'check = "{base}_met <= {base}_seen"',
                      f'message = "People meeting measure {n} cannot exceed the people seen"']
            body += ['[[indicators]]', f'ref = "{n}"', f'section = "{section}"',
                     f'name = "Percentage of people seen who meet standard {n} within the agreed time"',
                     'kind = "percentage"', f'numerator = "{base}_met"', f'denominator = "{base}_seen"',
                     f'target = ">= {60 + n % 30}"']
            if n % 11 == 0:
                body.append("information_only = true")
        elif kind == "count":
            lines += ['[[items]]', f'id = "{base}_count"', f'label = "Activities for measure {n}"',
                      f'breakdowns = {breakdowns}']
            body += ['[[indicators]]', f'ref = "{n}"', f'section = "{section}"',
                     f'name = "Number of activities delivered for measure {n}"', 'kind = "count"',
                     f'expression = "{base}_count"', f'target = ">= {700 + 10 * (n % 20)}"', 'cumulative = true']
        else:
            lines += ['[[items]]', f'id = "{base}_days"', f'label = "Average days to complete measure {n}"',
                      'type = "average"', 'minimum = 0', 'maximum = 40']
            body += ['[[indicators]]', f'ref = "{n}"', f'section = "{section}"',
                     f'name = "Average days from referral to completion for measure {n}"', 'kind = "average"',
                     f'expression = "{base}_days"', f'target = "<= {15 + n % 10}"']
    body += ['[[payments]]', 'id = "pbr"', 'name = "Payment by results on measure 1"', 'kind = "linear"',
             'indicator = "1"', 'share = "5%"', 'minimum = 50', 'stretch = 80']
    return "\n".join(lines + body + rules) + "\n"


def build_and_render(plans: bool) -> tuple[bytes, str]:
    """Assess a sample Q3 return (Q1 and Q2 in the same file) and render its report; (pdf, status counts)."""
    from bot.reports import ReturnMeta, build_return_report, render_return_report
    from bot.reports.samples import sample_return_csv
    from kpi_core.assess import assess
    from kpi_core.calendar import ReportingYear
    from kpi_core.loader import load_text
    from kpi_core.returns.csv_long import parse_csv

    framework = load_text(framework_toml(), "bench-sixty.toml")
    period = ReportingYear.starting(2025, 4).periods("quarterly")[2]
    data = sample_return_csv(framework, period, level=0.8)
    assessment = assess(framework, period, parse_csv(data, "bench.csv"), contract_value=1_000_000)
    meta = ReturnMeta("bench", framework.name, "Benchmark Provider Ltd")
    report = build_return_report(assessment, meta)
    counts = ", ".join(f"{n} {s}" for s, n in assessment.scorecard.counts().items() if n)
    return render_return_report(report, action_plans=plans), counts


def first_render(plans: bool) -> dict[str, float]:
    """Run in a fresh process: time the imports, then the first build and render."""
    start = time.perf_counter()
    import weasyprint  # noqa: F401

    import bot.reports  # noqa: F401

    imported = time.perf_counter()
    build_and_render(plans)
    return {"import_s": imported - start, "first_render_s": time.perf_counter() - imported}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fresh", type=int, default=5, help="fresh processes for the first render")
    parser.add_argument("--warm", type=int, default=30, help="warm renders in this process")
    parser.add_argument("--no-plans", action="store_true", help="leave out the action-plan appendix")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    plans = not args.no_plans
    if args.child:
        print(json.dumps(first_render(plans)))
        return
    firsts = []
    for _ in range(args.fresh):
        command = [sys.executable, __file__, "--child"] + (["--no-plans"] if not plans else [])
        out = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout
        firsts.append(json.loads(out.strip().splitlines()[-1]))
    pdf, statuses = build_and_render(plans)  # warm-up
    warm = []
    for _ in range(args.warm):
        start = time.perf_counter()
        build_and_render(plans)
        warm.append(time.perf_counter() - start)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    first = [f["first_render_s"] for f in firsts]
    imports = [f["import_s"] for f in firsts]
    print(f"return report, 60 indicators ({statuses}), {pages} pages, {len(pdf):,} bytes, "
          f"action plans: {plans}")
    print(f"imports (fresh process):  median {statistics.median(imports):.3f} s  p95 {p95(imports):.3f} s  (n={len(imports)})")
    print(f"first render (fresh):     median {statistics.median(first):.3f} s  p95 {p95(first):.3f} s  (n={len(first)})")
    print(f"warm render:              median {statistics.median(warm):.3f} s  p95 {p95(warm):.3f} s  (n={len(warm)})")


if __name__ == "__main__":
    main()
