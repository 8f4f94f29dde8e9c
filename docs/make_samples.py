"""Render the sample report pictures the README shows: the first page of a return report, of an exception report
and of a draft performance action plan, from deterministic sample returns of the example deployment.

    .venv/bin/python docs/make_samples.py          # writes docs/*.png (needs pdftoppm, from poppler-utils)
    .venv/bin/python docs/make_samples.py --pdf    # also keeps the PDFs next to them

The figures come from `kpi_core.samples` (seeded), the contracts and providers from config.toml, and every date
is fixed, so running it again gives the same pictures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402  (installed with WeasyPrint)

from bot import config  # noqa: E402
from bot.reports.context import ReturnMeta, build_return_report
from bot.reports.exception_report import ContractPeriodStatus, DataKpi, build_exception_report
from bot.reports.render import render_action_plans, render_exception_report, render_return_report
from bot.reports.samples import sample_year  # noqa: E402
from bot.reports.trends import trends_from_history  # noqa: E402
from kpi_core import loader  # noqa: E402
from kpi_core.assess import Assessment, assess, return_type_for  # noqa: E402
from kpi_core.calendar import Period, parse_period  # noqa: E402
from kpi_core.duedates import due_date  # noqa: E402
from kpi_core.escalation import escalation_for  # noqa: E402
from kpi_core.returns.csv_long import parse_csv  # noqa: E402
from kpi_core.values import Key  # noqa: E402

DOCS = Path(__file__).resolve().parent
DPI = 100
GENERATED = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)
TITLE = "quarterly returns due by 15 February 2026"
# Each contract's latest quarter due by then (the lifestyle contract's years start in November), how well the
# provider does and its typical count per quarter (kpi_core.samples level and scale), when the return arrived
# (days after the due date; None: missing) and how many periods before it were late in a row.
STORY = {
    "ch-stop-smoking": ("2025-26-Q3", 0.6, 420, -2, 0),
    "solihull-stop-smoking": ("2025-26-Q3", 0.75, 400, 3, 1),
    "lifestyle": ("2025-26-Q1", 0.85, 300, -5, 0),
    "ch-substance-misuse": ("2025-26-Q3", 0.8, 200, None, 2),
}


def assessed(framework_id: str, period: Period, level: float, scale: int,
             value: object) -> tuple[Assessment, dict[str, dict[Key, Fraction]]]:
    """The sample return assessed with its year so far as accepted history, and that history."""
    framework = loader.get(framework_id)
    data, history = sample_year(framework, period, level=level, scale=scale)
    return assess(framework, period, parse_csv(data, f"{framework_id}-{period.id}.csv"), history=history,
                  contract_value=value), history


def first_page_png(pdf: bytes, out: Path, page: int = 1) -> None:
    """Rasterise one page at DPI and save it as a small palette PNG."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "report.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(DPI), "-f", str(page), "-l", str(page), "-png", str(source),
                        str(Path(folder) / "page")], check=True)
        picture = Image.open(next(Path(folder).glob("page*.png"))).convert("RGB")
        picture.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    print(f"wrote {out.relative_to(ROOT)} ({out.stat().st_size // 1024} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pdf", action="store_true", help="keep the PDFs in docs/ as well")
    args = parser.parse_args()
    settings = config.load(ROOT / "config.toml", environ={})
    statuses = []
    return_pdf = plans_pdf = b""
    for contract in settings.contracts:
        framework = loader.get(contract.framework)
        period_id, level, scale, arrived, run = STORY.get(contract.id, ("2025-26-Q3", 0.8, 200, -1, 0))
        period = parse_period(period_id, contract.start_month)
        due = due_date(period, framework.returns[return_type_for(framework, period)].due)
        provider = settings.organisation(contract.provider).name
        received = None if arrived is None else datetime.combine(date.fromordinal(due.toordinal() + arrived),
                                                                 datetime.min.time(), UTC).replace(hour=10)
        result, history = assessed(contract.framework, period, level, scale, contract.value)
        late = arrived is None or arrived > 0
        escalation = escalation_for(run + 1 if late else 0, None)
        sent = 4 - (arrived is None)  # four returns due in the rolling year; a missing one was never sent
        statuses.append(ContractPeriodStatus(
            contract_id=contract.id, contract_name=contract.name, provider_name=provider, period=period,
            due_date=due, received_at=received, on_time=None if arrived is None else not late,
            days_late=(arrived if arrived is not None else 12) if late else None,
            escalation_level=escalation.level, escalation_label=escalation.label,
            assessment=None if arrived is None else result,
            timeliness=DataKpi("Timeliness of returns", 4 - run - late, 4),
            accuracy=DataKpi("Accuracy of returns", sent - (contract.id == "solihull-stop-smoking"), sent)))
        if contract.id == "ch-stop-smoking":
            meta = ReturnMeta(contract.id, contract.name, provider, received_at=received, version=2, on_time=True,
                              source="breathe-easy-2025-26-q3.csv")
            report = build_return_report(result, meta, trends_from_history(result, history), generated_at=GENERATED,
                                         timezone=settings.timezone)
            return_pdf, plans_pdf = render_return_report(report), render_action_plans(report)
    exceptions = build_exception_report(statuses, TITLE, generated_at=GENERATED, timezone=settings.timezone)
    exception_pdf = render_exception_report(exceptions)
    for name, pdf in (("return-report", return_pdf), ("exception-report", exception_pdf),
                      ("action-plan", plans_pdf)):
        first_page_png(pdf, DOCS / f"sample-{name}.png")
        if args.pdf:
            (DOCS / f"sample-{name}.pdf").write_bytes(pdf)


if __name__ == "__main__":
    main()
