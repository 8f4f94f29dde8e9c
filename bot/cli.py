"""The `kpibot` command line: one group, each command in its own module under bot/commands/."""

from __future__ import annotations

import click

from bot.commands import calendar, demo, frameworks, init, invite, outbox, report, run, score, status, submit, template
from bot.commands.common import State


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Configuration file (default: $KPIBOT_CONFIG or ./config.toml).")
@click.pass_context
def main(ctx: click.Context, config_path: str | None) -> None:
    """kpibot: KPI returns, RAG scoring, payments and reminders for public-health contracts."""
    ctx.obj = State(config_path)
    ctx.call_on_close(ctx.obj.close)


main.add_command(frameworks.group)
main.add_command(calendar.command)
main.add_command(score.command)
main.add_command(init.command)
main.add_command(submit.command)
main.add_command(status.command)
main.add_command(outbox.group)
main.add_command(demo.command)
main.add_command(report.report)
main.add_command(report.exceptions)
main.add_command(template.command)
main.add_command(run.command)
main.add_command(invite.command)
