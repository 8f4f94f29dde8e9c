"""An operator's mistake is not the provider's, and no provider is ever told to run a command.

Issue 20: "`kpibot submit FILE --as PROVIDER --contract nope` stored a rejected submission and sent the provider a
rejection about a return they had already sent. An unknown contract or period given on the command line is one
`Error:` line, with nothing stored or sent. No message to a provider contains `kpibot` command lines."
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import REPO_ROOT
from intake_fixtures import ALICE, deployment, sample_csv
from sqlmodel import Session, func, select

from bot.app import App
from bot.cli import COMMANDS, main
from bot.config import load
from bot.storage.models import AuditEvent, OutboxMessage, Submission

# What a command line looks like in a message: `kpibot template ...`, or an option such as --contract.
COMMAND_LINE = re.compile(r"\bkpibot (?:" + "|".join(map(re.escape, COMMANDS)) + r")\b|(?<![\w-])--(?:as|contract|"
                          r"period|contact|days|revoke|json|pdf|dir|year|status)\b")
# Templates read only by commissioners or the operator (none is sent to a provider); all others may be.
NOT_TO_PROVIDERS: set[str] = set()
# Modules whose strings reach providers: findings and fixes (kpi_core), the intake's replies and refusals, the
# Telegram bot's words, the email channel's answers, return summaries, and the notices the scheduler words.
PROVIDER_FACING = ["kpi_core/**/*.py", "bot/intake/*.py", "bot/channels/telegram/texts.py",
                   "bot/channels/telegram/answers.py", "bot/channels/telegram/handlers.py",
                   "bot/channels/telegram/uploads.py", "bot/channels/telegram/keyboards.py",
                   "bot/channels/telegram/check.py", "bot/channels/email/processing.py", "bot/reports/chat.py",
                   "jobs/sweep.py", "jobs/messages.py", "jobs/ladder.py", "jobs/owed.py"]
OPERATOR_ONLY = {"bot/intake/explicit.py"}  # answers the operator's own command line


def _run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args], catch_exceptions=False)
    return result.exit_code, result.output


def _recorded(config: Path) -> tuple[int, int, int]:
    app = App(load(config, environ={}))
    with Session(app.engine) as session:
        counts = tuple(session.exec(select(func.count()).select_from(model)).one()
                       for model in (Submission, OutboxMessage, AuditEvent))
    app.close()
    return counts  # type: ignore[return-value]


@pytest.fixture
def live(tmp_path: Path) -> tuple[Path, Path]:
    deployment(tmp_path, f"sqlite:///{tmp_path / 'kpibot.db'}", "[reports]\nattach_pdf = false\n")
    config = tmp_path / "config.toml"
    assert _run(config, "init")[0] == 0
    path = tmp_path / "q2.csv"
    path.write_bytes(sample_csv())
    return config, path


@pytest.mark.parametrize(("args", "expected"), [
    (("--contract", "nope"), "--contract nope: there is no such contract (configured: ch-stop-smoking, "
                             "ch-substance-misuse, solihull-stop-smoking)"),
    (("--contract", "ch-substance-misuse"), "--contract ch-substance-misuse: alice@breathe-easy.example does not "
                                            "submit returns for it (theirs: ch-stop-smoking)"),
    (("--period", "nope"), "--period nope: 'nope' is not a period; write it like 2025-26-Q1"),
    (("--contract", "ch-stop-smoking", "--period", "2025-26-Q9"), "--period 2025-26-Q9: '2025-26-Q9': a year has 4 "
                                                                  "quarterly periods"),
    (("--period", "2019-20-Q2"), "--period 2019-20-Q2: City and Hackney Stop Smoking Service owes no quarterly "
                                 "return for Q2 2019-20 (July 2019 to September 2019); the contract runs from 01 "
                                 "April 2025; check the period."),
    (("--period", "2999-00-Q1"), "--period 2999-00-Q1: Q1 2999-00 (April 2999 to June 2999) has not started yet"),
    (("--as", "alise@breathe-easy.example"), "--as alise@breathe-easy.example: no contact in config.toml has this "
                                             "address"),
])
def test_a_sender_contract_or_period_that_cannot_be_is_one_error_line_and_nothing_is_stored_or_sent(
        live: tuple[Path, Path], args: tuple[str, ...], expected: str) -> None:
    config, path = live
    before = _recorded(config)
    sender = () if "--as" in args else ("--as", ALICE)
    code, out = _run(config, "submit", str(path), *sender, *args)
    assert code == 1 and "Traceback" not in out
    assert out.count("Error:") == 1 and out.startswith(f"Error: {expected}"), out
    assert _recorded(config) == before  # no submission, no reply, no audit row: nothing to tell the provider


def test_what_the_operator_typed_right_still_goes_through(live: tuple[Path, Path]) -> None:
    config, path = live
    code, out = _run(config, "submit", str(path), "--as", ALICE, "--contract", "ch-stop-smoking", "--period",
                     "2025-26-Q2")
    assert code == 0 and "Error" not in out
    assert _recorded(config)[0] == 1


def _strings(path: Path) -> list[tuple[int, str]]:
    """The string constants of a module that are not docstrings (what it may say to a person)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_no_message_template_for_providers_holds_a_command_line() -> None:
    found = [f"{path.name}: {line.strip()}" for path in sorted((REPO_ROOT / "templates" / "messages").glob("*.txt"))
             if path.name not in NOT_TO_PROVIDERS
             for line in path.read_text(encoding="utf-8").splitlines()
             if not line.startswith("{#") and COMMAND_LINE.search(line)]
    assert found == []


def test_no_finding_reply_or_notice_written_in_code_tells_a_provider_to_run_a_command() -> None:
    found = []
    for pattern in PROVIDER_FACING:
        for path in sorted(REPO_ROOT.glob(pattern)):
            where = path.relative_to(REPO_ROOT).as_posix()
            if where in OPERATOR_ONLY:
                continue
            found += [f"{where}:{line}: {text!r}" for line, text in _strings(path) if COMMAND_LINE.search(text)]
    assert found == []


def test_the_pattern_catches_what_it_is_for() -> None:
    assert COMMAND_LINE.search("Download it with `kpibot template --contract x`")
    assert COMMAND_LINE.search("they run kpibot invite")
    assert COMMAND_LINE.search("send it with --period 2025-26-Q1")
    assert not COMMAND_LINE.search("kpibot checks it at once") and not COMMAND_LINE.search("kpibot breakdown:age")
    assert not COMMAND_LINE.search("send /template to get the workbook")
