"""The `kpibot` command line: frameworks, calendar and score, run for real (CliRunner and the installed script)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bot.cli import main
from kpi_core import loader

REPO_ROOT = Path(__file__).resolve().parent.parent
KPIBOT = Path(sys.executable).with_name("kpibot")  # the script installed beside the Python running the tests
CH_FILE = REPO_ROOT / "kpi_core" / "frameworks" / "ch-stop-smoking.toml"


def kpibot(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def indicator(report: dict[str, Any], ref: str) -> dict[str, Any]:
    return next(i for i in report["indicators"] if i["ref"] == ref)


# ----------------------------------------------------------------------------- frameworks


def test_frameworks_list_shows_the_shipped_frameworks() -> None:
    result = kpibot("frameworks", "list")
    assert result.exit_code == 0
    line = next(line for line in result.stdout.splitlines() if line.startswith("ch-stop-smoking "))
    assert "City and Hackney Stop Smoking Service" in line and "quarterly, annual" in line
    for framework_id in loader.shipped():
        assert framework_id in result.stdout


def test_frameworks_show_json_lists_items_and_indicators_with_their_thresholds() -> None:
    result = kpibot("frameworks", "show", "ch-stop-smoking", "--json")
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert shown["id"] == "ch-stop-smoking"
    items = {i["id"]: i for i in shown["items"]}
    assert items["quit_dates"]["label"] == "People setting a quit date"
    assert "area" in items["quit_dates"]["breakdowns"]
    indicators = {i["ref"]: i for i in shown["indicators"]}
    assert {k: indicators["1.4"][k] for k in ("ref", "kind", "direction", "target", "numerator", "denominator")} == {
        "ref": "1.4", "kind": "percentage", "direction": "higher", "target": ">= 50%", "numerator": "quits_4wk",
        "denominator": "quit_dates"}
    assert indicators["1.4"]["name"].startswith("% of people who set a quit date")
    assert (indicators["1.9"]["direction"], indicators["1.9"]["target"]) == ("lower", "< 15%")
    assert (indicators["1.1"]["kind"], indicators["1.1"]["target"], indicators["1.1"]["expression"]) == (
        "count", ">= 1,600", "quit_dates")
    assert indicators["1.8"]["target"] == "Year 1 to establish baseline and trajectory"
    assert shown["payments"][0]["indicator"] == "1.5"


def test_frameworks_show_prints_a_readable_summary() -> None:
    result = kpibot("frameworks", "show", "ch-stop-smoking")
    assert result.exit_code == 0
    assert "City and Hackney Stop Smoking Service (ch-stop-smoking, version 2025.1)" in result.stdout
    assert "quits_4wk / quit_dates" in result.stdout
    assert "pbr_4wk_quits" in result.stdout


def test_frameworks_show_an_unknown_id_fails_listing_the_known_ones() -> None:
    result = kpibot("frameworks", "show", "no-such-framework")
    assert result.exit_code == 1
    assert "unknown framework 'no-such-framework'; known: " in result.stderr
    assert "ch-stop-smoking" in result.stderr


def test_frameworks_check_accepts_a_valid_file() -> None:
    result = kpibot("frameworks", "check", CH_FILE)
    assert result.exit_code == 0
    assert "valid framework 'ch-stop-smoking'" in result.stdout


def test_frameworks_check_lists_every_problem_and_exits_1(tmp_path: Path) -> None:
    text = CH_FILE.read_text(encoding="utf-8")
    text = text.replace('kind = "count"\nexpression = "quit_dates"\ntarget = ">= 1600"',
                        'kind = "tally"\nexpression = "quit_dates"\ntarget = ">= 1600"', 1)
    text = text.replace('target = "< 15"', 'target = "15"', 1)
    text = text.replace('schema = 1', 'schema = 1\ncolour = "red"', 1)
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    result = kpibot("frameworks", "check", path)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{path}: invalid framework")
    assert "  - colour: is not a known key (check its spelling); allowed: " in result.stderr
    assert "  - indicators #1 (ref '1.1'): kind: must be 'count', 'percentage'" in result.stderr
    assert "  - indicators #9 (ref '1.9'): target: '15' is not a threshold" in result.stderr


def test_frameworks_check_a_missing_file_exits_1(tmp_path: Path) -> None:
    result = kpibot("frameworks", "check", tmp_path / "absent.toml")
    assert result.exit_code == 1
    assert "cannot read the file" in result.stderr


# ----------------------------------------------------------------------------- calendar


def test_calendar_json_lists_periods_and_due_dates(ch_stop_smoking_config: Path) -> None:
    result = kpibot("--config", ch_stop_smoking_config, "calendar", "--contract", "ch-stop-smoking",
                    "--year", "2025-26", "--json")
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert (shown["contract"], shown["framework"], shown["year"]) == ("ch-stop-smoking", "ch-stop-smoking", "2025-26")
    assert [(p["return"], p["period"], p["start"], p["end"], p["due"]) for p in shown["periods"]] == [
        ("quarterly", "2025-26-Q1", "2025-04-01", "2025-06-30", "2025-07-15"),
        ("quarterly", "2025-26-Q2", "2025-07-01", "2025-09-30", "2025-10-15"),
        ("quarterly", "2025-26-Q3", "2025-10-01", "2025-12-31", "2026-01-15"),
        ("quarterly", "2025-26-Q4", "2026-01-01", "2026-03-31", "2026-04-15"),
        ("annual", "2025-26", "2025-04-01", "2026-03-31", "2026-04-30"),
    ]
    assert shown["periods"][0]["due_weekday"] == "Tuesday"


def test_calendar_prints_a_table(ch_stop_smoking_config: Path) -> None:
    result = kpibot("--config", ch_stop_smoking_config, "calendar", "--contract", "ch-stop-smoking",
                    "--year", "2025-26")
    assert result.exit_code == 0
    assert "reporting year 2025-26 (01 April 2025 to 31 March 2026)" in result.stdout
    assert "quarterly  2025-26-Q1  01 Apr 2025  30 Jun 2025  Tue 15 Jul 2025" in result.stdout


def test_calendar_of_the_lifestyle_contract_has_q1_due_15_february() -> None:
    result = kpibot("--config", REPO_ROOT / "config.toml", "calendar", "--contract", "lifestyle",
                    "--year", "2025-26", "--json")
    assert result.exit_code == 0, result.output
    periods = {p["period"]: p for p in json.loads(result.stdout)["periods"]}
    assert (periods["2025-26-Q1"]["start"], periods["2025-26-Q1"]["end"]) == ("2025-11-01", "2026-01-31")
    assert periods["2025-26-Q1"]["due"] == "2026-02-15"
    assert periods["2025-26"]["due"].endswith("-04-30")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--contract", "ch-stop-smoking", "--year", "2025-26-Q1"), "'2025-26-Q1' is a period, not a year"),
        (("--contract", "ch-stop-smoking", "--year", "2025"), "write 2025-26"),
        (("--contract", "nope", "--year", "2025-26"), "unknown contract 'nope'; configured: ch-stop-smoking"),
    ],
)
def test_calendar_refuses_a_bad_year_or_contract(ch_stop_smoking_config: Path, args: tuple[str, ...],
                                                 message: str) -> None:
    result = kpibot("--config", ch_stop_smoking_config, "calendar", *args)
    assert result.exit_code == 1
    assert message in result.stderr


# ----------------------------------------------------------------------------- score

# The figures of a ch-stop-smoking quarterly return that do not depend on the quit figures each test varies.
CH_OTHER_FIGURES: dict[str, int] = {
    "harm_reduction": 10, "harm_reduction_no_quit": 5, "longer_term": 8, "longer_term_quit": 4,
    "sdcs_records": 200, "sdcs_records_complete": 195, "calls_received": 300, "calls_answered_first": 290,
    "referrals": 250, "referrals_contacted_2wd": 240, "referrals_offered_5wd": 220, "vba_sessions": 2,
    "practitioner_sessions": 1, "refresher_sessions": 1, "trainees_rating": 20, "trainees_good": 19,
}


def ch_quarter_rows(quit_dates: int, quits_4wk: int, period: str = "") -> list[tuple[str, str, str, str]]:
    """Rows (item, breakdown, value, period) of a complete ch-stop-smoking quarterly return that passes every
    check: every required item, figures consistent with the framework's rules."""
    figures = dict(CH_OTHER_FIGURES, quit_dates=quit_dates, quits_4wk=quits_4wk, quits_4wk_co=quits_4wk,
                   quits_12wk=quits_4wk // 2, lost_4wk=(quit_dates - quits_4wk) // 4,
                   lost_12wk=(quit_dates - quits_4wk) // 3, followed_6m=quits_4wk // 2,
                   followed_12m=quits_4wk // 3, quitters_satisfied=quits_4wk,
                   cohort_6m=quits_4wk, cohort_12m=quits_4wk)
    return [(item, "", str(value), period) for item, value in figures.items()]


@pytest.fixture
def write_ch_return(tmp_path: Path) -> Callable[..., Path]:
    """Write a long-form CSV return for ch-stop-smoking; `quarters` maps a period id ('' for the return's own
    period, as the optional 4th column allows) to (quit_dates, quits_4wk)."""

    def write(quarters: Mapping[str, tuple[int, int]], name: str = "return.csv") -> Path:
        rows = [("item", "breakdown", "value", "period")]
        for period, (quit_dates, quits_4wk) in quarters.items():
            rows += ch_quarter_rows(quit_dates, quits_4wk, period)
        path = tmp_path / name
        path.write_text("\n".join(",".join(row) for row in rows) + "\n", encoding="utf-8")
        return path

    return write


WriteReturn = Callable[..., Path]


def score_json(config_path: Path, csv_path: Path, period: str) -> tuple[int, dict[str, Any]]:
    result = kpibot("--config", config_path, "score", csv_path, "--contract", "ch-stop-smoking",
                    "--period", period, "--json")
    return result.exit_code, json.loads(result.stdout)


def test_score_counts_no_figure_a_file_gives_for_another_quarter(ch_stop_smoking_config: Path,
                                                                 write_ch_return: WriteReturn) -> None:
    """Issue 20, item 4: "A figure typed in a return for another period (the CSV `period` column) counted as that
    period's data." Only the accepted return of a period counts for it: Q1's figures in a Q2 file are references,
    and the year to date, the forecast and the payment rest on Q2 alone (130 of 240 = 54.2%: £15,000)."""
    csv = write_ch_return({"2025-26-Q1": (160, 80), "": (240, 130)})
    code, report = score_json(ch_stop_smoking_config, csv, "2025-26-Q2")
    assert code == 0
    assert (report["contract"], report["period"], report["accepted"]) == ("ch-stop-smoking", "2025-26-Q2", True)
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
    (reference,) = [f for f in report["findings"] if f["code"] == "reference_not_counted"]
    assert reference["message"].startswith("the figures given for Q1 2025-26 (April 2025 to June 2025) are not "
                                           "counted: only the accepted return for Q1 2025-26")
    assert reference["where"] == "line 2"
    pbr = indicator(report, "1.5")
    assert {k: pbr[k] for k in ("name", "value", "year_to_date", "target", "status", "forecast",
                                "year_to_date_periods", "missing_periods")} == {
        "name": "Stretch target for 4-week quits (payment by results)", "value": 54.166667,
        "year_to_date": 54.166667, "target": ">= 60%", "status": "part", "forecast": 54.166667,
        "year_to_date_periods": ["2025-26-Q2"], "missing_periods": ["2025-26-Q1"]}
    quit_dates = indicator(report, "1.1")
    assert (quit_dates["value"], quit_dates["year_to_date"]) == (240, 240)
    (payment,) = report["payments"]
    assert {k: payment[k] for k in ("rule", "indicator", "amount", "maximum", "forecast", "state")} == {
        "rule": "pbr_4wk_quits", "indicator": "1.5", "amount": 15000.0, "maximum": 36000.0, "forecast": True,
        "state": "forecast"}
    assert payment["basis"] == pytest.approx(54.166667)


def test_score_notes_earlier_quarters_missing_from_the_year_to_date(ch_stop_smoking_config: Path,
                                                                    write_ch_return: WriteReturn) -> None:
    code, report = score_json(ch_stop_smoking_config, write_ch_return({"": (400, 210)}), "2025-26-Q3")
    assert code == 0
    pbr = indicator(report, "1.5")
    assert pbr["missing_periods"] == ["2025-26-Q1", "2025-26-Q2"]
    assert any("2025-26-Q1, 2025-26-Q2" in note for note in pbr["notes"])
    assert report["payments"][0]["forecast"] is True


def test_score_prints_the_payment_arithmetic(ch_stop_smoking_config: Path, write_ch_return: WriteReturn) -> None:
    csv = write_ch_return({"": (400, 210)})
    result = kpibot("--config", ch_stop_smoking_config, "score", csv, "--contract", "ch-stop-smoking",
                    "--period", "2025-26-Q2")
    assert result.exit_code == 0
    assert "ACCEPTED: 0 errors, 0 warnings" in result.stdout
    assert "Judged on this file alone (no database is set up)" in result.stdout
    assert "Payment by results on KPI 1.5 (4-week quit rate): £9,000.00 (forecast)" in result.stdout
    assert "Pot: £720,000.00 x 5% = £36,000.00" in result.stdout


def test_score_rejects_a_bad_return_with_every_finding_and_exits_2(ch_stop_smoking_config: Path,
                                                                  tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("item,breakdown,value\n"
                   "quit_dates,,-5\n"
                   "smokers,,3\n"
                   "quits_4wk,area=westminster,2\n"
                   "quits_4wk_co,,abc\n"
                   "lost_4wk,,12.5%\n"
                   "quits_12wk,,20\n"
                   "lost_12wk,,1.5\n", encoding="utf-8")
    code, report = score_json(ch_stop_smoking_config, csv, "2025-26-Q1")
    assert code == 2
    assert report["accepted"] is False
    by_code: dict[str, list[dict[str, str]]] = {}
    for finding in report["findings"]:
        by_code.setdefault(finding["code"], []).append(finding)
    assert by_code["negative"][0]["where"] == "line 2"
    assert by_code["unknown_item"][0]["where"] == "line 3"
    assert by_code["unknown_category"][0]["message"] == "'westminster' is not a category of 'area'"
    assert by_code["not_a_number"][0]["where"] == "line 5"
    assert by_code["percent_in_count"][0]["where"] == "line 6"
    assert by_code["not_whole"][0]["where"] == "line 8"
    missing = {f["item"] for f in by_code["missing_item"]}
    assert {"quits_4wk", "followed_6m", "sdcs_records", "trainees_good"} <= missing  # every absent item
    assert not missing & {"quit_dates", "quits_4wk_co", "lost_4wk", "lost_12wk", "quits_12wk"}  # reported once
    assert all(f["severity"] == "error" and f["fix"] for f in report["findings"])


def test_score_rejects_figures_that_break_a_rule(ch_stop_smoking_config: Path, write_ch_return: WriteReturn) -> None:
    csv = write_ch_return({"": (100, 50)})
    csv.write_text(csv.read_text().replace("quits_4wk_co,,50,", "quits_4wk_co,,60,"))
    code, report = score_json(ch_stop_smoking_config, csv, "2025-26-Q1")
    assert code == 2
    (finding,) = report["findings"]
    assert finding["code"] == "rule:co_within_quits"
    assert "(quits_4wk_co = 60, quits_4wk = 50)" in finding["message"]


def test_score_text_lists_the_findings_of_a_rejected_return(ch_stop_smoking_config: Path, tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("quit_dates,,-5\n", encoding="utf-8")  # no header: item,breakdown,value is assumed
    result = kpibot("--config", ch_stop_smoking_config, "score", csv, "--contract", "ch-stop-smoking",
                    "--period", "2025-26-Q1")
    assert result.exit_code == 2
    assert "REJECTED: " in result.stdout
    assert "Error at line 1: People setting a quit date cannot be negative (found -5)." in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--period", "2025-26-Q1"), "say which contract and period the return is for"),
        (("--contract", "ch-stop-smoking"), "say which contract and period the return is for"),
        (("--contract", "ch-stop-smoking", "--period", "2025-26-M01"), "has no monthly return"),
        (("--contract", "ch-stop-smoking", "--period", "Q5"), "is not a period"),
        (("--contract", "nope", "--period", "2025-26-Q1"), "unknown contract 'nope'"),
    ],
)
def test_score_refuses_a_missing_or_bad_contract_or_period(ch_stop_smoking_config: Path,
                                                           write_ch_return: WriteReturn, args: tuple[str, ...],
                                                           message: str) -> None:
    result = kpibot("--config", ch_stop_smoking_config, "score", write_ch_return({"": (100, 50)}), *args)
    assert result.exit_code == 1
    assert message in result.stderr


def test_the_installed_kpibot_script_exits_0_for_an_accepted_return_and_2_for_a_rejected_one(
        ch_stop_smoking_config: Path, write_ch_return: WriteReturn, tmp_path: Path) -> None:
    accepted = write_ch_return({"": (400, 210)}, name="good.csv")
    rejected = tmp_path / "bad.csv"
    rejected.write_text("item,breakdown,value\nquit_dates,,-5\n", encoding="utf-8")
    outcomes = {}
    for name, path in (("accepted", accepted), ("rejected", rejected)):
        run = subprocess.run([str(KPIBOT), "--config", str(ch_stop_smoking_config), "score", str(path),
                              "--contract", "ch-stop-smoking", "--period", "2025-26", "--json"],
                             capture_output=True, text=True, timeout=60, cwd=tmp_path)
        outcomes[name] = (run.returncode, json.loads(run.stdout))
    assert outcomes["accepted"][0] == 0
    assert outcomes["accepted"][1]["payments"][0]["amount"] == 9000.0
    assert outcomes["accepted"][1]["payments"][0]["forecast"] is False
    assert outcomes["rejected"][0] == 2
    assert outcomes["rejected"][1]["findings"][0]["code"] == "negative"


# ----------------------------------------------------------------------------- assumptions and versions (issue 12)


def test_frameworks_show_lists_every_assumption_kpibot_made_for_the_contract() -> None:
    result = kpibot("frameworks", "show", "ch-stop-smoking")
    assert result.exit_code == 0
    out = result.stdout
    assert "Assumptions kpibot made" in out
    assert "[assumed] returns.annual: The schedule names no annual return" in out
    assert "[assumed] returns.quarterly: The schedule gives 'Reporting Frequency: Quarterly' but no due date" in out
    assert "amber band: none (a miss is red)" in out and "service failure: none" in out
    assert "1.10" in out and "quits_4wk 6 months earlier" in out


def test_frameworks_show_flags_the_lifestyle_total_that_does_not_add_up() -> None:
    result = kpibot("frameworks", "show", "lifestyle")
    assert "[discrepancy] INC.T:" in result.stdout and "3380" in result.stdout
    assert "data-submission KPIs: timeliness 95%, accuracy 95%" in result.stdout
    assert "service failure: 3 consecutive late periods" in result.stdout


def test_frameworks_show_puts_the_schedules_discrepancies_first_for_the_commissioner_to_decide() -> None:
    """seeds/003 2.3.4 ("Failure to comply will result in Service failure") against 2.5 ("three consecutive
    periods"): a choice kpibot must not make silently."""
    out = kpibot("frameworks", "show", "lifestyle").stdout
    section = out.index("Discrepancies in the schedule, for the commissioner to decide")
    assert section < out.index("Assumptions kpibot made")
    assert "[discrepancy] 2.3.4 satisfaction survey results: 2.3.4 says 'The results must be available to the " \
           "Council by 30th April every year. Failure to comply will result in Service failure'" in out[section:]


def test_frameworks_show_for_a_contract_marks_what_config_toml_changed(tmp_path: Path,
                                                                      ch_stop_smoking_config: Path) -> None:
    config_path = tmp_path / "changed.toml"
    config_path.write_text(ch_stop_smoking_config.read_text(encoding="utf-8") + "\n[contracts.terms]\n"
                           "service_failure_after_late = 3\n[contracts.terms.returns]\nannual = false\n"
                           f'\n[storage]\ndatabase_url = "sqlite:///{tmp_path / "absent.db"}"\n', encoding="utf-8")
    result = kpibot("--config", config_path, "frameworks", "show", "ch-stop-smoking", "--contract", "ch-stop-smoking",
                    "--json")
    assert result.exit_code == 0
    shown = json.loads(result.stdout)
    assert list(shown["returns"]) == ["quarterly"] and shown["terms"]["service_failure_after_late"] == 3
    states = {a["about"]: a["state"] for a in shown["assumptions"]}
    assert states["returns.annual"] == "removed in config.toml"
    assert states["terms.service_failure_after_late"] == "set in config.toml"
    assert shown["benchmarks"] == "no database yet (run `kpibot init` first)"
    assert not (tmp_path / "absent.db").exists()  # looking created nothing


def test_frameworks_check_shows_what_each_later_version_changes() -> None:
    result = kpibot("frameworks", "check", REPO_ROOT / "kpi_core" / "frameworks" / "solihull-stop-smoking.toml")
    assert result.exit_code == 0
    assert "version 2026.1 from contract year 2 (after 2025.1)" in result.stdout
    assert "T2.2 target_text: '1600 yr 1 (increasing following years)' -> 'Increasing on year 1 (1600)" in result.stdout
