"""Reports from the database: stored returns re-assessed from their raw files, and the exception report."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from intake_fixtures import ALICE, DAVE, deployment, received, sample_csv
from pypdf import PdfReader
from sqlmodel import Session, select

from bot import config
from bot.cli import main
from bot.intake.service import Intake
from bot.reports.exception_report import build_exception_report
from bot.reports.stored import (
    ReportError,
    exception_statuses,
    render_stored_exception_report,
    render_stored_return_report,
    return_report,
)
from bot.storage.files import FileStore
from bot.storage.models import Contract, PaymentRow, RenderedReport
from bot.storage.sync import ensure_obligations

OCT_20 = datetime(2025, 10, 20, 12, tzinfo=UTC)


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def quarter(intake: Intake) -> Intake:
    """ch-stop-smoking: Q1 and Q2 accepted. Solihull: Q2 rejected. Substance misuse: nothing at all."""
    at = datetime(2025, 7, 10, 9, tzinfo=UTC)
    assert intake.submit(received(sample_csv(seed=3), message_id="q1", caption="2025-26-Q1", at=at)).outcome == \
        "accepted"
    assert intake.submit(received(sample_csv(seed=4), message_id="q2", caption="2025-26-Q2")).outcome == "accepted"
    bad = sample_csv("solihull-stop-smoking", overrides={("quit_dates", ""): -5})  # type: ignore[dict-item]
    result = intake.submit(received(bad, message_id="s2", sender=DAVE, caption="solihull-stop-smoking 2025-26-Q2"))
    assert result.outcome == "rejected"
    return intake


def test_a_stored_return_is_reported_with_its_figures_and_payment(quarter: Intake, settings: config.Settings,
                                                                   files: FileStore) -> None:
    with Session(quarter.engine) as session:
        report = return_report(session, files, settings, "ch-stop-smoking", "2025-26-Q2")
        amount = session.exec(select(PaymentRow.amount).order_by(PaymentRow.id)).all()[-1]
        pdf = render_stored_return_report(session, files, settings, "ch-stop-smoking", "2025-26-Q2", OCT_20)
        session.commit()
        stored = session.exec(select(RenderedReport)).one()
    assert (report.version, report.accepted, report.period_id) == ("1", True, "2025-26-Q2")
    chart = next(c for c in report.charts if c.ref == "1.1")
    assert "Q1Q2</text>" in chart.svg  # the period labels (one text, a position per letter): the stored Q1, this Q2
    text = text_of(pdf)
    assert "City and Hackney Stop Smoking Service" in text and "Breathe Easy CIC" in text
    assert f"£{amount:,.2f}" in text
    assert files.get(stored.sha256) == pdf and stored.kind == "return"


def test_a_period_with_no_return_cannot_be_reported(quarter: Intake, settings: config.Settings,
                                                    files: FileStore) -> None:
    with Session(quarter.engine) as session, pytest.raises(ReportError, match="no return has been received"):
        return_report(session, files, settings, "ch-substance-misuse", "2025-26-Q2")


def test_the_exception_report_covers_every_contract(quarter: Intake, settings: config.Settings,
                                                    files: FileStore) -> None:
    with Session(quarter.engine) as session:
        statuses, notes = exception_statuses(session, files, settings, "2025-26-Q2", date(2025, 10, 20))
    by_id = {s.contract_id: s for s in statuses}
    assert notes == []
    ch, solihull, misuse = by_id["ch-stop-smoking"], by_id["solihull-stop-smoking"], by_id["ch-substance-misuse"]
    assert (ch.on_time, ch.days_late, ch.escalation_level) == (True, None, 0)
    assert ch.assessment is not None and ch.assessment.accepted
    assert solihull.assessment is not None and not solihull.assessment.accepted and solihull.on_time is None
    # Substance misuse sent neither Q1 (due 15 July) nor Q2 (due 15 October): two periods late in a row.
    assert (misuse.received_at, misuse.days_late, misuse.escalation_level) == (None, 5, 2)
    assert "second consecutive" in misuse.escalation_label.lower()
    # The substance misuse schedule has no data-submission KPIs (only the lifestyle schedule's 2.5 does).
    assert misuse.timeliness is None and misuse.accuracy is None
    # Issue 20, item 8: "A contract that has no data-submission KPIs shows 'not applicable', not 'no data (could not
    # be judged)'".
    rows = {r.contract_name: r for r in build_exception_report(statuses, "Q2").data_kpis}
    assert (rows[misuse.contract_name].value, rows[misuse.contract_name].status) == ("not applicable", None)


def test_the_exception_report_pdf_names_the_missing_return(quarter: Intake, settings: config.Settings,
                                                           files: FileStore) -> None:
    with Session(quarter.engine) as session:
        pdf, notes, count = render_stored_exception_report(session, files, settings, "2025-26-Q2", OCT_20)
    text = text_of(pdf)
    assert count == 3
    assert "Hackney and City Substance Misuse" in text and "5 days overdue" in text


def test_the_exception_report_lists_every_overdue_return_of_every_type(quarter: Intake, settings: config.Settings,
                                                                      files: FileStore) -> None:
    """In May the annual returns due on 30 April are as overdue as any quarter: the report names each one."""
    may = datetime(2026, 5, 20, 9, tzinfo=UTC)
    with Session(quarter.engine) as session:
        for contract in session.exec(select(Contract)):
            ensure_obligations(session, contract, may.date())
        session.commit()
        statuses, _ = exception_statuses(session, files, settings, "2025-26-Q2", may.date())
        pdf, _, _ = render_stored_exception_report(session, files, settings, "2025-26-Q2", may)
    owed = {s.contract_id: [(o.return_label, o.period_label[:10], o.days_overdue, o.state) for o in s.overdue]
            for s in statuses}
    assert owed["ch-substance-misuse"] == [  # Q2, the period reported, has its own row
        ("Quarterly monitoring return", "Q1 2025-26", 309, "Not received"),
        ("Quarterly monitoring return", "Q3 2025-26", 125, "Not received"),
        ("Quarterly monitoring return", "Q4 2025-26", 35, "Not received"),
        ("Annual return", "Year 2025-", 20, "Not received")]
    assert owed["ch-stop-smoking"][-1] == ("Annual return", "Year 2025-", 20, "Not received")
    assert ("Quarterly monitoring return", "Q2 2025-26", 217, "Rejected and not yet sent again") not in \
        owed["solihull-stop-smoking"]  # the period's own return is reported in its own row
    text = text_of(pdf)
    assert text.count("Annual return, Year 2025-26 (April 2025 to March 2026) 30 April 2026 Not received: 20 days "
                      "overdue") == 3
    assert "13 missing or late returns" in text, text[:600]


def test_report_commands_write_pdfs(tmp_path: Path) -> None:
    deployment(tmp_path, f"sqlite:///{tmp_path / 'kpibot.db'}", "[reports]\nattach_pdf = false\n")
    conf = str(tmp_path / "config.toml")
    runner = CliRunner()
    assert runner.invoke(main, ["--config", conf, "init"]).exit_code == 0
    (tmp_path / "q2.csv").write_bytes(sample_csv())
    assert runner.invoke(main, ["--config", conf, "submit", str(tmp_path / "q2.csv"), "--as", ALICE, "--period",
                                "2025-26-Q2"]).exit_code in (0, 2)
    result = runner.invoke(main, ["--config", conf, "report", "--contract", "ch-stop-smoking", "--period",
                                  "2025-26-Q2", "-o", str(tmp_path / "r.pdf")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    result = runner.invoke(main, ["--config", conf, "exceptions", "--period", "2025-26-Q2", "-o",
                                  str(tmp_path / "e.pdf")])
    assert result.exit_code == 0 and "covering 3 contracts" in result.output
    result = runner.invoke(main, ["--config", conf, "report", "--contract", "ch-substance-misuse", "--period",
                                  "2025-26-Q2", "-o", str(tmp_path / "x.pdf")])
    assert result.exit_code == 1 and "no return has been received" in result.output
    assert not (tmp_path / "x.pdf").exists()
