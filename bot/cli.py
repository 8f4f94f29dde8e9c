"""The `kpibot` command line: one group whose commands load only when used, and one place where failures become
a single `Error: ...` line.

Adding a command is one line in COMMANDS: its name, where it lives and the one-line help `kpibot --help` prints
(kept here so the help never imports a command's module; tests/test_cli_errors.py checks it matches the
command's own docstring).
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from dataclasses import dataclass
from typing import Any

import click

from bot.commands.common import State
from bot.commands.errors import explain
from bot.settings.redaction import install_log_redaction, redact


@dataclass(frozen=True)
class Entry:
    target: str  # `module:attribute` of the click command or group
    help: str  # its first docstring line


COMMANDS: dict[str, Entry] = {
    "demo": Entry("bot.commands.demo:command", "Run kpibot end to end on example contracts: no accounts, tokens or "
                                               "servers needed."),
    "init": Entry("bot.commands.init:command", "Create or upgrade the database and load organisations, contacts "
                                               "and contracts (idempotent)."),
    "run": Entry("bot.commands.run:command", "Run kpibot: reminders and notices on time, replies and reports "
                                             "delivered, channels answered."),
    "frameworks": Entry("bot.commands.frameworks:group", "List, show and check KPI frameworks."),
    "benchmarks": Entry("bot.commands.comparators:group", "Load and list the commissioner's benchmarks (national, "
                                                         "regional, top quartile)."),
    "calendar": Entry("bot.commands.calendar:command", "List the periods of a reporting year with the date each "
                                                       "return is due."),
    "template": Entry("bot.commands.template:command", "Write the return workbook (.xlsx) for a contract and "
                                                       "period."),
    "score": Entry("bot.commands.score:command", "Validate and score a return; exit 0 when accepted, 2 when "
                                                 "rejected."),
    "submit": Entry("bot.commands.submit:command", "Submit a return as a registered contact; exit 0 when "
                                                   "accepted, 2 when not, 3 while it is being checked."),
    "status": Entry("bot.commands.status:command", "Show obligations with due dates and what was received."),
    "check-connections": Entry("bot.commands.connections:command", "Try the database, SMTP, the IMAP mailbox and "
                                                                   "Telegram; say what works and what to fix (exit 1 "
                                                                   "if any fails)."),
    "invite": Entry("bot.commands.invite:command", "Print a single-use Telegram invite (code and link) for a "
                                                   "contact, or revoke their access."),
    "outbox": Entry("bot.commands.outbox:group", "The queue of outgoing messages (replies, reports, reminders, "
                                                 "notices)."),
    "report": Entry("bot.commands.report:report", "Write the return report of a contract's period (the version in "
                                                  "force), with action plans for reds."),
    "exceptions": Entry("bot.commands.report:exceptions", "Write the commissioners' exception report across all "
                                                          "contracts."),
    "web": Entry("bot.commands.web:command", "Serve the web workspace: commissioners' overview, contracts, returns; "
                                             "providers' uploads and answers."),
    "feed": Entry("bot.commands.feed:group", "Create, list and revoke the tokens of the CSV feed of scored results "
                                             "(Power BI, Excel)."),
    "review": Entry("bot.commands.review:group", "Review returns: list what waits, sign off, query, record spot "
                                                 "checks."),
    "answer": Entry("bot.commands.review:answer_command", "Answer the council's query on a return with an "
                                                          "explanation (a corrected file goes by `kpibot submit`)."),
    "payments": Entry("bot.commands.payments:group", "Show a year's payments and what they rest on; confirm them."),
    "plans": Entry("bot.commands.plans:group", "Action plans for red indicators: list, show, workbook, complete, "
                                               "agree, return, close."),
    "request": Entry("bot.commands.requests:request_command", "Ask a contract's provider for a document or "
                                                              "information by a deadline."),
    "requests": Entry("bot.commands.requests:group", "Requests for information: list them, answer one with a "
                                                     "document."),
    "meeting": Entry("bot.commands.meeting:group", "The quarterly performance meeting: its pack, and the notes and "
                                                   "actions agreed at it."),
}


def load_command(target: str) -> click.Command:
    """The click command at `module:attribute`. Its modules are imported with the cyclic garbage collector paused
    and then frozen: they live as long as the process, and collecting the young objects again and again while
    hundreds of modules and classes are made was a tenth of `kpibot score`'s start (benchmarks/bench_start.py)."""
    module, attribute = target.split(":")
    if module not in sys.modules:
        gc.collect()  # what is garbage now is freed, not frozen for the rest of the process
        collecting = gc.isenabled()
        gc.disable()
        try:
            importlib.import_module(module)
        finally:
            gc.freeze()  # later collections skip the modules' objects, which are never garbage
            if collecting:
                gc.enable()
    command = getattr(sys.modules[module], attribute)
    assert isinstance(command, click.Command)
    return command


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command runs, and turns every failure into one
    `Error:` line with exit code 1 (usage mistakes keep click's own answer, exit code 2)."""

    def __init__(self, *args: Any, commands: dict[str, Entry], **kwargs: Any) -> None:  # click.Group's, forwarded
        super().__init__(*args, **kwargs)
        self.entries = commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.entries, *(name for name in super().list_commands(ctx) if name not in self.entries)]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        entry = self.entries.get(name)
        if entry is None:
            return super().get_command(ctx, name)
        return load_command(entry.target)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, entry.help) for name, entry in self.entries.items()])

    def invoke(self, ctx: click.Context) -> object:
        try:
            result = super().invoke(ctx)
            sys.stdout.flush()  # a reader that stopped reading (`kpibot status | head`) is noticed here
            return result
        except BrokenPipeError:  # nothing went wrong: the output is simply no longer wanted
            _stdout_to_nowhere()
            raise click.exceptions.Exit(141) from None  # what a shell reports for a writer stopped by SIGPIPE
        except click.exceptions.ClickException as exc:
            clean = redact(exc.message)  # a library's error may carry a secret it was given
            if clean != exc.message:
                raise click.ClickException(clean) from None
            raise
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # noqa: BLE001 - the one place a failure is explained instead of a traceback
            if ctx.params.get("debug"):
                raise
            raise click.ClickException(redact(explain(exc, ctx.obj))) from None


def _stdout_to_nowhere() -> None:
    """Point standard output at /dev/null: Python flushes it once more at exit and would complain of the pipe."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (click's test runner): nothing is flushed at exit
        pass


@click.group("kpibot", cls=LazyGroup, commands=COMMANDS, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kpibot", message="kpibot %(version)s")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Configuration file (default: $KPIBOT_CONFIG or ./config.toml).")
@click.option("--debug", is_flag=True, hidden=True, help="Show the traceback of an unexpected failure.")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, debug: bool) -> None:
    """kpibot: KPI returns, RAG scoring, payments and reminders for public-health contracts.

    Start with `kpibot demo`; on your own deployment, `kpibot init` first.
    """
    install_log_redaction()  # before anything logs: no secret reaches a log line, whoever writes it
    ctx.obj = State(config_path)
    ctx.call_on_close(ctx.obj.close)
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
