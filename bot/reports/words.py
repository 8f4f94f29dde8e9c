"""Where a long word in a PDF may break: a zero-width space after its separators and at least every 12 characters."""

from __future__ import annotations

import re

from markupsafe import Markup

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
