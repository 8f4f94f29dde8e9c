"""The layout of kpibot's return workbooks, shared by the template writer (bot/workbooks.py) and the reader.

A workbook identifies itself on its cover sheet: each row holds a label a person reads (column A), the value
(column B) and a machine key (column C, hidden). The reader finds every other sheet by its header row, not by its
name or position, so renamed sheets, inserted rows and older layouts still read.

Layout versions:
- 1: main sheet `Return` with the header in row 1 (`Item id`, `Value`, `Description`); breakdowns in long form on
  one sheet `Breakdowns` (`Item id`, `Breakdown`, `Value`).
- 2 (current): main sheet `Data` (`Item id`, `Data item`, `Unit`, `Guidance`, `Value`, then earlier periods for
  reference); one sheet per disaggregation, categories down and items across, with a hidden row of ids.
"""

from __future__ import annotations

TEMPLATE_VERSION = 2
KNOWN_VERSIONS = (1, 2)
MARKER = "kpibot return template"

# Cover sheet: (label, value, key) per row, 0-based columns.
COVER_SHEET = "Cover"
COVER_LABEL_COL = 0
COVER_VALUE_COL = 1
COVER_KEY_COL = 2
COVER_SCAN_ROWS = 40
COVER_ROWS: tuple[tuple[str, str], ...] = (
    ("template", "Template"),
    ("template_version", "Template version"),
    ("framework", "Framework"),
    ("framework_version", "Framework version"),
    ("contract", "Contract"),
    ("contract_name", "Contract name"),
    ("provider", "Provider"),
    ("return", "Return"),
    ("period", "Period"),
    ("period_label", "Period covered"),
    ("due", "Due by"),
)
COVER_FIRST_ROW = 3  # 0-based: rows 0-1 hold the title and a line of instructions

# Main sheet (version 2).
DATA_SHEET = "Data"
DATA_HEADER_ROW = 3  # 0-based; rows 0-2 hold the title, instructions and a blank line
DATA_COLUMNS = ("Item id", "Data item", "Unit", "Guidance", "Value")
ID_COL = 0
VALUE_COL = DATA_COLUMNS.index("Value")
REFERENCE_SUFFIX = "(sent, for reference)"

# Breakdown sheets (version 2): a hidden row of ids above the header a person reads.
BREAKDOWN_MARKER = "kpibot breakdown:"  # A2 holds e.g. `kpibot breakdown:age_band`
BREAKDOWN_ID_ROW = 1
BREAKDOWN_HEADER_ROW = 2
BREAKDOWN_FIRST_ROW = 3
BREAKDOWN_FIRST_COL = 2  # A: category id, B: category label, C onwards: one column per item
CATEGORY_ID_HEADER = "Category id"
TOTAL_ROW_LABELS = ("Total of the categories", "Total on the Data sheet", "Check")

# Older layout (version 1).
V1_DATA_SHEET = "Return"
V1_DATA_COLUMNS = ("Item id", "Value", "Description")
V1_BREAKDOWN_SHEET = "Breakdowns"
V1_BREAKDOWN_COLUMNS = ("Item id", "Breakdown", "Value")

# What the reader accepts in a header row (compared after `header_text`).
ID_HEADERS = frozenset({"item id", "item", "id", "data item id"})
VALUE_HEADERS = frozenset({"value"})
BREAKDOWN_HEADERS = frozenset({"breakdown"})
PERIOD_HEADERS = frozenset({"period"})
HEADER_SCAN_ROWS = 20

EXCEL_SHEET_NAME_MAX = 31
_SHEET_NAME_FORBIDDEN = str.maketrans({"/": "-", "\\": "-", "[": "", "]": "", ":": "", "*": "", "?": ""})


def header_text(value: object) -> str:
    """A header cell as compared: lower case, single spaces."""
    return " ".join(str(value).split()).lower() if value is not None else ""


def sheet_title(label: str, taken: set[str]) -> str:
    """An Excel-safe, unique sheet name for a disaggregation label."""
    base = " ".join(label.translate(_SHEET_NAME_FORBIDDEN).split()).strip("' ")
    name, n = _fit(base, EXCEL_SHEET_NAME_MAX) or "Breakdown", 2
    while name.lower() in {t.lower() for t in taken}:
        suffix = f" ({n})"
        name = (_fit(base, EXCEL_SHEET_NAME_MAX - len(suffix)) or "Breakdown") + suffix
        n += 1
    return name


def _fit(text: str, limit: int) -> str:
    """`text` cut to `limit` characters between words, never mid-word, and without an unclosed bracket
    ('Deprivation (IMD quintile of home address)' -> 'Deprivation'); a single long word is cut as it must be."""
    if len(text) <= limit:
        return text
    head = text[: limit + 1].rsplit(" ", 1)[0] if " " in text[: limit + 1] else text[:limit]
    if head.count("(") > head.count(")"):
        head = head[: head.rfind("(")]
    return head.rstrip(" -,;'") or text[:limit]


def column_letter(index: int) -> str:
    """0-based column index -> `A`, `Z`, `AA`."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def quote_sheet(sheet: str) -> str:
    """A sheet name as a formula or a reference writes it: quoted when it holds spaces or punctuation."""
    return sheet if sheet.replace("_", "").isalnum() else "'" + sheet.replace("'", "''") + "'"


def cell_name(sheet: str, row: int, col: int) -> str:
    """`Data!E7` from 0-based row and column."""
    return f"{quote_sheet(sheet)}!{column_letter(col)}{row + 1}"
