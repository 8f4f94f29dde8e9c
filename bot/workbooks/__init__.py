"""Return workbooks on the application side: writing the template providers fill in (`template.py`, openpyxl),
and reading received files in a separate process with a memory and time limit (`isolated.py`; the worker imports
only what reading needs)."""
