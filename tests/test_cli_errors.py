"""A new user's first hour: every command, run the wrong ways in a fresh folder, answers with one `Error:` line
and a non-zero exit, never a traceback; commands load only what they use."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from conftest import REPO_ROOT
from services import free_port

from bot.cli import COMMANDS, main

KPIBOT = Path(sys.executable).with_name("kpibot")  # the script installed beside the Python running the tests
NOT_SET_UP = "Error: the database is not set up yet; run `kpibot init`"
Q1 = ("--contract", "ch-stop-smoking", "--period", "2025-26-Q1")


def run(folder: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    """Run kpibot in `folder` as a user would, with the folder's config.toml and no database."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        for name in ("DATABASE_URL", "KPIBOT_CONFIG"):
            patch.delenv(name, raising=False)
        return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def assert_one_error_line(result: Result, expected: str) -> None:
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    assert expected in errors[0], result.output


@pytest.fixture
def fresh(tmp_path: Path, ch_stop_smoking_config: Path) -> Path:
    """A folder holding only a config.toml (the one-contract deployment) and a return file."""
    (tmp_path / "q1.csv").write_text("item,breakdown,value\nquit_dates,,400\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(("args", "expected"), [
    (("status",), NOT_SET_UP),
    (("report", *Q1, "-o", "r.pdf"), NOT_SET_UP),
    (("exceptions", "-o", "e.pdf"), NOT_SET_UP),
    (("outbox", "send"), NOT_SET_UP),
    (("submit", "q1.csv", "--as", "alice@example.org"), NOT_SET_UP),
    (("calendar", "--contract", "ch-stop-smoking", "--year", "9999-00"), "'9999-00' is outside the years kpibot"),
    (("calendar", "--contract", "ch-stop-smoking", "--year", "1066-67"), "'1066-67' is outside the years kpibot"),
    (("template", *Q1, "-o", "no-such-folder/q1.xlsx"), "the folder no-such-folder does not exist"),
    (("template", *Q1, "-o", "q1.csv"), "q1.csv: kpibot writes an Excel workbook here; name the file with .xlsx"),
    (("report", *Q1, "-o", "report.docx"), "report.docx: kpibot writes a PDF report here; name the file with .pdf"),
    (("exceptions", "-o", "."), "'.' is a directory"),
    (("score", "q1.csv", *Q1, "--pdf", "q1.html"), "name the file with .pdf, e.g. q1.pdf"),
    (("score", "q1.csv", "--contract", "nope", "--period", "2025-26-Q1"), "unknown contract 'nope'"),
    (("frameworks", "show", "nope"), "unknown framework 'nope'"),
])
def test_no_command_shows_a_traceback_before_kpibot_init(fresh: Path, args: tuple[str, ...], expected: str) -> None:
    assert_one_error_line(run(fresh, *args), expected)
    assert not (fresh / "var").exists()  # nothing was created on the way, least of all an empty database


def test_every_command_in_a_folder_without_a_configuration_says_how_to_name_one(tmp_path: Path) -> None:
    for name in ("status", "init", "demo", "calendar"):
        args = [name] + (["--contract", "x", "--year", "2025-26"] if name == "calendar" else [])
        assert_one_error_line(run(tmp_path, *args), "config.toml: no such configuration file (set KPIBOT_CONFIG")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("url", "expected"), [
    ("mysql://kpibot:secret@db/kpibot", "DATABASE_URL (from the environment): mysql://... is not a database kpibot"),
    ("postgresql+psycopg://kpibot@127.0.0.1:{port}/kpibot", "cannot use the database postgresql+psycopg://kpibot@"),
])
@pytest.mark.parametrize("command", ["init", "status"])
def test_an_unusable_database_is_one_clear_line(fresh: Path, url: str, expected: str, command: str) -> None:
    result = run(fresh, command, env={"DATABASE_URL": url.format(port=free_port())})
    assert_one_error_line(result, expected)
    assert "secret" not in result.output


def test_a_database_from_an_older_kpibot_asks_for_kpibot_init(fresh: Path) -> None:
    from bot.storage import db

    engine = db.make_engine(f"sqlite:///{fresh / 'var' / 'kpibot.db'}")
    db.upgrade(engine, "0002")
    engine.dispose()
    assert_one_error_line(run(fresh, "status"), f"is at revision 0002 and this kpibot needs {db.head_revision()}; "
                                                "run `kpibot init` to upgrade it")


def test_an_unexpected_fault_is_one_line_pointing_at_debug(fresh: Path) -> None:
    """A bug must not show a traceback either: `kpibot --debug` shows it to whoever asks."""
    broken = click.Command("broken", callback=lambda: 1 / 0)
    main.add_command(broken)
    try:
        assert_one_error_line(run(fresh, "broken"), "kpibot stopped on an unexpected fault (ZeroDivisionError: "
                                                    "division by zero); run the command again with `kpibot --debug")
        with pytest.raises(ZeroDivisionError):
            run(fresh, "--debug", "broken")
    finally:
        main.commands.pop("broken")


def test_bare_kpibot_shows_the_help_and_exits_0(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert result.exit_code == 0
    assert "Usage: kpibot" in result.output and "Start with `kpibot demo`" in result.output
    for name in COMMANDS:
        assert f"  {name} " in result.output


def test_kpibot_version_prints_the_installed_version(tmp_path: Path) -> None:
    from importlib.metadata import version

    result = run(tmp_path, "--version")
    assert (result.exit_code, result.output) == (0, f"kpibot {version('kpibot')}\n")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_help_listing_matches_each_commands_own_help(name: str) -> None:
    module, attribute = COMMANDS[name].target.split(":")
    command = getattr(importlib.import_module(module), attribute)
    assert command.name == name
    assert COMMANDS[name].help == command.get_short_help_str(limit=1000)


def test_help_and_calendar_import_neither_the_database_nor_weasyprint(ch_stop_smoking_config: Path) -> None:
    """Start-up time is import time: `kpibot --help` and `kpibot calendar` must not load the heavy libraries."""
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from bot.cli import main\n"
        "for args in (['--help'], ['--config', sys.argv[1], 'calendar', '--contract', 'ch-stop-smoking', "
        "'--year', '2025-26']):\n"
        "    assert CliRunner().invoke(main, args).exit_code == 0\n"
        "print(sorted(m for m in ('sqlalchemy', 'sqlmodel', 'weasyprint', 'telegram', 'openpyxl', 'alembic') "
        "if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(ch_stop_smoking_config)], capture_output=True,
                         text=True, check=True, cwd=REPO_ROOT).stdout
    assert out.strip() == "[]"


def test_the_app_and_its_status_load_neither_weasyprint_nor_openpyxl(tmp_path: Path) -> None:
    """Every command that opens the app (status, init, review, outbox...) would pay for both at start (about a
    second on this machine, numpy with openpyxl): they load when a PDF or a workbook is first made."""
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "import bot.app, bot.web.app, jobs.tasks\n"
        "from bot.cli import main\n"
        "done = CliRunner().invoke(main, ['--config', sys.argv[1], 'init'])\n"
        "assert done.exit_code == 0, done.output\n"
        "done = CliRunner().invoke(main, ['--config', sys.argv[1], 'status'])\n"
        "assert done.exit_code == 0 and 'City and Hackney' in done.output, done.output\n"
        "print(sorted(m for m in ('weasyprint', 'openpyxl', 'numpy') if m in sys.modules))\n"
    )
    config = tmp_path / "config.toml"
    config.write_text((REPO_ROOT / "config.toml").read_text(encoding="utf-8"), encoding="utf-8")
    out = subprocess.run([sys.executable, "-c", script, str(config)], capture_output=True, text=True, check=True,
                         cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}).stdout
    assert out.strip() == "[]"


def test_the_readers_worker_imports_only_what_reading_needs() -> None:
    script = ("import sys, bot.workbooks.reader_worker\n"
              "print(sorted(m for m in ('click', 'bot.cli', 'sqlalchemy', 'weasyprint', 'openpyxl', 'telegram') "
              "if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=REPO_ROOT).stdout
    assert out.strip() == "[]"


def test_the_installed_script_answers_status_before_init_without_a_traceback(fresh: Path) -> None:
    done = subprocess.run([str(KPIBOT), "status"], capture_output=True, text=True, cwd=fresh, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})
    assert (done.returncode, done.stdout, done.stderr) == (1, "", NOT_SET_UP + "\n")


def test_a_reader_that_stops_reading_gets_no_error(fresh: Path) -> None:
    """`kpibot calendar ... | head -1`: the pipe closes before kpibot has written; kpibot stops quietly, with the
    exit status a shell gives a writer stopped by SIGPIPE, instead of "Error: Broken pipe"."""
    done = subprocess.Popen([str(KPIBOT), "calendar", "--contract", "ch-stop-smoking", "--year", "2025-26"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=fresh, env={"PATH": "/usr/bin:/bin"})
    assert done.stdout is not None and done.stderr is not None
    done.stdout.close()  # long before Python has started and written anything
    said = done.stderr.read().decode()
    assert (done.wait(timeout=60), said) == (141, "")


@pytest.mark.parametrize(("args", "expected"), [
    (("benchmarks", "list", "--framework", "nope"), "unknown framework 'nope'"),
    (("benchmarks", "load", "missing.csv"), "cannot read missing.csv: No such file or directory"),
    (("benchmarks", "load", "q1.csv"), "nothing was loaded"),
    (("frameworks", "show", "lifestyle", "--contract", "ch-stop-smoking"),
     "contract 'ch-stop-smoking' uses framework 'ch-stop-smoking', not 'lifestyle'"),
])
def test_an_error_says_error_once(fresh: Path, args: tuple[str, ...], expected: str) -> None:
    """Issue 20: "Error: Error:" doubled."""
    result = run(fresh, *args)
    assert_one_error_line(result, expected)
    assert "Error: Error" not in result.output and result.output.count("Error:") == 1


def test_no_command_writes_error_into_its_own_message() -> None:
    """click prefixes `Error: ` to every ClickException, so a message of our own that starts with it doubles it."""
    import ast

    doubled = []
    for path in sorted((REPO_ROOT / "bot").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in (
                    "fail", "ClickException", "UsageError", "BadParameter") and node.args:
                first = node.args[0]
                text = first.value if isinstance(first, ast.Constant) else (
                    first.values[0].value if isinstance(first, ast.JoinedStr) and first.values
                    and isinstance(first.values[0], ast.Constant) else "")
                if isinstance(text, str) and text.lower().startswith("error"):
                    doubled.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    assert doubled == []
