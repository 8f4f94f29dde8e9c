"""Refuse a return that looks like it holds personal data about individual people, and never repeat any of it.

kpibot takes aggregate figures only. The raw cells of every sheet (or the rows of a CSV) are looked at before
anything else reads them, column by column, for:

- NHS numbers: ten digits (`9434765919`, `943 476 5919`, `943-476-5919`, as text or as a number) whose last digit
  is the modulus-11 check digit of the other nine (NHS Data Dictionary, "NHS number"; Scotland's CHI and Northern
  Ireland's H&C numbers use the same check). Under an `NHS number` heading any ten-digit number counts.
- names: a column headed like one (`Name`, `Surname`, `Client name`...) with at least three entries below that
  read as names, or a column in which at least three entries, and a third of its text, are shaped like a person's
  name (a title such as `Mrs`, or a common given name, with one to three more capitalised words).
- dates of birth: a column headed like one (`DOB`, `Date of birth`) with a date below it, or a column of at least
  three dates spanning ten years or more (event dates in a return fall within a year or two; birthdays do not).
- postcodes: full UK postcodes (`E8 1DY`, with the inward part; `E8` alone is an area, which a return may use):
  one under a `Postcode` or `Address` heading, or three in one column.
- rows: more filled rows in one sheet (or CSV) than any return has figures (`MAX_ROWS`).

Figure cells: the numbers a return asks for are counts, sums and averages of a service's people, sessions and money.
None reaches a billion (the UK population is about 69 million; these contracts are worth well under £1 billion), so
a ten-digit whole number makes no sense as a figure anywhere in a return. One that passes the modulus-11 check is
therefore refused wherever it sits, value cells included; one that fails the check (like 4857312345) is left to be
read as a figure. Digits after a decimal point (an average kept to ten decimals) are never taken for one.

The finding names positions only (sheet, column, rows), never a value, so no reply or report can echo the data.
"""

from __future__ import annotations

import re
import string
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from kpi_core.findings import Finding
from kpi_core.returns import layout
from kpi_core.returns.model import PERSONAL_DATA
from kpi_core.returns.personal_words import GIVEN_NAMES, HEADERS, NOT_PEOPLE, TITLES

# The largest shipped return holds 638 figures (lifestyle, annual); a CSV that carries the year to date of a
# quarterly one, 4 x 596. A list of people is one row each. tests/test_personal_data.py keeps this above four times
# any shipped framework's year of figures.
MAX_ROWS = 10_000
MIN_LISTED = 3  # names, dates or postcodes in one column before they are taken for a list of people
BIRTH_SPAN_YEARS = 10

KINDS = ("nhs_number", "name", "date_of_birth", "postcode", "rows")
_LABELS = {"nhs_number": "NHS numbers", "name": "names", "date_of_birth": "dates of birth", "postcode": "postcodes"}

_TEN_DIGITS = re.compile(r"(?<![\d.,])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)(?!\.\d*[1-9])(?!,\d)")
# Full UK postcodes (outward and inward parts), after the format in BS 7666 / the ONS postcode directory.
_POSTCODE = re.compile(
    r"(?<![A-Z0-9])(?:GIR ?0AA|(?:[A-PR-UWYZ][0-9]{1,2}|[A-PR-UWYZ][A-HK-Y][0-9]{1,2}|[A-PR-UWYZ][0-9][A-HJKPSTUW]"
    r"|[A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRV-Y]) ?[0-9][ABD-HJLNP-UW-Z]{2})(?![A-Z0-9])", re.I)
_MONTHS = {m: n for n, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                       "dec"), start=1)}
_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})")
_YMD = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+)?")
_D_MON_Y = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[ \-]([A-Za-z]{3,9})[ \-,]+(\d{4})")
_DIGIT = re.compile(r"\d")
_BRACKETS = re.compile(r"\(.*?\)|\[.*?\]")
_PUNCTUATION = str.maketrans({c: " " for c in string.punctuation + "\u2018\u2019"})
HEADER_KIND = {text: kind for kind, texts in HEADERS.items() for text in texts}
_SEPARATORS = re.compile(r"[_\-.,()\[\]{}+#~]+")  # between the words of a file name
_WORD = re.compile(r"(?:[A-Za-z]{1,3}['’])?[A-Za-z]+(?:-[A-Za-z]+)*\.?")

@dataclass(frozen=True, slots=True)
class Sighting:
    """Where personal data was seen: a kind, a sheet (None in a CSV) and its 1-based number, a 0-based column
    (WHOLE_SHEET for a count of rows, SHEET_NAMES for the names of the sheets), the first 0-based row (or sheet
    index), and how many cells, rows or sheets showed it."""

    kind: str
    sheet: str | None
    column: int
    first_row: int
    count: int
    sheet_number: int = 0


WHOLE_SHEET = -1
SHEET_NAMES = -2


@dataclass
class _Column:
    headers: dict[str, int] = field(default_factory=dict)  # kind -> the row of its heading
    nhs: list[int] = field(default_factory=list)  # rows holding a valid NHS number
    ten_digits: list[int] = field(default_factory=list)  # rows holding any ten-digit number
    names: list[int] = field(default_factory=list)  # rows shaped like a name (title or given name)
    words: list[int] = field(default_factory=list)  # rows of a few plain words (a name under a name heading)
    dates: list[tuple[int, int]] = field(default_factory=list)  # (row, year)
    postcodes: list[int] = field(default_factory=list)
    text: int = 0
    filled: int = 0


def is_nhs_number(digits: str) -> bool:
    """True when ten digits end in the modulus-11 check digit of the first nine (weights 10 down to 2; a check of
    11 is 0, of 10 means no valid number). Ten identical digits pass the sum but are never issued."""
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit() or len(set(digits)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 10:
        return False
    return (0 if check == 11 else check) == int(digits[9])


def looks_personal(text: str) -> bool:
    """Does a short text, such as a file name, hold what looks like personal data: a valid NHS number, a full
    postcode, or a person's name (a title or a common given name with one or two more capitalised words)?"""
    if any(is_nhs_number("".join(m.groups())) for m in _TEN_DIGITS.finditer(text)) or _POSTCODE.search(text):
        return True
    words = _SEPARATORS.sub(" ", text).split()
    return any(_name_shape(" ".join(words[i:i + n])) == 2 for n in (2, 3) for i in range(len(words) - n + 1))


def find(sheets: Iterable[tuple[str | None, int, Sequence[Sequence[object]]]], max_rows: int = MAX_ROWS,
         ) -> list[Sighting]:
    """Every sign of personal data in the grids `(sheet name, its 1-based tab number, rows of cells)` (`(None, 0,
    rows)` for a CSV), and in the sheet names themselves (one sheet per client is a list of people too)."""
    found: list[Sighting | None] = []
    names = _Column()
    for sheet, number, rows in sheets:
        if sheet is not None:
            _look(sheet, number - 1, names)
        columns: dict[int, _Column] = {}
        filled_rows, first_row = 0, -1
        for r, row in enumerate(rows):
            any_filled = False
            for c, value in enumerate(row):
                if value is None or value == "":
                    continue
                column = columns.get(c)
                if column is None:
                    column = columns[c] = _Column()
                if _look(value, r, column):
                    any_filled = True
            if any_filled:
                filled_rows += 1
                if first_row < 0:
                    first_row = r
        found.extend(_judge(sheet, number, c, column) for c, column in sorted(columns.items()))
        if filled_rows > max_rows:
            found.append(Sighting("rows", sheet, WHOLE_SHEET, first_row, filled_rows, number))
    names.headers.clear()  # a sheet called `Name` heads nothing
    found.append(_judge(None, 0, SHEET_NAMES, names))
    return [s for s in found if s is not None]


def _look(value: object, row: int, column: _Column) -> bool:
    """Note what one cell holds in its column; False when it is blank."""
    if isinstance(value, bool):
        column.filled += 1
        return True
    if isinstance(value, (int, float)):
        column.filled += 1
        if (isinstance(value, int) or value.is_integer()) and 10**9 <= abs(value) < 10**10:
            column.ten_digits.append(row)
            if is_nhs_number(str(int(abs(value)))):
                column.nhs.append(row)
        return True
    if isinstance(value, (date, datetime)):
        column.filled += 1
        column.dates.append((row, value.year))
        return True
    text = str(value).strip()
    if not text:
        return False
    column.filled += 1
    column.text += 1
    digits = _DIGIT.search(text) is not None
    if len(text) <= 40 and not digits:
        kind = HEADER_KIND.get(_header(text))
        if kind is not None:
            column.headers.setdefault(kind, row)
            return True
    if digits:
        if len(text) >= 10:
            for match in _TEN_DIGITS.finditer(text):
                column.ten_digits.append(row)
                if is_nhs_number("".join(match.groups())):
                    column.nhs.append(row)
                    break
        if len(text) >= 5 and _POSTCODE.search(text):
            column.postcodes.append(row)
        year = _date_year(text) if len(text) <= 30 and text[0].isdigit() else None
        if year is not None:
            column.dates.append((row, year))
        return True
    if len(text) <= 60:
        # A CSV breakdown (`client=John Smith`) names its category after the `=`.
        shape = max(_name_shape(part.rpartition("=")[2]) for part in text.split(",")) if "=" in text else \
            _name_shape(text)
        if shape >= 1:
            column.words.append(row)
        if shape == 2:
            column.names.append(row)
    return True


def _judge(sheet: str | None, number: int, col: int, column: _Column) -> Sighting | None:
    """The strongest sign in one column, or None."""
    def below(kind: str, rows: list[int]) -> list[int]:
        header = column.headers.get(kind)
        return [] if header is None else [r for r in rows if r > header]

    def seen(kind: str, rows: list[int]) -> Sighting:
        return Sighting(kind, sheet, col, rows[0], len(rows), number)

    if column.nhs:
        return seen("nhs_number", column.nhs)
    headed = below("nhs_number", column.ten_digits)
    if headed:
        return seen("nhs_number", headed)
    date_rows = [r for r, _ in column.dates]
    headed = below("date_of_birth", date_rows)
    if headed:
        return seen("date_of_birth", headed)
    years = [y for _, y in column.dates]
    if (len(years) >= MIN_LISTED and max(years) - min(years) >= BIRTH_SPAN_YEARS
            and 2 * len(years) >= column.filled):
        return seen("date_of_birth", date_rows)
    headed = below("postcode", column.postcodes)
    if headed or len(column.postcodes) >= MIN_LISTED:
        return seen("postcode", headed or column.postcodes)
    headed = below("name", column.words)
    if len(headed) >= MIN_LISTED:
        return seen("name", headed)
    if len(column.names) >= MIN_LISTED and 3 * len(column.names) >= column.text:
        return seen("name", column.names)
    return None


def _header(text: str) -> str:
    """A heading as compared: lower case, brackets dropped (`Date of birth (dd/mm/yyyy)`), punctuation as spaces."""
    lower = text.lower()
    if "(" in lower or "[" in lower:
        lower = _BRACKETS.sub(" ", lower)
    return " ".join(lower.translate(_PUNCTUATION).split())


def _date_year(text: str) -> int | None:
    """The year of a date written as text (`12/03/1975`, `1975-03-12`, `12 March 1975`), else None."""
    match = _DMY.fullmatch(text)
    if match:
        day, month, year = int(match[1]), int(match[2]), int(match[3])
        year = year + 1900 if year < 100 else year  # two-digit years: the century is unknown, the span still shows
    else:
        match = _YMD.fullmatch(text)
        if match:
            year, month, day = int(match[1]), int(match[2]), int(match[3])
        else:
            match = _D_MON_Y.fullmatch(text)
            if not match or match[2][:3].lower() not in _MONTHS:
                return None
            day, month, year = int(match[1]), _MONTHS[match[2][:3].lower()], int(match[3])
    if not (1 <= day <= 31 and 1 <= month <= 12 and 1880 <= year <= 2100):
        return None
    return year


def _name_shape(text: str) -> int:
    """2 for a phrase shaped like a person's name (`Mrs Patel`, `John Smith`, `SMITH, John`), 1 for a few plain
    words that could be one under a name heading (`Okafor`), 0 otherwise."""
    words = text.replace(",", " ").split()
    if not 1 <= len(words) <= 4 or not all(_WORD.fullmatch(w) for w in words):
        return 0
    lower = [w.lower().strip(".") for w in words]
    if any(w in NOT_PEOPLE for w in lower):
        return 0
    if not all(w[0].isupper() or w.islower() for w in words):
        return 0
    if len(words) >= 2 and (lower[0] in TITLES or lower[0] in GIVEN_NAMES or lower[1] in GIVEN_NAMES):
        return 2
    return 1


def refusal(sightings: list[Sighting], csv: bool, max_rows: int = MAX_ROWS, named: Container[str] = (),
            hidden: Container[str] = ()) -> Finding:
    """The one finding for a file refused as personal data: what was seen and where, what kpibot accepts and what
    to do. It repeats nothing from the file, not even its name: a sheet is called by its number (`sheet 5`), and by
    its name only when it is in `named` (the sheets kpibot's template makes). `extra` lists the kinds seen."""
    ordered = sorted(sightings, key=lambda s: KINDS.index(s.kind))
    groups: dict[tuple[str, int, bool], list[Sighting]] = {}
    for sighting in ordered:
        groups.setdefault((sighting.kind, sighting.sheet_number, sighting.column == SHEET_NAMES), []).append(sighting)
    places = _Places(csv, named, hidden)
    parts = [places.describe(group, max_rows) for group in list(groups.values())[:4]]
    if len(groups) > 4:
        parts.append(f"and {len(groups) - 4} more")
    return Finding(
        "error", PERSONAL_DATA,
        "This file looks like it holds personal data about individual people, so kpibot has refused it: "
        + "; ".join(parts),
        where=places.where(ordered[0]),
        fix="kpibot accepts aggregate figures only (totals for the period, never a row per person). Nothing from "
            "this file appears in any reply or report. Fill in the return template (or a CSV of item,breakdown,value) "
            "with totals and send that instead; if the file was sent by mistake, follow your organisation's "
            "procedure for personal data sent to the wrong place.",
        extra={"kinds": ",".join(dict.fromkeys(kind for kind, _, _ in groups))},
    )


@dataclass(frozen=True, slots=True)
class _Places:
    """How the refusal names places: CSV lines and columns, or sheets (by number unless `named`) and cells."""

    csv: bool
    named: Container[str]
    hidden: Container[str]

    def sheet(self, s: Sighting) -> str:
        label = f"sheet {s.sheet!r}" if s.sheet in self.named else f"sheet {s.sheet_number}"
        return ("hidden " if s.sheet in self.hidden else "") + label

    def describe(self, group: list[Sighting], max_rows: int) -> str:
        """`names in columns A and B of sheet 5 (24 cells, from row 2)`: one kind on one sheet."""
        first = group[0]
        if first.column == SHEET_NAMES:
            return (f"{_LABELS[first.kind]} in the names of the sheets ({_count(first.count, 'sheet')}, from sheet "
                    f"{first.first_row + 1})")
        if first.kind == "rows":
            whole = "the file" if self.csv else self.sheet(first)
            unit = "lines" if self.csv else "filled rows"
            return (f"{whole} has more than {max_rows:,} {unit}, far more than any return (a list of people has "
                    "that many)")
        count = _count(sum(s.count for s in group), "cell")
        start = min(s.first_row for s in group) + 1
        names = [str(s.column + 1) if self.csv else layout.column_letter(s.column) for s in group]
        columns = ("column " if len(names) == 1 else "columns ") + (
            names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1])
        if self.csv:
            return f"{_LABELS[first.kind]} in {columns} ({count}, from line {start})"
        return f"{_LABELS[first.kind]} in {columns} of {self.sheet(first)} ({count}, from row {start})"

    def where(self, s: Sighting) -> str:
        if self.csv:
            return f"line {s.first_row + 1}" + (f", column {s.column + 1}" if s.column >= 0 else "")
        if s.column == SHEET_NAMES:
            return f"sheet {s.first_row + 1}"
        if s.sheet in self.named:
            return layout.cell_name(s.sheet or "", s.first_row, max(s.column, 0))
        return f"sheet {s.sheet_number}, cell {layout.column_letter(max(s.column, 0))}{s.first_row + 1}"


def _count(n: int, unit: str) -> str:
    return f"{n:,} {unit}{'' if n == 1 else 's'}"
