"""The one Jinja2 environment for chat messages and PDF reports, without WeasyPrint (chat needs only text)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from bot.reports.status import STATUSES

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
REPORTS = TEMPLATES / "reports"


@cache
def environment() -> Environment:
    """The one Jinja2 environment: HTML autoescaped, plain-text messages not; unknown names are errors."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["statuses"] = tuple(STATUSES.values())  # the layout turns them into one CSS rule each
    return env


def render_text(template: str, **context: object) -> str:
    """Render a template under `templates/` to text."""
    return environment().get_template(template).render(**context)
