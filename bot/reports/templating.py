"""The Jinja2 environments for chat messages and PDF reports, without WeasyPrint (chat needs only text)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from bot.reports.status import STATUSES

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
REPORTS = TEMPLATES / "reports"
LONG_WORD = re.compile(r"[^\s\u200b]{25,}")  # longer than a table column of a PDF may be narrow
SEPARATOR = re.compile(r"([_/\\.\[\]=,@:;+])")
RUN = re.compile(r"([^\u200b]{12})(?=[^\u200b])")
ZWSP = "\u200b"


def breakable(value: object) -> object:
    """Text with a break opportunity (a zero-width space) after each separator of a long word, and at least every
    12 characters: a file name, an e-mail address or a formula in a narrow column then wraps instead of pushing
    the table past the paper's edge. Markup (drawings, badges) is left alone."""
    if not isinstance(value, str) or isinstance(value, Markup) or not LONG_WORD.search(value):
        return value
    return LONG_WORD.sub(lambda m: RUN.sub(r"\1" + ZWSP, SEPARATOR.sub(r"\1" + ZWSP, m.group())), value)


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
    return env


def render_text(template: str, *, for_print: bool = False, **context: object) -> str:
    """Render a template under `templates/` to text (`for_print`: HTML for a PDF)."""
    return environment(for_print).get_template(template).render(**context)
