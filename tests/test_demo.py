"""`kpibot demo`: the README's first command, on the shipped config.toml."""

from __future__ import annotations

import io
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO_ROOT
from demo_fixtures import WholeDemo
from pypdf import PdfReader
from sqlmodel import Session, select
from teams_fixtures import assert_plain_language, assert_valid_message, texts
from test_operator_mistakes import COMMAND_LINE

from bot import config
from bot.app import App
from bot.cli import main
from bot.demo import replay as demo
from bot.reports.meeting_stored import render_stored_meeting_pack
from bot.storage.meeting_models import MeetingNote
from bot.storage.models import OutboxMessage, Submission
from bot.storage.review_models import PaymentConfirmation, Review, ReviewQuery


@pytest.mark.timeout(1200)  # a year replayed, its reports drawn: minutes on a busy machine
def test_the_demo_replays_a_year_and_every_decision_shows(tmp_path: Path, whole_demo: WholeDemo) -> None:
    settings = config.load(REPO_ROOT / "config.toml", environ={})
    steps, statuses = whole_demo.steps, whole_demo.statuses
    folder = whole_demo.copy_of(tmp_path)  # opened below: the shared one stays as the demo left it
    outcomes = {(s.contract_id, s.period_id): s.result.outcome for s in steps}
    assert outcomes[("ch-stop-smoking", "2025-26-Q1")] == "accepted"
    late = [s for s in steps if s.result.on_time is False]
    assert [(s.contract_id, s.period_id) for s in late] == [("ch-stop-smoking", "2025-26-Q3")]
    solihull_q2 = [s.result for s in steps if (s.contract_id, s.period_id) == ("solihull-stop-smoking", "2025-26-Q2")]
    assert [(r.outcome, r.version) for r in solihull_q2] == [("rejected", 1), ("accepted", 2)]
    ch_q2 = [s.result for s in steps if (s.contract_id, s.period_id) == ("ch-stop-smoking", "2025-26-Q2")]
    assert [(r.outcome, r.version, r.on_time) for r in ch_q2] == [("accepted", 1, True), ("accepted", 2, True)]
    assert ("ch-substance-misuse", "2025-26-Q4") not in outcomes
    by_contract = {s.contract.id: s for s in statuses}
    q4 = next(o for o in by_contract["ch-substance-misuse"].obligations if o.period_id == "2025-26-Q4")
    assert q4.state == "missing" and q4.days_late and q4.days_late > 0
    # Lifestyle's two returns came on time; the survey results the council asked for by 30 April never came (the
    # meeting's story), and a request counts in timeliness once its deadline has passed: 2 of 3.
    assert by_contract["lifestyle"].kpis.timeliness == Fraction(200, 3)
    app = App(demo.demo_settings(settings, folder))
    with Session(app.engine) as session:
        assert {s.filename.rsplit(".", 1)[1] for s in session.exec(select(Submission))} == {"xlsx"}
        pending = session.exec(select(OutboxMessage).where(OutboxMessage.status != "sent")).all()
        assert pending == []  # every reply and notice was delivered to the local outbox folder
        sent = session.exec(select(OutboxMessage.kind)).all()
        # The council queried City and Hackney's Q2, the provider corrected it, and everything else was signed off
        [query] = session.exec(select(ReviewQuery)).all()
        assert (query.state, query.version) == ("corrected", 1)
        assert {r.state for r in session.exec(select(Review))} == {"signed_off"}
        [confirmed] = session.exec(select(PaymentConfirmation)).all()
        assert (confirmed.contract_id, confirmed.year_id, confirmed.state) == ("ch-stop-smoking", "2025-26",
                                                                               "confirmed")
        # The lifestyle contract's meeting: its pack sent before it, its notes recorded after it (bot/demo/meeting.py)
        [noted] = session.exec(select(MeetingNote)).all()
        assert (noted.contract_id, noted.period_id, noted.held_on) == ("lifestyle", "2025-26-Q1", date(2026, 2, 27))
        [pack] = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "meeting")).all()
        assert pack.created_at.date() == date(2026, 2, 20) and pack.attachment_name == \
            "meeting-pack-lifestyle-2025-26-Q1.pdf"
        drawn, pdf = render_stored_meeting_pack(session, app.files, app.settings, "lifestyle", "2025-26-Q2",
                                                demo._moment(demo.AS_OF, settings.timezone, 9))
    app.close()
    page = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    assert drawn.meeting == "Friday 29 May 2026" and drawn.report is not None and drawn.previous is not None
    for words in ("1. The quarter's results", "Signed off by Morgan Reid", "Restore GP referrals from the two "
                  "practices", "OVERDUE", "Timeliness of returns", "5. Payments to date", "Service user survey results",
                  "days overdue", "Meeting of 27 February 2026", "Send the revised GP referral pathway"):
        assert words in page
    assert "meeting" in sent and "plan_action_warning" in sent  # an overdue action climbed the ladder
    assert sent.count("reply") == len(steps) + 1  # and the answer to the action-plan workbook emailed back
    assert "plan_workbook" in sent  # each plan asked for went with its workbook (bot/demo/plan_routes.py)
    assert {"reminder", "overdue", "report", "digest", "review"} <= set(sent)  # the scheduler ran on the same clock
    outbox = folder / "outbox"
    cards = sorted(outbox.glob("*-teams-*.json"))  # what each [[teams]] channel would be posted, no tenant needed
    assert len(list(outbox.glob("*.txt"))) + len(cards) == len(sent)
    assert {p.name.rsplit("-teams-", 1)[1] for p in cards} == {"example-council.json", "breathe-easy.json"}
    shown = [texts(assert_valid_message(p.read_bytes())) for p in cards]
    assert {t[1].split(":")[0] for t in shown} >= {"Reminder", "Overdue", "Exception report"}
    for seen in shown:
        assert_plain_language("\n".join(seen), settings)
    # Issue 20: "No message to a provider contains `kpibot` command lines": none of the year's replies and notices.
    told = [f"{p.name}: {line}" for p in sorted(outbox.glob("*.txt"))
            for line in p.read_text(encoding="utf-8").splitlines() if COMMAND_LINE.search(line)]
    assert told == []
    bodies = [p.read_text(encoding="utf-8") for p in outbox.glob("*.txt")]
    assert any("Subject: Query: City and Hackney Stop Smoking Service" in text for text in bodies)
    assert any("Subject: Payment confirmed: City and Hackney Stop Smoking Service, 2025-26" in text for text in bodies)
    early = [text for text in bodies if "Payment confirmed" not in text]
    assert not any("confirmed" in text.lower() for text in early)


@pytest.mark.long
@pytest.mark.timeout(1200)
def test_the_demo_command_prints_where_each_contract_stands(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(REPO_ROOT / "config.toml"), "demo", "--dir",
                                       str(tmp_path / "d"), "--as-of", "2025-08-01"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "Replayed 3 submissions" in result.output  # the three Q1s due 15 July
    assert "Traceback" not in result.output
    assert "12 Jul 2025  ch-stop-smoking" in result.output
    assert ("01 Jul 2025  reminder   Reminder: City and Hackney Stop Smoking Service: quarterly monitoring return for "
            "Q1 2025-26 due in 14 days (15 July 2025) -> Priya Shah") in result.output
    assert "22 Jul 2025  report     Exception report: quarterly returns due 15 July 2025" in result.output
    assert "City and Hackney Stop Smoking Service: timeliness 100%" in result.output
    replies = sorted(p for p in (tmp_path / "d" / "outbox").glob("*.pdf")
                     if "exception-report" not in p.name and "inspection-report" not in p.name)  # (docs/plans.md)
    assert len(replies) == 3  # each reply carried its PDF report
    reports = sorted(p.name for p in (tmp_path / "d" / "reports").iterdir())
    assert reports == ["ch-stop-smoking-2025-26-Q1.pdf", "ch-substance-misuse-2025-26-Q1.pdf", "exception-report.pdf",
                       "solihull-stop-smoking-2025-26-Q1.pdf"]
    # Each contract's latest return report shows the council's review, which came after the reply's report.
    text = " ".join(PdfReader(tmp_path / "d" / "reports" / "ch-stop-smoking-2025-26-Q1.pdf").pages[i].extract_text()
                    for i in range(2))
    assert "Review: Signed off by Morgan Reid on 15 July 2025" in " ".join(text.split())
    assert "15 Jul 2025  council    Signed off: City and Hackney Stop Smoking Service, Q1 2025-26" in result.output
    assert ("council    refused: Not confirmed: the year's figure cannot be worked out yet: no annual return for "
            "Year 2025-26") in result.output  # the year is not over by August


def test_the_demo_refuses_a_folder_it_did_not_make_and_touches_nothing(tmp_path: Path) -> None:
    """`kpibot demo --dir .` in a checkout used to delete the checkout, .git included."""
    checkout = tmp_path / "checkout"
    (checkout / ".git").mkdir(parents=True)
    (checkout / "notes.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(REPO_ROOT / "config.toml"), "demo", "--dir", str(checkout)])
    assert result.exit_code == 1
    assert result.output == (f"Error: {checkout} already holds files and was not made by `kpibot demo`, which "
                             "only empties folders it made; choose a new or empty folder, e.g. --dir var/demo\n")
    assert sorted(p.name for p in checkout.iterdir()) == [".git", "notes.txt"]
    with pytest.raises(demo.DemoFolderError, match="is a file, not a folder"):
        demo.prepare(checkout / "notes.txt")


def test_the_demo_empties_only_a_folder_an_earlier_demo_made(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    demo.prepare(folder)  # a new folder: made, and marked
    (folder / "reports").mkdir()
    (folder / "reports" / "old.pdf").write_bytes(b"%PDF")
    (folder / "kpibot.db").write_bytes(b"")
    demo.prepare(folder)
    assert [p.name for p in folder.iterdir()] == [demo.MARKER]
    empty = tmp_path / "empty"
    empty.mkdir()
    demo.prepare(empty)  # an empty folder is fine to use
    assert (empty / demo.MARKER).is_file()


def test_the_demo_commands_default_date_is_the_demos() -> None:
    from bot.commands.demo import DEFAULT_AS_OF

    assert DEFAULT_AS_OF == demo.AS_OF.isoformat()
