"""Reports: return reports, exception reports and action plans as PDF (Jinja2 + WeasyPrint), chat summaries as text.

Build a context (`context.build_return_report`, `exception_report.build_exception_report`), then render it
(`render.py`); templates live in `templates/`. Only `render.py` and `pdf.py` import WeasyPrint, which takes longer
to import than the rest of kpibot together: a command that only builds or prints a context never loads it.
"""
