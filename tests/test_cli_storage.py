"""`kpibot init`, `submit` and `status` on a real database file."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner
from intake_fixtures import ALICE, DAVE, deployment, received, sample_csv

from bot.app import App
from bot.cli import main
from bot.config import load as load_config
from bot.storage import db


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.output


NO_PDF = "[reports]\nattach_pdf = false\n"  # replies without the PDF: a second of rendering each, not tested here


def setup(tmp_path: Path) -> Path:
    deployment(tmp_path, f"sqlite:///{tmp_path / 'kpibot.db'}", NO_PDF)
    return tmp_path / "config.toml"


def test_init_creates_then_leaves_the_database_alone(tmp_path: Path) -> None:
    config = setup(tmp_path)
    code, out = run(config, "init")
    assert code == 0 and f"Database created (revision {db.head_revision()})" in out and "3 contracts changed" in out
    code, out = run(config, "init")
    assert code == 0 and "Database up to date" in out and "0 contracts changed, 0 contacts changed" in out


def test_submit_then_status_shows_the_return(tmp_path: Path) -> None:
    config = setup(tmp_path)
    run(config, "init")
    path = tmp_path / "q2.csv"
    path.write_bytes(sample_csv())
    code, out = run(config, "submit", str(path), "--as", ALICE, "--period", "2025-26-Q2", "--message-id", "x1",
                    "--json")
    assert code == 0, out
    first = json.loads(out)
    assert (first["outcome"], first["contract"], first["version"]) == ("accepted", "ch-stop-smoking", 1)
    code, out = run(config, "submit", str(path), "--as", ALICE, "--period", "2025-26-Q2", "--message-id", "x1",
                    "--json")
    assert json.loads(out)["outcome"] == "duplicate" and code == 0
    code, out = run(config, "status", "--contract", "ch-stop-smoking", "--json")
    status = json.loads(out)["contracts"][0]
    q2 = next(o for o in status["obligations"] if o["period"] == "2025-26-Q2")
    q1 = next(o for o in status["obligations"] if o["period"] == "2025-26-Q1")
    assert (q2["state"], q2["version"], q2["due"]) == ("accepted", 1, "2025-10-15")
    assert sum(q2["counts"].values()) == 46
    assert q1["state"] == "missing" and q1["days_late"] > 0
    code, out = run(config, "status")
    assert "2025-26-Q2" in out and "accepted" in out and "timeliness" in out


def test_submit_of_a_return_for_one_of_several_contracts_tells_the_operator_their_references(tmp_path: Path) -> None:
    """The reply, queued for the provider, names the contracts; the operator is told what `--contract` takes."""
    config = setup(tmp_path)
    run(config, "init")
    path = tmp_path / "q2.csv"
    path.write_bytes(sample_csv())
    code, out = run(config, "submit", str(path), "--as", DAVE, "--period", "2025-26-Q2")
    assert code == 2
    assert ("Which contract is this return for? It is one of: City and Hackney Stop Smoking Service or Solihull "
            "Stop Smoking.") in out
    assert ("To submit it for one of them: --contract ch-stop-smoking (City and Hackney Stop Smoking Service), "
            "solihull-stop-smoking (Solihull Stop Smoking)") in out


def test_a_return_held_for_its_period_names_its_contract_and_no_references(tmp_path: Path) -> None:
    """The contract is known (`--contract`); only the period is asked: the operator is not told to choose a
    contract."""
    config = setup(tmp_path)
    run(config, "init")
    path = tmp_path / "q.csv"
    path.write_bytes(sample_csv())
    code, out = run(config, "submit", str(path), "--as", DAVE, "--contract", "solihull-stop-smoking")
    assert code == 2
    assert "Which period is this return for? Solihull Stop Smoking has" in out
    assert "--contract" not in out
    code, out = run(config, "submit", str(path), "--as", DAVE, "--contract", "solihull-stop-smoking", "--json",
                    "--message-id", "again")
    held = json.loads(out)
    assert (held["outcome"], held["contract"]) == ("held", "solihull-stop-smoking")


def test_submit_refuses_an_unknown_sender(tmp_path: Path) -> None:
    config = setup(tmp_path)
    run(config, "init")
    path = tmp_path / "q2.csv"
    path.write_bytes(sample_csv())
    code, out = run(config, "submit", str(path), "--as", "nobody@example.org")
    assert code == 1 and out.startswith("Error: --as nobody@example.org: no contact in config.toml has this address")
    # By email, a file from an address kpibot does not know is kept (restricted) and listed for the operator.
    app = App(load_config(config, environ={}))
    arrived = received(sample_csv(), sender="nobody@example.org", at=datetime.now(UTC))
    assert app.intake.submit(arrived).outcome == "unknown_sender"
    app.close()
    patients = tmp_path / "patients.csv"
    patients.write_bytes(b"item,breakdown,value\nquit_dates,,120\nname,nhs_number\nJane Smith,943 476 5919\n"
                         b"Ali Khan,401 023 2137\nMary Jones,943 476 5870\n")
    assert run(config, "submit", str(patients), "--as", ALICE)[0] == 2
    code, out = run(config, "status")
    # The operator sees that restricted files are held, and why, never what they hold.
    assert "Refused as possible personal data in the last year: 1 file; their content is never shown." in out
    assert ("From unknown senders in the last 30 days: 1 file; add the sender to config.toml if they should "
            "submit.") in out
    assert "Restricted files still held until purged: 2." in out and "Jane" not in out


def test_the_template_shows_the_years_accepted_figures_for_reference(tmp_path: Path) -> None:
    from python_calamine import CalamineWorkbook

    config = setup(tmp_path)
    run(config, "init")
    q1 = tmp_path / "q1.csv"
    q1.write_bytes(sample_csv(seed=3))
    assert run(config, "submit", str(q1), "--as", ALICE, "--period", "2025-26-Q1")[0] == 0
    out = tmp_path / "q2.xlsx"
    code, text = run(config, "template", "--contract", "ch-stop-smoking", "--period", "2025-26-Q2", "-o", str(out))
    assert code == 0 and "with 2025-26-Q1 for reference" in text
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("Data").to_python()
    header = next(r for r in rows if "Value" in r)
    column = next(i for i, h in enumerate(header) if "2025-26-Q1" in str(h))
    quit_dates = next(r for r in rows if r and r[0] == "quit_dates")
    expected = next(line.split(",")[2] for line in sample_csv(seed=3).decode().splitlines()
                    if line.startswith("quit_dates,,"))
    assert int(quit_dates[column]) == int(expected)


def test_benchmarks_are_loaded_by_the_commissioner_and_listed_with_source_and_date(tmp_path: Path) -> None:
    """Seed 004: completions "in line with or exceeding national and regional average performance": the national
    figure comes from the commissioner's file, not the provider's return."""
    config = setup(tmp_path)
    assert run(config, "init")[0] == 0
    path = tmp_path / "benchmarks.csv"
    path.write_text("framework,period,item,breakdown,value,source,published\n"
                    "ch-substance-misuse,2025-26-Q1,national_completion_pct,substance=opiate,5.1,NDTMS,2025-07-10\n",
                    encoding="utf-8")
    code, out = run(config, "benchmarks", "load", str(path))
    assert code == 0 and "Loaded 1 benchmark for ch-substance-misuse" in out and "(1 new, 0 replaced)" in out
    code, out = run(config, "benchmarks", "list", "--json")
    assert code == 0 and json.loads(out) == [{"framework": "ch-substance-misuse", "period": "2025-26-Q1",
                                              "item": "national_completion_pct", "breakdown": "substance=opiate",
                                              "value": 5.1, "source": "NDTMS", "published": "2025-07-10"}]
    code, out = run(config, "frameworks", "show", "ch-substance-misuse", "--contract", "ch-substance-misuse")
    assert "national_completion_pct[substance=opiate] = 5.1 (NDTMS, published 10 July 2025; for 2025-26-Q1)" in out
    path.write_text("framework,period,item,breakdown,value,source,published\n"
                    "ch-substance-misuse,2025-26-Q1,completions_12m,,5,NDTMS,\n", encoding="utf-8")
    code, out = run(config, "benchmarks", "load", str(path))
    assert code == 1 and "nothing was loaded" in out and "line 2: 'completions_12m' is not a benchmark" in out


def test_score_previews_exactly_what_submit_will_record(tmp_path: Path, database_url: str) -> None:
    """With a database, `score` judges a return with the accepted history, as `submit` will: a cumulative count is
    judged on the year to date, not on this quarter alone (1.1 was red as a preview and green once submitted)."""
    deployment(tmp_path, database_url, NO_PDF)
    config = tmp_path / "config.toml"
    assert run(config, "init")[0] == 0
    q1, q2 = tmp_path / "q1.csv", tmp_path / "q2.csv"
    q1.write_bytes(sample_csv(seed=3))
    q2.write_bytes(sample_csv(seed=1))
    assert run(config, "submit", str(q1), "--as", ALICE, "--period", "2025-26-Q1")[0] == 0
    args = ("score", str(q2), "--contract", "ch-stop-smoking", "--period", "2025-26-Q2", "--json")
    code, out = run(config, *args)
    preview = json.loads(out)
    assert (code, preview["judged_with"]["basis"], preview["judged_with"]["periods"]) == (0, "database",
                                                                                          ["2025-26-Q1"])
    alone = json.loads(run(config, *args, "--no-history")[1])
    assert alone["judged_with"]["basis"] == "file"
    quarter = {data: int(data.read_text().split("\nquit_dates,,")[1].split("\n")[0]) for data in (q1, q2)}
    ytd = {basis: next(i for i in r["indicators"] if i["ref"] == "1.1")["year_to_date"]
           for basis, r in (("db", preview), ("file", alone))}
    assert ytd == {"db": quarter[q1] + quarter[q2], "file": quarter[q2]}
    assert preview["counts"] != alone["counts"]
    text = run(config, *args[:-1])[1]
    assert "Judged as `kpibot submit` would on " in text and "(2025-26-Q1); --no-history judges the file alone" in text
    assert run(config, "submit", str(q2), "--as", ALICE, "--period", "2025-26-Q2")[0] == 0
    status = json.loads(run(config, "status", "--json")[1])["contracts"]
    stored = next(o for c in status for o in c["obligations"] if (c["id"], o["period"]) == ("ch-stop-smoking",
                                                                                            "2025-26-Q2"))
    assert stored["counts"] == {k: v for k, v in preview["counts"].items() if v}


def test_a_submission_still_being_checked_exits_3_saying_so_not_2_as_if_refused(tmp_path: Path,
                                                                                database_url: str) -> None:
    """Issue 19: 'eight submits of the same --message-id at once exit 2 ("pending"), the same code as a
    rejection'. Another process holds the submission and is still checking it: in progress has its own code."""
    from datetime import timedelta

    from sqlmodel import Session, select

    from bot.clock import utc_now
    from bot.processes import leases
    from bot.storage.models import Contact, Submission

    deployment(tmp_path, database_url, NO_PDF)
    config = tmp_path / "config.toml"
    assert run(config, "init")[0] == 0
    path = tmp_path / "q2.csv"
    path.write_bytes(sample_csv())
    engine = db.make_engine(database_url)
    with Session(engine) as session:  # recorded a moment ago by a process that is alive and checking it
        alice = session.exec(select(Contact).where(Contact.email == ALICE)).one()
        session.add(Submission(idempotency_key="cli:same:0", channel="cli", channel_message_id="same",
                               sender_address=ALICE, sender_contact_id=alice.id, received_at=utc_now(),
                               filename="q2.csv", lease_owner=leases.me(), lease_until=utc_now() + timedelta(hours=1)))
        session.commit()
    engine.dispose()
    code, out = run(config, "submit", str(path), "--as", ALICE, "--period", "2025-26-Q2", "--message-id", "same")
    assert code == 3, out
    assert "q2.csv is already being checked; the answer will follow shortly." in out
    assert "still being checked" in out and "not refused" in out
    code, out = run(config, "submit", str(path), "--as", ALICE, "--period", "2025-26-Q2", "--message-id", "same",
                    "--json")
    assert (code, json.loads(out)["outcome"]) == (3, "pending")



def test_score_with_history_loads_the_database_alone_not_the_app(tmp_path: Path) -> None:
    """`kpibot score` judged with the database's history imports its plain reads and kpi_core only: not the app
    (intake, outbox, channels), not the PDF drawing, not Alembic, and on SQLite not SQLAlchemy, SQLModel or the
    table models (half a second; benchmarks/bench_start.py measures the start). Run in a fresh process, since this
    one has imported everything already."""
    import subprocess
    import sys

    config = setup(tmp_path)
    assert run(config, "init")[0] == 0
    q1, q2 = tmp_path / "q1.csv", tmp_path / "q2.csv"
    q1.write_bytes(sample_csv(seed=3))
    q2.write_bytes(sample_csv(seed=1))
    assert run(config, "submit", str(q1), "--as", ALICE, "--period", "2025-26-Q1")[0] == 0
    probe = ("import sys\nfrom bot.cli import main\n"
             f"try:\n    main(['--config', {str(config)!r}, 'score', {str(q2)!r}, '--contract', 'ch-stop-smoking', "
             "'--period', '2025-26-Q2', '--json'])\nexcept SystemExit:\n    pass\n"
             "print('|'.join(sorted(m for m in sys.modules if m.split('.')[0] in "
             "('bot', 'jobs', 'weasyprint', 'alembic', 'openpyxl', 'jinja2', 'telegram', 'httpx', 'sqlalchemy', "
             "'sqlmodel'))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    *printed, modules = done.stdout.strip().splitlines()
    assert json.loads("\n".join(printed))["judged_with"]["periods"] == ["2025-26-Q1"]
    loaded = set(modules.split("|"))
    assert {"bot.assessment.in_context", "bot.storage.plain_reads"} <= loaded  # it did judge with the history
    heavy = {m for m in loaded if m.split(".")[0] in ("jobs", "weasyprint", "alembic", "openpyxl", "jinja2",
                                                      "telegram", "httpx", "sqlalchemy", "sqlmodel")
             or m in ("bot.app", "bot.intake.service", "bot.outbox.dispatcher", "bot.reports.pdf")
             or m.startswith("bot.storage.") and m.endswith("models")}
    assert heavy == set()
