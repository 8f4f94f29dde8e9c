"""The Jinja2 environments for chat messages and PDF reports, without WeasyPrint (chat needs only text)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.reports.columns import indicator_columns
from bot.reports.status import STATUSES
from bot.reports.words import breakable

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
REPORTS = TEMPLATES / "reports"


@cache
def environment(for_print: bool = False) -> Environment:
    """A Jinja2 environment: HTML autoescaped, plain-text messages not; unknown names are errors. `for_print`
    (PDF reports) makes long words breakable; chat text is sent as it is."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=breakable if for_print else None,
    )
    env.globals["statuses"] = tuple(STATUSES.values())  # the layout turns them into one CSS rule each
    env.globals["indicator_columns"] = indicator_columns  # the indicator table's widths, fixed when its text fits
    return env


def render_text(template: str, *, for_print: bool = False, **context: object) -> str:
    """Render a template under `templates/` to text (`for_print`: HTML for a PDF)."""
    return environment(for_print).get_template(template).render(**context)
