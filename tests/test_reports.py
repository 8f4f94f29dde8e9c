"""PDF reports rendered for real (Jinja2 + WeasyPrint) from real assessments, checked in the PDF's own text.

Every shipped framework gets a return report, draft action plans and a place in the exception report; the
figures printed (values, targets, statuses, gaps, payments) are read back with pypdf and compared with what
kpi_core worked out. A page is rasterised with pdftoppm to prove it is not blank. Inputs are built the way a
provider's file is: CSV bytes through `parse_csv` and `assess`.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from test_cli import ch_quarter_rows as ch_rows

from bot.cli import main
from bot.reports import display
from bot.reports.chat import email_text, telegram_text
from bot.reports.context import ReturnMeta, ReturnReport, build_return_report
from bot.reports.exception_report import ContractPeriodStatus, DataKpi, ExceptionReport, build_exception_report
from bot.reports.pdf import (
    REPORTS,
    TEMPLATES,
    Drawings,
    TemplatesOnlyFetcher,
    html_to_pdf,
)
from bot.reports.render import render_action_plans, render_exception_report, render_return_report, return_report_html
from bot.reports.samples import sample_return_csv, sample_year
from bot.reports.trends import TrendPoint, point_from_stored, short_labels, trends_from_history
from kpi_core import loader, samples
from kpi_core.assess import Assessment, assess
from kpi_core.calendar import Period, ReportingYear, parse_period
from kpi_core.duedates import due_date
from kpi_core.findings import Finding
from kpi_core.loader import load_text
from kpi_core.returns.csv_long import parse_csv

FRAMEWORKS = sorted(loader.shipped())
RECEIVED = datetime(2025, 10, 14, 9, 30, tzinfo=UTC)  # 10:30 in London (BST)
GENERATED = datetime(2025, 10, 20, 8, 0, tzinfo=UTC)


# ----------------------------------------------------------------------------- building and reading reports

def sample_period(framework_id: str) -> Period:
    """The third period of the first periodic return (the year so far has history), else the year."""
    framework = loader.get(framework_id)
    spec = next((r for r in framework.returns.values() if r.frequency != "annual"), None)
    frequency = spec.frequency if spec else "annual"
    periods = ReportingYear.starting(2025, framework.calendar.year_start_month).periods(frequency)
    return periods[min(2, len(periods) - 1)]


@cache
def sample_history(framework_id: str) -> dict[str, dict[tuple[str, str], Fraction]]:
    """The accepted returns of the sample period's year so far (only they count for their periods)."""
    return sample_year(loader.get(framework_id), sample_period(framework_id), level=0.6)[1]


@cache
def assessed(framework_id: str) -> Assessment:
    framework = loader.get(framework_id)
    period = sample_period(framework_id)
    data, history = sample_year(framework, period, level=0.6)
    return assess(framework, period, parse_csv(data, f"{framework_id}-{period.id}.csv"), history=history,
                  contract_value=Decimal(500000))


def meta(framework_id: str, **changes: object) -> ReturnMeta:
    base = ReturnMeta(contract_id=framework_id, contract_name=f"Contract for {loader.get(framework_id).name}",
                      provider_name="Breathe Easy Stop Smoking CIC", received_at=RECEIVED, version=2, on_time=True,
                      source=f"{framework_id}.csv")
    return replace(base, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Rendered:
    report: ReturnReport
    pdf: bytes
    text: str  # every page's text, whitespace collapsed
    pages: int


def read_pdf(pdf: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return squash(text), len(reader.pages)


@cache
def return_report(framework_id: str) -> Rendered:
    """The report without its action-plan appendix (the plans are rendered and checked on their own)."""
    result = assessed(framework_id)
    report = build_return_report(result, meta(framework_id), trends_from_history(result, sample_history(framework_id)),
                                 generated_at=GENERATED)
    pdf = render_return_report(report, action_plans=False)
    return Rendered(report, pdf, *read_pdf(pdf))


def in_order(text: str, parts: list[str], window: int = 900) -> bool:
    """True when `parts` appear in this order within `window` characters from some occurrence of the first."""
    start = text.find(parts[0])
    while start >= 0:
        position = start + len(parts[0])
        for part in parts[1:]:
            found = text.find(part, position, start + window)
            if found < 0:
                break
            position = found + len(part)
        else:
            return True
        start = text.find(parts[0], start + 1)
    return False


def squash(text: str) -> str:
    """Collapse whitespace, and rejoin words a line break split after a hyphen or slash (`4-\nweek`)."""
    return re.sub(r"(?<=\w[-/]) (?=\w)", "", " ".join(text.split()))


# ----------------------------------------------------------------------------- the return report

@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_the_return_report_prints_every_indicator_with_value_target_status_and_gap(framework_id: str) -> None:
    rendered = return_report(framework_id)
    rows = [row for section in rendered.report.sections for row in section.rows]
    assert len(rows) == len(assessed(framework_id).scorecard.indicators)
    missing = []
    for row in rows:
        parts = [f"{row.ref} {squash(row.name)}", row.value, squash(row.target_bound)]
        parts += [squash(row.target_basis)] if row.target_basis else []
        parts += [row.status.label] + ([squash(row.gap)] if row.gap else [])
        if not in_order(rendered.text, parts):
            missing.append(parts)
    assert not missing, f"not found in the PDF text, in order: {missing[:3]}"


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_the_return_report_agrees_with_kpi_core_on_every_status_and_gap(framework_id: str) -> None:
    rendered = return_report(framework_id)
    results = {r.ref: r for r in assessed(framework_id).scorecard.indicators}
    for section in rendered.report.sections:
        for row in section.rows:
            result = results[row.ref]
            assert row.status.key == result.status
            assert row.gap == result.gap_text
            assert row.critical_failure == result.judgement.critical_failure
    counts = assessed(framework_id).scorecard.counts()
    for view in rendered.report.counts:
        assert view.count == counts[view.status.key]
        assert f"{view.status.label} {view.count}" in rendered.text


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_the_return_report_header_names_contract_provider_period_and_timeliness(framework_id: str) -> None:
    rendered = return_report(framework_id)
    result = assessed(framework_id)
    due = due_date(result.period, result.framework.returns[result.return_id].due)
    for text in (f"Contract for {loader.get(framework_id).name}", "Breathe Easy Stop Smoking CIC", result.period.label,
                 "14 October 2025 at 10:30", "On time", f"{framework_id}.csv", "Page 1 of", display.day(due)):
        assert text in rendered.text, text
    assert f"Page {rendered.pages} of {rendered.pages}" in rendered.text


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_the_return_report_shows_payments_with_their_arithmetic(framework_id: str) -> None:
    rendered = return_report(framework_id)
    payments = assessed(framework_id).scorecard.payments
    for payment, view in zip(payments, rendered.report.payments):
        assert view.amount in rendered.text
        for line in payment.arithmetic:
            assert squash(line) in rendered.text


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_the_return_report_has_a_trend_chart_for_each_coloured_indicator(framework_id: str) -> None:
    rendered = return_report(framework_id)
    coloured = [r.ref for r in assessed(framework_id).scorecard.indicators if r.status in ("red", "amber", "green")]
    assert [c.ref for c in rendered.report.charts] == coloured
    period = assessed(framework_id).period
    short = f"Q{period.index}" if period.frequency == "quarterly" else ""
    assert all(short in str(c.svg) for c in rendered.report.charts)
    assert rendered.pdf.count(b"/Subtype /Image") == 0  # charts are vector drawings, not pictures


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_the_return_report_lists_breakdowns_with_their_totals(framework_id: str) -> None:
    rendered = return_report(framework_id)
    values = assessed(framework_id).interpretation.values
    for table in rendered.report.disaggregations[:3]:
        assert squash(table.title) in rendered.text
        for row in table.rows:
            assert in_order(rendered.text, [squash(row.label)] + [c.value for c in row.cells if c.value != "–"]
                            + [row.total], window=1500)
    assert len(rendered.report.disaggregations) >= (1 if any(k[1] for k in values) else 0)


def test_a_return_with_a_52_5_percent_quit_rate_earns_9000_pounds() -> None:
    """The seed's worked example: a £720,000 contract, 5% pot, 52.5% quit rate for the year pays £9,000."""
    framework = loader.get("ch-stop-smoking")
    period = parse_period("2025-26", 4)
    data = ("item,breakdown,value,period\n" + "\n".join(",".join(row) for row in ch_rows(1600, 840)) + "\n").encode()
    result = assess(framework, period, parse_csv(data, "annual.csv"), contract_value=Decimal(720000))
    assert result.accepted
    text, _ = read_pdf(render_return_report(build_return_report(result, meta("ch-stop-smoking"))))
    assert "£9,000.00" in text
    assert "Payment: £36,000.00 x 25% = £9,000.00" in text
    assert in_order(text, ["1.4", "52.5%", "≥ 50%", "● GREEN", "on target"])
    # Note 1: "If performance is between the minimum and stretch target, the service will receive part payment":
    # short of the 60% stretch target but past the 50% minimum is the part-payment tier, not red.
    assert in_order(text, ["1.5", "52.5%", "≥ 60%", "◐ PART PAYMENT",
                           "earns part payment: 7.5 percentage points short of the stretch target"])
    assert "onfirmed" not in text


def test_a_stretch_target_missed_while_the_minimum_is_met_reads_as_the_part_payment_it_earns() -> None:
    """seeds/000 Note 1: "If performance is between the minimum and stretch target, the service will receive part
    payment proportional to the performance achieved." A full year at 52.5% (minimum 50%, stretch 60%) earns
    £9,000 of £36,000: a payment tier, not a failure to put in an action plan, and said so in the report, the email
    and the chat message."""
    from corpus.filling import consistent_values

    framework = loader.get("ch-stop-smoking")
    values = consistent_values(framework, "annual", fixed={"quit_dates": 1600, "quits_4wk": 840})
    result = assess(framework, parse_period("2025-26", 4), parse_csv(samples.to_csv(values).encode(), "a.csv"),
                    contract_value=Decimal(720000))
    assert result.accepted
    report = build_return_report(result, meta("ch-stop-smoking"))
    [row] = [r for section in report.sections for r in section.rows if r.ref == "1.5"]
    assert row.status.label == "◐ PART PAYMENT" and row.gap == ("earns part payment: 7.5 percentage points short "
                                                                "of the stretch target")
    assert ("Part payment: £9,000.00 of £36,000.00, in proportion between the minimum (50%) and the stretch target "
            "(60%).") in row.notes
    assert "1.5" not in [r.ref for r in report.attention] and "1.5" not in [p.ref for p in report.action_plans]
    text, _ = read_pdf(render_return_report(report))
    assert in_order(text, ["1.5", "52.5%", "≥ 60%", "◐ PART PAYMENT", "earns part payment"])
    assert "◐ PART PAYMENT past a payment's minimum and short of its stretch target" in squash(text)
    _, body = email_text(report)
    attention = body.split("PAID IN PART")[0]
    assert "1.5 Stretch target" not in attention
    assert "◐ PART PAYMENT  1.5 Stretch target for 4-week quits (payment by results)" in body
    assert "Every indicator that is judged is on target" not in body
    assert "🟣 PART PAYMENT 1.5 Stretch target" in telegram_text(report)


# A framework shaped like the seed's action plan example (4-week quitters, target 3,500, 1,693 achieved) with a
# critical failure level and the Solihull rule that an exception report is required outside target.
PLAN_EXAMPLE = """
schema = 1
id = "plan-example"
name = "Plan Example Stop Smoking"
[returns.annual]
label = "Annual return"
frequency = "annual"
due = { rule = "date_after", month = 4, day = 30 }
[[items]]
id = "quit_dates"
label = "People setting a quit date"
[[items]]
id = "quits_4wk"
label = "4-week quitters"
[[indicators]]
ref = "Q4"
name = "Smoking quitters (4 weeks)"
kind = "count"
expression = "quits_4wk"
target = ">= 3500"
[[indicators]]
ref = "S1"
name = "4-week success rate"
kind = "percentage"
numerator = "quits_4wk"
denominator = "quit_dates"
target = ">= 50"
critical = "< 40"
exception_report = true
"""


@cache
def plan_example() -> Assessment:
    framework = load_text(PLAN_EXAMPLE, "plan-example.toml")
    data = b"item,breakdown,value\nquit_dates,,4500\nquits_4wk,,1693\n"
    return assess(framework, parse_period("2025-26", 4), parse_csv(data, "plan.csv"))


def test_the_action_plan_follows_the_council_template_with_the_seed_example() -> None:
    report = build_return_report(plan_example(), meta("ch-stop-smoking", contract_name="Plan Example"))
    text, pages = read_pdf(render_action_plans(report))
    assert pages == 2  # one page per red indicator: Q4 (1,693 of 3,500) and S1 (37.6%, a critical failure)
    for label in ("Performance action plan (draft)", "INDICATOR OVERVIEW", "Indicator title", "Strategic Director Lead",
                  "Departmental Lead", "CURRENT SITUATION", "Non-compliance reason", "ACTIONS", "What (is required)",
                  "How (will it be achieved)", "Who (will be responsible)", "When (will results be realised)"):
        assert label in text, label
    assert in_order(text, ["Q4 Smoking quitters (4 weeks)", "Target ≥ 3,500", "Performance this period 1,693",
                           "■ RED", "Off target by 1,807 off target"])
    assert in_order(text, ["S1 4-week success rate", "≥ 50%", "37.6%", "■ RED", "critical failure",
                           "12.4 percentage points off target"])


@cache
def action_plans_pdf(framework_id: str) -> bytes:
    return render_action_plans(return_report(framework_id).report)


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_every_red_indicator_gets_a_draft_action_plan_page(framework_id: str) -> None:
    report = return_report(framework_id).report
    reds = [row for section in report.sections for row in section.rows if row.status.key == "red"]
    text, pages = read_pdf(action_plans_pdf(framework_id))
    assert [p.ref for p in report.action_plans] == [r.ref for r in
                                                    (row for s in report.sections for row in s.rows) if r.status.key == "red"]
    assert pages == max(1, len(reds))
    for plan in report.action_plans:
        assert in_order(text, [f"{plan.ref} {squash(plan.title)}", squash(plan.target), squash(plan.performance),
                               squash(plan.off_target)], window=3000)
    if not reds:
        assert "no action plan is needed" in text


def test_the_return_report_carries_the_action_plans_as_an_appendix() -> None:
    report = build_return_report(plan_example(), meta("ch-stop-smoking", contract_name="Plan Example"))
    with_plans, pages = read_pdf(render_return_report(report))
    without = read_pdf(render_return_report(report, action_plans=False))[1]
    assert pages == without + 2
    assert with_plans.count("Performance action plan (draft)") == 2


def test_trends_score_each_earlier_period_and_name_the_year_when_they_span_two() -> None:
    framework = loader.get("ch-stop-smoking")
    period = parse_period("2025-26-Q1", 4)
    stored = {"2024-25-Q4": samples.sample_values(framework, "quarterly", seed=7)}  # what storage would pass
    data = sample_return_csv(framework, period, with_earlier=False)
    result = assess(framework, period, parse_csv(data, "q1.csv"), history=stored)
    trends = trends_from_history(result, stored)
    assert [p.period_id for p in trends["1.4"]] == ["2024-25-Q4", "2025-26-Q1"]
    assert trends["1.4"][-1].value == result.scorecard.result("1.4").value
    # A cumulative count is its year to date against the share of the annual target expected by then.
    assert [p.target for p in trends["1.1"]] == [1600, 400]
    assert short_labels(["2024-25-Q4", "2025-26-Q1"], 4) == ["Q4 24-25", "Q1 25-26"]
    report = build_return_report(result, meta("ch-stop-smoking"), trends)
    chart = next(c for c in report.charts if c.ref == "1.4")
    assert "Q4 24-25" in str(chart.svg) and "Q1 25-26" in str(chart.svg)


def test_a_series_from_storage_gets_this_period_added_once() -> None:
    result = assessed("ch-stop-smoking")
    earlier = (TrendPoint("2025-26-Q1", Fraction(41), Fraction(50), "red"),
               TrendPoint(result.period.id, Fraction(1), Fraction(1), "green"))  # a stale copy of this period
    report = build_return_report(result, meta("ch-stop-smoking"), {"1.4": earlier})
    svg = str(next(c for c in report.charts if c.ref == "1.4").svg)
    assert svg.count('stroke-width="0.8"') == 2  # a marker for Q1 and one for this period, not two
    assert 'Q1Q3</text>' in svg  # the small labels (the axis' ends, then the periods) end with Q1 and this Q3
    assert display.value_text(result.scorecard.result("1.4").value, result.framework.indicator("1.4")) in svg


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_a_trend_point_read_back_from_a_stored_result_matches_the_scored_one(framework_id: str) -> None:
    card = assessed(framework_id).scorecard
    for result in card.indicators:
        stored = point_from_stored(card.period.id, result.as_dict())
        assert stored.status == result.status
        for got, want in ((stored.value, result.judged_value.value), (stored.target, result.judgement.target)):
            assert (got is None) == (want is None) and (got is None or abs(got - want) < Fraction(1, 10**5))


@pytest.mark.parametrize(("on_time", "received", "due", "text"), [
    (True, date(2025, 10, 14), date(2025, 10, 15), "On time"),
    (False, date(2025, 10, 18), date(2025, 10, 15), "Late: 3 days after the due date"),
    (False, date(2025, 10, 16), date(2025, 10, 15), "Late: 1 day after the due date"),
    (False, None, date(2025, 10, 15), "Late"),
    (None, None, date(2025, 10, 15), "Not judged"),
])
def test_timeliness_reads_as_a_person_would_say_it(on_time: bool | None, received: date | None, due: date,
                                                  text: str) -> None:
    assert display.lateness(on_time, received, due) == text


# ----------------------------------------------------------------------------- the exception report

def status_for(framework_id: str, **changes: object) -> ContractPeriodStatus:
    result = assessed(framework_id)
    base = ContractPeriodStatus(
        contract_id=framework_id, contract_name=f"Contract for {loader.get(framework_id).name}",
        provider_name="Breathe Easy Stop Smoking CIC", period=result.period, due_date=date(2026, 1, 15),
        received_at=RECEIVED, on_time=True, days_late=None, escalation_level=0, escalation_label="On time",
        assessment=result, timeliness=DataKpi("Timeliness of returns", 19, 20),
        accuracy=DataKpi("Accuracy of returns", 3, 4))
    return replace(base, **changes)  # type: ignore[arg-type]


@cache
def exception_report() -> tuple[ExceptionReport, str]:
    report, pdf = exception_pdf()
    return report, read_pdf(pdf)[0]


@cache
def exception_pdf() -> tuple[ExceptionReport, bytes]:
    statuses = [status_for(f) for f in FRAMEWORKS]
    statuses.append(status_for(FRAMEWORKS[0], contract_id="missing", contract_name="Missing Returns Service",
                               provider_name="Quiet Provider Ltd", received_at=None, on_time=None, days_late=5,
                               escalation_level=2, assessment=None, timeliness=DataKpi("Timeliness of returns", 1, 4),
                               accuracy=None,
                               escalation_label="Late for a second consecutive period: provider manager informed"))
    statuses.append(replace(status_for(FRAMEWORKS[0], on_time=False, days_late=3, escalation_level=1,
                                       escalation_label="Late: overdue notice to the provider"),
                            contract_id="plan", contract_name="Plan Example Service", assessment=plan_example()))
    report = build_exception_report(statuses, "2025-26 Q3", generated_at=GENERATED)
    return report, render_exception_report(report)


def test_the_exception_report_lists_every_red_and_amber_indicator_of_every_contract() -> None:
    report, text = exception_report()
    expected = [(f, r) for f in FRAMEWORKS for r in assessed(f).scorecard.indicators if r.status in ("red", "amber")]
    assert len(report.exceptions) == len(expected) + 2  # and Plan Example's two reds
    assert sum(len(g.rows) for g in report.exception_groups) == len(report.exceptions)
    for group in report.exception_groups:
        assert [r.status.key for r in group.rows] == sorted((r.status.key for r in group.rows), key=lambda s: s != "red")
        start = text.index(f"{squash(group.contract_name)} · {group.provider_name}")
        for row in group.rows:
            assert in_order(text[start:], [f"{row.ref} {squash(row.name)}", row.value, squash(row.target),
                                           row.status.label, squash(row.gap)], window=1500), row.ref


def test_the_exception_report_names_missing_and_late_returns_with_their_escalation() -> None:
    _, text = exception_report()
    assert in_order(text, ["Missing and late returns", "Missing Returns Service", "Quiet Provider Ltd",
                           "15 January 2026", "Not received: 5 days overdue",
                           "Late for a second consecutive period: provider manager informed"])
    assert in_order(text, ["Plan Example Service", "14 October 2025 at 10:30, 3 days late",
                           "Late: overdue notice to the provider"])


def test_the_exception_report_shows_critical_failures_and_the_contract_exception_rule() -> None:
    report, text = exception_report()
    section = text[text.index("Critical failures"):text.index("Red and amber indicators")]
    assert in_order(section, ["Plan Example Service", "S1", "4-week success rate", "37.6%", "< 40%",
                              "Critical performance failure"])
    flagged = [r.ref for f in FRAMEWORKS for r in assessed(f).scorecard.indicators
               if r.indicator.exception_report and r.status in ("red", "amber")]
    assert sorted(r.ref for r in report.required_by_contract) == sorted(flagged + ["S1"])  # Solihull's 4-week rule
    assert "The contract requires an exception report when this is outside target." in text
    assert in_order(text, ["Exception reporting required by contract", "Plan Example Service", "S1"], window=6000)


def test_the_exception_report_shows_payment_forecasts_and_data_submission_kpis() -> None:
    report, text = exception_report()
    for row in report.payments:
        assert in_order(text, [squash(row.contract_name), squash(row.name), row.amount, row.maximum], window=1500)
    assert in_order(text, ["Timeliness of returns", "95% (19 of 20)", "≥ 95%", "● GREEN"])
    assert in_order(text, ["Accuracy of returns", "75% (3 of 4)", "≥ 95%", "■ RED"])
    assert in_order(text, ["Missing Returns Service", "Timeliness of returns", "25% (1 of 4)", "■ RED"])


@pytest.mark.parametrize(("received", "on_time", "days_late", "state", "listed"), [
    (None, None, None, "Not received yet", False),
    (None, None, 5, "Not received: 5 days overdue", True),
    (RECEIVED, True, None, "Received 14 October 2025 at 10:30, on time", False),
    (RECEIVED, False, 1, "Received 14 October 2025 at 10:30, 1 day late", True),
])
def test_a_return_is_listed_as_missing_or_late_only_when_it_is(received: datetime | None, on_time: bool | None,
                                                              days_late: int | None, state: str, listed: bool) -> None:
    status = status_for(FRAMEWORKS[0], received_at=received, on_time=on_time, days_late=days_late,
                        assessment=None if received is None else assessed(FRAMEWORKS[0]))
    report = build_exception_report([status], "2025-26 Q3")
    assert report.contracts[0].return_state == state
    assert [r.state for r in report.late] == ([state] if listed else [])


# ----------------------------------------------------------------------------- the truth in every wording

NEAR_TARGET = """
schema = 1
id = "near-target"
name = "Near Target Service"
[returns.quarterly]
label = "Quarterly monitoring return"
frequency = "quarterly"
due = { rule = "day_of_next_month", day = 15 }
[[items]]
id = "quit_dates"
label = "People setting a quit date"
[[items]]
id = "bangladeshi"
label = "People of Bangladeshi heritage setting a quit date"
[[indicators]]
ref = "4.3c"
name = "% of those setting a quit date who are Bangladeshi"
kind = "percentage"
numerator = "bangladeshi"
denominator = "quit_dates"
target = ">= 2"
"""


def near_target_report() -> ReturnReport:
    framework = load_text(NEAR_TARGET, "near-target.toml")
    data = b"item,breakdown,value\nquit_dates,,351\nbangladeshi,,7\n"
    result = assess(framework, parse_period("2025-26-Q2", 4), parse_csv(data, "q2.csv"))
    return build_return_report(result, meta("ch-stop-smoking"))


def test_a_value_just_below_its_target_never_prints_as_the_target() -> None:
    """7 of 351 is 1.99%: printed `2%, target ≥ 2%, 0 percentage points off` it read as met while scored amber
    (now red: no shipped contract has an amber band)."""
    report = near_target_report()
    (row,) = report.sections[0].rows
    assert (row.value, row.target, row.status.key, row.gap) == ("1.99%", "≥ 2%", "red",
                                                                "0.01 percentage points off target")
    assert "Too close to call: the 95% interval 1% to 4.1% spans the target (>= 2%)." in row.notes
    telegram = telegram_text(report)
    assert "1.99%, target ≥ 2%: 0.01 percentage points off target" in telegram
    text, _ = read_pdf(render_return_report(report, action_plans=False))
    assert in_order(text, ["4.3c", "1.99%", "7 of 351", "≥ 2%", "■ RED", "0.01 percentage points off target"])


def test_a_file_with_nothing_readable_is_not_reported_as_on_target() -> None:
    framework = loader.get("ch-stop-smoking")
    unreadable = parse_csv(b"\x00\x01\x02 not a return", "return.xlsx")
    assert unreadable.unreadable
    report = build_return_report(assess(framework, parse_period("2025-26-Q2", 4), unreadable), meta("ch-stop-smoking"))
    assert not report.has_figures
    for text in (telegram_text(report), email_text(report)[1], read_pdf(render_return_report(report))[0]):
        assert "Nothing could be read from" in text
        assert "on target" not in text and "£" not in text


def test_a_payment_reads_as_a_sentence_with_its_unit() -> None:
    """Not `£0.00 (forecast, forecast for the year: 356)`."""
    framework = loader.get("ch-stop-smoking")
    rows = "\n".join(",".join(row) for row in ch_rows(240, 130, ""))
    q1 = {(item, ""): Fraction(value) for item, _, value, _ in ch_rows(160, 80)}  # the accepted Q1 return
    result = assess(framework, parse_period("2025-26-Q2", 4), parse_csv(
        f"item,breakdown,value,period\n{rows}\n".encode(), "q2.csv"), history={"2025-26-Q1": q1},
        contract_value=Decimal(720000))
    (payment,) = build_return_report(result, meta("ch-stop-smoking")).payments
    assert payment.summary == "£9,000.00, a forecast: 1.5 stands at 52.5% so far this year"
    rejected = replace(result, findings=[*result.findings, Finding("error", "x", "a problem")])
    assert build_return_report(rejected, meta("ch-stop-smoking")).payments == ()  # nothing is paid on it


# ----------------------------------------------------------------------------- layout on the page

MM = 72 / 25.4  # PDF points per millimetre
MARGIN = {"side": 13 * MM, "top": 17 * MM, "bottom": 17 * MM}  # templates/reports/print.css, @page
MIN_LINES = 3  # of body text on any page: fewer is a page left nearly empty (a footnote or two, as the issue saw)
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


@dataclass(frozen=True)
class Page:
    width: float
    height: float
    words: tuple[tuple[float, float, float, float, str], ...]  # x0, y0, x1, y1, text

    def outside_margins(self) -> list[str]:
        """Words reaching into the left or right margin (the running header and footer stay inside too)."""
        low, high = MARGIN["side"] - 1, self.width - MARGIN["side"] + 1
        return [text for x0, _, x1, _, text in self.words if x0 < low or x1 > high]

    def body_lines(self) -> int:
        """Lines of text between the top and bottom margins (the running header and page number are outside)."""
        return len({round(y1) for _, y0, _, y1, _ in self.words
                    if y0 > MARGIN["top"] and y1 < self.height - MARGIN["bottom"]})


def layout(pdf: bytes) -> list[Page]:
    """Every page's words with their positions, from `pdftotext -bbox` (poppler-utils)."""
    if shutil.which("pdftotext") is None:
        if os.environ.get("KPIBOT_REQUIRE_SERVICES"):
            pytest.fail("pdftotext is missing: install poppler-utils")
        pytest.skip("pdftotext is missing: install poppler-utils")
    html = subprocess.run(["pdftotext", "-bbox", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    pages = []
    for chunk in html.decode().split("<page ")[1:]:
        size = re.match(r'width="([\d.]+)" height="([\d.]+)"', chunk)
        assert size is not None
        words = tuple((float(a), float(b), float(c), float(d), t) for a, b, c, d, t in WORD.findall(chunk))
        pages.append(Page(float(size[1]), float(size[2]), words))
    return pages


def reports_of(framework_id: str) -> dict[str, bytes]:
    return {"return report": return_report(framework_id).pdf, "action plans": action_plans_pdf(framework_id),
            "exception report": exception_pdf()[1]}


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_every_page_keeps_its_text_inside_the_margins(framework_id: str) -> None:
    """Tables are laid out so no column leaves the printable area, whatever the framework's labels and targets."""
    outside = {f"{name}, page {n}": page.outside_margins()
               for name, pdf in reports_of(framework_id).items() for n, page in enumerate(layout(pdf), start=1)}
    assert {where: words for where, words in outside.items() if words} == {}


@pytest.mark.parametrize("framework_id", FRAMEWORKS)
def test_no_page_is_left_nearly_empty(framework_id: str) -> None:
    sparse = {f"{name}, page {n}": page.body_lines()
              for name, pdf in reports_of(framework_id).items() for n, page in enumerate(layout(pdf), start=1)}
    assert {where: lines for where, lines in sparse.items() if lines < MIN_LINES} == {}


def test_a_long_unbroken_word_wraps_inside_its_column() -> None:
    """A file name or formula with no spaces must not push the table past the paper's edge."""
    long_name = "% of " + "very_long_identifier_without_any_spaces/" * 4
    framework = load_text(NEAR_TARGET.replace('name = "% of those setting a quit date who are Bangladeshi"',
                                              f'name = "{long_name}"'), "long.toml")
    data = b"item,breakdown,value\nquit_dates,,351\nbangladeshi,,7\n"
    result = assess(framework, parse_period("2025-26-Q2", 4), parse_csv(data, "x" * 120 + ".csv"))
    pdf = render_return_report(build_return_report(result, meta("ch-stop-smoking", source="y" * 150 + ".csv")))
    assert [page.outside_margins() for page in layout(pdf)] == [[]] * len(layout(pdf))
    assert "very_long_identifier" in read_pdf(pdf)[0].replace("\u200b", "")


def test_every_chart_is_served_to_weasyprint_and_nothing_else_is_fetched() -> None:
    report = build_return_report(plan_example(), meta("ch-stop-smoking", contract_name="Plan Example"))
    drawings = Drawings()
    fetcher = TemplatesOnlyFetcher(drawings=drawings)
    html_to_pdf(return_report_html(report, action_plans=False, drawings=drawings), fetcher=fetcher)
    assert fetcher.refused == []
    assert len(drawings.served) == len({str(c.svg) for c in report.charts}) > 0


def test_the_layout_checks_catch_text_past_the_margin_and_a_page_of_footnotes() -> None:
    wide = '<table class="data"><tr><td>' + "x" * 40 + '</td><td style="white-space: nowrap">' + "y " * 200 + \
           '</td></tr></table><p style="break-before: page">A footnote.</p>'
    pages = layout(html_to_pdf(f'<html><head><link rel="stylesheet" href="print.css"></head><body>{wide}</body></html>'))
    assert pages[0].outside_margins() and pages[-1].body_lines() == 1


# ----------------------------------------------------------------------------- print, safety and the command line

def test_a_rasterised_page_is_not_blank_and_shows_the_status_colours(tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        if os.environ.get("KPIBOT_REQUIRE_SERVICES"):
            pytest.fail("pdftoppm is missing: install poppler-utils")
        pytest.skip("pdftoppm is missing: install poppler-utils")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(return_report(FRAMEWORKS[0]).pdf)
    subprocess.run(["pdftoppm", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True)
    ppm = next(tmp_path.glob("page*.ppm")).read_bytes()
    width, height, pixels = parse_ppm(ppm)
    assert (width, height) == (331, 468)  # A4 at 40 dpi
    inked = sum(1 for i in range(0, len(pixels), 3) if min(pixels[i:i + 3]) < 200)
    assert 0.02 < inked / (width * height) < 0.6
    tints = {bytes(pixels[i:i + 3]) for i in range(0, len(pixels), 3)}
    assert any(abs(p[0] - 0xF7) < 12 and abs(p[1] - 0xDA) < 12 and abs(p[2] - 0xCB) < 12 for p in tints)  # red tint


def parse_ppm(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and RGB bytes of a binary (P6) PPM with 8-bit samples."""
    fields: list[bytes] = []
    position = 0
    while len(fields) < 4:
        while data[position:position + 1].isspace():
            position += 1
        end = position
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[position:end])
        position = end
    assert fields[0] == b"P6" and fields[3] == b"255"
    return int(fields[1]), int(fields[2]), data[position + 1:]


HOSTILE_CSV = (b'item,breakdown,value\n'
               b'"<img src=""file:///etc/passwd"">",,5\n'
               b'quit_dates,,<script>alert(1)</script>\n'
               b'quits_4wk,,40\n')


def test_provider_text_is_printed_as_text_never_markup() -> None:
    framework = loader.get("ch-stop-smoking")
    result = assess(framework, parse_period("2025-26-Q1", 4), parse_csv(HOSTILE_CSV, "<b>evil</b>.csv"))
    report = build_return_report(result, meta("ch-stop-smoking", provider_name='Evil <iframe src="http://127.0.0.1:1/">',
                                              source="<b>evil</b>.csv"))
    pdf = render_return_report(report)
    text, _ = read_pdf(pdf)
    assert '<img src="file:///etc/passwd">' in text
    assert "<script>alert(1)</script>" in text
    assert 'Evil <iframe src="http://127.0.0.1:1/">' in text
    assert "<b>evil</b>.csv" in text
    assert b"/Subtype /Image" not in pdf  # nothing was fetched or embedded
    assert b"root:x:0:0" not in pdf


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "http://127.0.0.1:9/chart.png",
    "https://example.com/font.woff",
    "data:image/png;base64,iVBORw0KGgo=",
    (TEMPLATES / "reports" / ".." / ".." / "pyproject.toml").as_uri(),
    "file://elsewhere/" + str(TEMPLATES / "reports" / "print.css"),
    (TEMPLATES / "reports" / "missing.css").as_uri(),
])
def test_the_fetcher_refuses_anything_but_files_under_templates(url: str) -> None:
    fetcher = TemplatesOnlyFetcher()
    assert fetcher.allowed_path(url) is None
    with pytest.raises(ValueError, match="refused"):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_the_fetcher_serves_the_print_stylesheet() -> None:
    response = TemplatesOnlyFetcher().fetch((REPORTS / "print.css").as_uri())
    assert b"size: A4" in response.read()
    assert response.content_type == "text/css"


def test_a_symlink_out_of_the_templates_folder_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "templates"
    root.mkdir()
    secret = tmp_path / "secret.css"
    secret.write_text("body { color: red }")
    (root / "style.css").symlink_to(secret)
    assert TemplatesOnlyFetcher(root).allowed_path((root / "style.css").as_uri()) is None


def test_rendering_refuses_outside_references_and_keeps_its_own_stylesheet(tmp_path: Path) -> None:
    picture = tmp_path / "picture.png"
    picture.write_bytes(PNG_1X1)
    html = (f'<html><head><link rel="stylesheet" href="print.css"><link rel="stylesheet" href="file:///etc/passwd">'
            f'</head><body><p>Hello</p><img src="{picture.as_uri()}"><img src="http://127.0.0.1:9/x.png">'
            f'<img src="file:///etc/passwd"></body></html>')
    fetcher = TemplatesOnlyFetcher()
    pdf = html_to_pdf(html, fetcher=fetcher)
    assert sorted(fetcher.refused) == sorted(["file:///etc/passwd", picture.as_uri(), "http://127.0.0.1:9/x.png",
                                              "file:///etc/passwd"])
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    assert not page.images
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)  # A4 from print.css


PNG_1X1 = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e226"
                        "05d60000000049454e44ae426082")


def test_score_writes_the_return_report_as_pdf(ch_stop_smoking_config: Path, tmp_path: Path) -> None:
    source = tmp_path / "q1.csv"
    source.write_bytes(b"item,breakdown,value\nquit_dates,,400\nquit_dates,area=hackney,380\nquit_dates,area=city,20\n"
                      b"quits_4wk,,150\n")
    out = tmp_path / "report.pdf"
    result = CliRunner().invoke(main, ["--config", str(ch_stop_smoking_config), "score", str(source), "--contract",
                                       "ch-stop-smoking", "--period", "2025-26-Q1", "--json", "--pdf", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 2, result.output  # rejected: most items are missing; the report says which
    assert json.loads(result.stdout)["period"] == "2025-26-Q1"  # the PDF's message goes to stderr, not the JSON
    text, _ = read_pdf(out.read_bytes())
    for phrase in ("City and Hackney Stop Smoking Service", "Breathe Easy Stop Smoking CIC", "Q1 2025-26", "q1.csv",
                   "not submitted (scored from a file)", "Rejected", "is missing", "Figures read"):
        assert phrase in text, phrase
    # Nothing is judged on a rejected return (issue 20, item 15): its figures are listed for checking, no colour,
    # payment or action plan.
    assert in_order(text, ["1.4", "37.5%", "150 of 400"])
    for phrase in ("■ RED", "● GREEN", "Payment:", "Performance action plan (draft)", "off target"):
        assert phrase not in text, phrase
    assert not list(tmp_path.glob("*.part"))
    complete = tmp_path / "complete.csv"
    complete.write_text("item,breakdown,value,period\n" + "\n".join(",".join(row) for row in ch_rows(400, 150)) + "\n",
                        encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(ch_stop_smoking_config), "score", str(complete), "--contract",
                                       "ch-stop-smoking", "--period", "2025-26-Q1", "--pdf", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    text, _ = read_pdf(out.read_bytes())
    assert "Payment: £36,000.00 x 0% = £0.00 (0% of contract value)" in text
    assert in_order(text, ["1.4", "37.5%", "150 of 400", "≥ 50%", "■ RED", "12.5 percentage points off target"])
    assert in_order(text, ["1.1", "400", "≥ 400 by now", "≥ 1,600 for the year", "● GREEN", "on target"])
    scored = assess(loader.get("ch-stop-smoking"), parse_period("2025-26-Q1", 4), parse_csv(complete.read_bytes()))
    reds = [r.ref for r in scored.scorecard.indicators if r.status == "red"]
    assert {"1.4", "1.5"} <= set(reds)
    assert text.count("Performance action plan (draft)") == len(reds)


def test_score_says_plainly_when_the_pdf_cannot_be_written(ch_stop_smoking_config: Path, tmp_path: Path) -> None:
    source = tmp_path / "q1.csv"
    source.write_bytes(b"item,breakdown,value\nquit_dates,,400\nquits_4wk,,210\n")
    out = tmp_path / "no-such-folder" / "report.pdf"
    result = CliRunner().invoke(main, ["--config", str(ch_stop_smoking_config), "score", str(source), "--contract",
                                       "ch-stop-smoking", "--period", "2025-26-Q1", "--pdf", str(out)])
    assert result.exit_code == 1
    assert f"Error: cannot write {out}: the folder {out.parent} does not exist" in result.output
    assert not out.parent.exists()


def test_the_templates_folder_holds_the_shared_print_stylesheet_and_partials() -> None:
    names = {p.name for p in REPORTS.iterdir()}
    assert {"print.css", "return_report.html", "exception_report.html", "action_plans.html"} <= names
    assert all(n.startswith("_") for n in names - {"print.css", "return_report.html", "exception_report.html",
                                                    "action_plans.html", "meeting_pack.html"})
