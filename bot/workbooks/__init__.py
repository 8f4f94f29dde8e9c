"""Return workbooks on the application side: writing the template providers fill in, and reading received files
in a separate process with a memory and time limit."""

from bot.workbooks.isolated import IsolatedReader
from bot.workbooks.template import build_template

__all__ = ["IsolatedReader", "build_template"]
