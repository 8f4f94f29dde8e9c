"""Advance widths of DejaVu Sans (the reports' only font): where a chart label starts, whether a column's text fits.

WeasyPrint draws an SVG `<text>` whose `text-anchor` is `middle` or `end` in a layer of its own (a PDF form
XObject per label, a third of a chart's drawing time), so a chart anchors every label at its start, worked out
here from the font's advance widths. WeasyPrint sets an SVG text one letter at a time (no kerning), so the sum of
the advances is the width it draws. Read from DejaVuSans.ttf and DejaVuSans-Bold.ttf (version 2.37) with fontTools,
in font units (2048 to the em); a character missing here counts as wide as a digit, or as the caller says.
The oblique face has the same advance widths as the regular one.
"""

from __future__ import annotations

CHARACTERS = "".join(chr(c) for c in range(32, 127)) + "£€–—−·•≥≤×÷°µ‰’‘“”…½¼¾■▲◐●○◇"  # ASCII, a few more, status shapes
UNITS_PER_EM = 2048
REGULAR = (651, 821, 942, 1716, 1303, 1946, 1597, 563, 799, 799, 1024, 1716, 651, 739, 651, 690, 1303, 1303, 1303, 1303,
    1303, 1303, 1303, 1303, 1303, 1303, 690, 690, 1716, 1716, 1716, 1087, 2048, 1401, 1405, 1430, 1577, 1294,
    1178, 1587, 1540, 604, 604, 1343, 1141, 1767, 1532, 1612, 1235, 1612, 1423, 1300, 1251, 1499, 1401, 2025,
    1403, 1251, 1403, 799, 690, 799, 1716, 1024, 1024, 1255, 1300, 1126, 1300, 1260, 721, 1300, 1298, 569, 569,
    1186, 569, 1995, 1298, 1253, 1300, 1300, 842, 1067, 803, 1298, 1212, 1675, 1212, 1212, 1075, 1303, 690, 1303,
    1716, 1303, 1303, 1024, 2048, 1716, 651, 1208, 1716, 1716, 1716, 1716, 1024, 1303, 2748, 651, 651, 1061, 1061,
    2048, 1985, 1985, 1985, 1935, 1575, 1787, 1787, 1787, 1575)
BOLD = (713, 934, 1067, 1716, 1425, 2052, 1786, 627, 936, 936, 1071, 1716, 778, 850, 778, 748, 1425, 1425, 1425, 1425,
    1425, 1425, 1425, 1425, 1425, 1425, 819, 819, 1716, 1716, 1716, 1188, 2048, 1585, 1561, 1503, 1700, 1399,
    1399, 1681, 1714, 762, 762, 1587, 1305, 2038, 1714, 1741, 1501, 1741, 1577, 1475, 1397, 1663, 1585, 2259,
    1579, 1483, 1485, 936, 748, 936, 1716, 1024, 1024, 1382, 1466, 1214, 1466, 1389, 891, 1466, 1458, 702, 702,
    1362, 702, 2134, 1458, 1407, 1466, 1466, 1010, 1219, 979, 1458, 1335, 1892, 1321, 1335, 1192, 1458, 748, 1458,
    1716, 1425, 1425, 1024, 2048, 1716, 778, 1309, 1716, 1716, 1716, 1716, 1024, 1507, 2949, 778, 778, 1346, 1346,
    2048, 2120, 2120, 2120, 1935, 1575, 1787, 1787, 1787, 1575)
_REGULAR = dict(zip(CHARACTERS, REGULAR, strict=True))
_BOLD = dict(zip(CHARACTERS, BOLD, strict=True))


def text_width(text: str, size: float, *, bold: bool = False, unknown: int | None = None) -> float:
    """The width of `text` set in DejaVu Sans at `size` (user units), as WeasyPrint draws an SVG label. A character
    missing here counts as `unknown` font units (a digit's width unless told)."""
    widths = _BOLD if bold else _REGULAR
    other = widths["0"] if unknown is None else unknown
    return sum(widths.get(c, other) for c in text) * size / UNITS_PER_EM
