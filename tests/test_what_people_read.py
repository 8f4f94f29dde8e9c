"""What people read (issue 20, items 8, 11, 13 and 15): critical failures said out loud and first, a rejected
return shows no colours, terms a contract does not have are "not applicable", and the digest compares the year to
date with the share expected by now exactly as the reply does, in natural order of ref."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import sqlalchemy as sa
from scheduler_fixtures import ALICE, CAROL, LIFESTYLE, SAM, app_on, at, notices, received, scheduler_deployment
from test_reports import read_pdf

from bot.reports.chat import email_text, telegram_text
from bot.reports.context import ReturnMeta, ReturnReport, build_return_report
from bot.reports.display import natural_key
from bot.reports.render import render_return_report
from jobs.reports import report_sweep
from jobs.sweep import sweep
from kpi_core import loader, samples
from kpi_core.assess import assess
from kpi_core.calendar import parse_period
from kpi_core.returns.csv_long import parse_csv
from kpi_core.terms import TermOverrides, apply_terms, contract_terms

# Lifestyle Q1 (November to January): WM.6 at 6.9 against a critical level of 7.0 (issue 20, item 11); a small
# service (about 50 people a quarter) leaves community stop smoking heading below its annual critical level of 180.
CRITICAL = {("wm_satisfaction_total", ""): Fraction(69), ("wm_satisfaction_responses", ""): Fraction(10)}
WM6 = ("WM.6 User feedback score on completion of the programme (or when leaves): average satisfaction, scale "
       "1-10: 6.9 out of 10, past the critical failure level (< 7 out of 10)")


def lifestyle_csv(**changes: Fraction) -> bytes:
    values = samples.sample_values(loader.get("lifestyle"), "quarterly", seed=1, level=0.9, scale=50)
    values.update(CRITICAL)
    values.update({(k, ""): v for k, v in changes.items()})
    return samples.to_csv(values).encode()


def lifestyle_report(data: bytes | None = None, framework_changes: TermOverrides | None = None) -> ReturnReport:
    framework = loader.get("lifestyle")
    if framework_changes is not None:
        framework = apply_terms(framework, contract_terms(framework, framework_changes))
    result = assess(framework, parse_period("2025-26-Q1", 11), parse_csv(data or lifestyle_csv(), "q1.csv"),
                    contract_value=Decimal(1000000))
    return build_return_report(result, ReturnMeta("lifestyle", "One You Lifestyle Programmes", "One You"),
                               charts=False)


def test_a_critical_failure_leads_the_reply_its_subject_and_the_reports_first_page() -> None:
    """The email carrying the exception report once said "(0 late, 8 red)", and the reply showed WM.6 as an
    ordinary red."""
    report = lifestyle_report()
    subject, body = email_text(report)
    assert subject.startswith("One You Lifestyle Programmes: quarterly monitoring return for Q1 2025-26 (November "
                              "2025 to January 2026) accepted, 1 critical failure, 1 at risk of critical failure, ")
    assert f"CRITICAL FAILURES (1)\n\n■ {WM6}" in body
    assert body.index("CRITICAL FAILURES") < body.index("AT RISK OF AN ANNUAL CRITICAL FAILURE") \
        < body.index("NEEDS ATTENTION")
    at_risk = body.split("AT RISK OF AN ANNUAL CRITICAL FAILURE (1)\n\n")[1].splitlines()[0]
    assert at_risk.startswith("▲ CS.1 Numbers of participation in programme (Community Stop Smoking): heading for ")
    assert at_risk.endswith(" at the year end, past the annual critical failure level (< 180)")
    assert "  WM.6 " not in body.split("NEEDS ATTENTION")[1]  # said once, first
    telegram = telegram_text(report)
    assert telegram.index("🚨 Critical failures (1):\n• WM.6") < telegram.index("⚠️ At risk") < telegram.index("🔴 RED")
    page_one = read_pdf(render_return_report(report, action_plans=False))[0]
    assert page_one.index("Critical failures") < page_one.index("Needs attention")
    assert "critical failure · WM.6 User feedback score" in page_one


def test_a_rejected_return_shows_no_colour_count_or_payment() -> None:
    """Issue 20, item 15: "rejected, 3 red" in a subject line: nothing is judged on a rejected return."""
    report = lifestyle_report(lifestyle_csv(cs_participants=Fraction(-5)))
    assert not report.accepted
    subject, body = email_text(report)
    assert subject == ("One You Lifestyle Programmes: quarterly monitoring return for Q1 2025-26 (November 2025 to "
                       "January 2026) rejected")
    telegram = telegram_text(report)
    for text in (body, telegram):
        assert "Nothing is judged or paid on a rejected return: fix the errors below and send it again." in text
        for word in ("RED", "red", "GREEN", "green", "AMBER", "critical", "£", "On target", "🔴", "🟢"):
            assert word not in text.replace("Credit", ""), word
    assert (report.counts, report.attention, report.critical, report.payments, report.action_plans,
            report.charts) == ((), (), (), (), (), ())
    pdf_text = read_pdf(render_return_report(report))[0]
    assert "Figures read" in pdf_text and "Rejected: nothing is judged or paid" in pdf_text
    for word in ("■ RED", "● GREEN", "▲ AMBER", "Payments", "Performance action plan"):
        assert word not in pdf_text, word


def test_data_submission_kpis_a_contract_does_not_have_are_not_applicable_not_no_data() -> None:
    """Issue 20, item 8: "A contract that has no data-submission KPIs shows 'not applicable', not 'no data (could
    not be judged)'"."""
    report = lifestyle_report(framework_changes=TermOverrides(data_submission=False, service_failure_after_late=False))
    subject, body = email_text(report)
    no_data = next((line for line in body.splitlines() if line.startswith("No data")), "")
    assert "DS." not in no_data
    assert ("Not applicable to this contract: DS.1 Timeliness of data and information submissions (rolling 12 "
            "months), DS.2 Accuracy of data and information submissions, right first time (rolling 12 months), DS.3 "
            "Service failures") in body
    assert "DS.1" not in {row.ref for section in report.sections for row in section.rows}
    page_one = read_pdf(render_return_report(report, action_plans=False))[0]
    assert "Not applicable to this contract: DS.1 Timeliness of data and information submissions" in page_one


def test_a_score_out_of_ten_and_a_mix_in_percentage_points_read_with_their_units() -> None:
    """Issue 20, item 12: Solihull's delivery mix read "32.86, target ≤ 10", with no unit or meaning."""
    report = lifestyle_report()
    wm6 = next(row for section in report.sections for row in section.rows if row.ref == "WM.6")
    assert (wm6.value, wm6.target, wm6.gap) == ("6.9 out of 10", "≥ 8.5 out of 10", "1.6 points off target")
    solihull = loader.get("solihull-stop-smoking")
    data = samples.sample_values(solihull, "quarterly", seed=1, level=0.9)
    result = assess(solihull, parse_period("2025-26-Q1", 4), parse_csv(samples.to_csv(data).encode(), "s.csv"))
    mix = next(r for s in build_return_report(result, ReturnMeta("s", "Solihull", "Breathe"), charts=False).sections
               for r in s.rows if r.ref == "T4.3")
    assert mix.value.endswith(" percentage points") and mix.target == "≤ 10 percentage points"


def test_the_exception_report_and_the_digest_name_the_critical_failure_first(engine: sa.Engine,
                                                                           tmp_path: Path) -> None:
    settings = scheduler_deployment(tmp_path, str(engine.url.render_as_string(hide_password=False)), LIFESTYLE)
    app = app_on(settings, engine, date(2025, 12, 1))
    result = app.intake.submit(received(SAM, lifestyle_csv(), "2025-26-Q1", at(date(2026, 2, 12)), "q1"))
    assert result.outcome == "accepted" and f"CRITICAL FAILURES (1)\n\n■ {WM6}" in result.reply
    report_sweep(app.engine, settings, app.files, at(date(2026, 2, 20), 9))
    (report,) = notices(engine, ("report",))
    assert report.subject.startswith("Exception report: quarterly returns due 15 February 2026 (1 critical failure, "
                                     "1 at risk of critical failure, 0 late, ")
    assert report.text.index("CRITICAL FAILURES FIRST (2)") < report.text.index("Returns late or missing")
    assert f"- Critical failure: One You Lifestyle Programmes, {WM6.split(': 6.9')[0]}: 6.9 out of 10, past the " \
           "critical failure level (< 7 out of 10)" in report.text
    monday = date(2026, 2, 23)
    sweep(app.engine, settings, app.files, at(monday, 9))
    (digest,) = [d for d in notices(engine, ("digest",)) if d.to == CAROL]
    assert digest.subject.startswith("Weekly digest, week of 23 February 2026: 1 critical failure, 1 at risk of "
                                     "critical failure, ")
    critical = digest.text.index("CRITICAL FAILURES, AND INDICATORS AT RISK OF AN ANNUAL ONE (2)")
    assert critical < digest.text.index("INDICATORS AT RED IN THE LATEST RETURNS")
    assert f"One You Lifestyle Programmes, Q1 2025-26 (November 2025 to January 2026): critical failure: {WM6}" \
        in digest.text


def test_the_digest_compares_the_year_to_date_as_the_reply_does_in_natural_order(engine: sa.Engine,
                                                                              tmp_path: Path) -> None:
    """Issue 20, item 13: the digest said "89 against a target of >= 400" in Q1 while the reply said "≥ 100 by
    now", and put 1.10 before 1.5."""
    contract = LIFESTYLE.replace("lifestyle", "ch-stop-smoking").replace("One You Lifestyle Programmes",
                                                                           "City and Hackney Stop Smoking Service")
    contract = contract.replace('provider = "one-you"', 'provider = "breathe-easy"').replace(
        "value = 1000000", "value = 720000").replace("start = 2025-11-01", "start = 2025-04-01")
    settings = scheduler_deployment(tmp_path, str(engine.url.render_as_string(hide_password=False)), contract)
    app = app_on(settings, engine, date(2025, 6, 1))
    weak = samples.sample_values(loader.get("ch-stop-smoking"), "quarterly", seed=1, level=0.2)  # 1.1, 1.5, 1.10 red
    result = app.intake.submit(received(ALICE, samples.to_csv(weak).encode(), "2025-26-Q1", at(date(2025, 7, 10)),
                                        "q1"))
    assert result.outcome == "accepted"
    monday = date(2025, 7, 14)
    sweep(app.engine, settings, app.files, at(monday, 9))
    (digest,) = notices(engine, ("digest",))
    red_part = digest.text.split("INDICATORS AT RED IN THE LATEST RETURNS", 1)[1].split("\n\n", 1)[0]
    lines = [line[2:] for line in red_part.splitlines() if line.startswith("- City and Hackney")]
    refs = [line.split(": ", 1)[1].split(" ", 1)[0] for line in lines]
    assert refs[:9] == ["1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.9", "1.10"]
    assert refs == sorted(refs, key=natural_key) and refs[-1] == "A3.1" if "A3.1" in refs else True
    quit_dates = next(line for line in lines if ": 1.1 " in line)
    comparison = quit_dates.split(": 1.1 ", 1)[1].split(": ", 1)[1]  # after the indicator's name
    assert comparison in [line.strip() for line in result.reply.splitlines()]  # word for word as the reply
    assert "by now (≥ 1,600 for the year)" in quit_dates and ">=" not in digest.text
    assert digest.day == monday and not any(d.day == monday + timedelta(days=1) for d in notices(engine, ("digest",)))
