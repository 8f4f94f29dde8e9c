"""The intake's reply is built from the rows a summary can name, not the report's whole context: its words are the
same, byte for byte, as those built from the full context, for every framework, performance level, channel,
version and verdict."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bot.intake.replies import Reply, assessed, for_return
from bot.reports.chat import named_in_summary
from bot.reports.context import ReturnMeta, build_return_report
from bot.reports.samples import sample_year
from kpi_core import loader
from kpi_core.assess import Assessment, assess
from kpi_core.calendar import ReportingYear
from kpi_core.returns.csv_long import parse_csv

FRAMEWORKS = sorted(loader.shipped())
ZONE = "Europe/London"


def scored(framework_id: str, level: float, rejected: bool = False) -> Assessment:
    framework = loader.get(framework_id)
    spec = next(r for r in framework.returns.values() if r.frequency != "annual")
    period = ReportingYear.starting(2025, framework.calendar.year_start_month).periods(spec.frequency)[1]
    data, history = sample_year(framework, period, level=level)
    if rejected:  # a figure that is not a number: the return is refused, nothing judged
        lines = data.decode().splitlines()
        lines[1] = ",".join(lines[1].split(",")[:-1] + ["lots"])
        data = "\n".join(lines).encode()
    return assess(framework, period, parse_csv(data, "return.csv"), history=history, contract_value=Decimal(500000))


def from_full_context(channel: str, meta: ReturnMeta, assessment: Assessment, with_pdf: bool, note: str) -> Reply:
    return assessed(channel, build_return_report(assessment, meta, timezone=ZONE, charts=False), with_pdf, note)


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
@pytest.mark.parametrize("level", [0.2, 0.6, 0.95])
def test_the_reply_says_what_the_full_report_context_says(framework_id: str, level: float) -> None:
    assessment = scored(framework_id, level)
    assert any(not named_in_summary(r) for r in assessment.scorecard.indicators)  # rows were really left out
    for channel in ("email", "telegram", "cli", "web"):
        for version, on_time in ((1, True), (2, False)):
            meta = ReturnMeta("c1", "Contract One", "Breathe Easy CIC", datetime(2025, 10, 20, 9, tzinfo=UTC),
                              version, on_time, date(2025, 10, 15), "return.xlsx")
            for with_pdf in (True, False):
                note = "It now waits for the council's review." if version == 2 else ""
                assert for_return(channel, meta, assessment, ZONE, with_pdf, note) == \
                    from_full_context(channel, meta, assessment, with_pdf, note)


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_a_rejected_returns_reply_says_what_the_full_report_context_says(framework_id: str) -> None:
    assessment = scored(framework_id, 0.6, rejected=True)
    assert not assessment.accepted
    meta = ReturnMeta("c1", "Contract One", "Breathe Easy CIC", datetime(2025, 10, 20, 9, tzinfo=UTC), 1, True,
                      date(2025, 10, 15), "return.xlsx")
    for channel in ("email", "telegram"):
        assert for_return(channel, meta, assessment, ZONE, True) == from_full_context(channel, meta, assessment,
                                                                                       True, "")
