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
# Kerning pairs of HTML text (Pango applies them; an SVG text set letter by letter gets none), from the fonts'
# `kern` tables: two characters and the change to their advance in font units.
KERNING_REGULAR = (
    "-A-45 -B-73 -G+75 -J+114 -O+57 -Q+75 -T-188 -V-120 -W-83 -X-102 -Y-243 -o+38 -v-55 -y-36 A--45 A.-36 A:-36 AA+57 "
    "AC-36 AG-36 AO-36 AQ-36 AT-159 AV-131 AW-112 AY-159 Ac-36 Ad-36 Ae-36 Af-73 Ao-36 Aq-36 At-36 Av-120 Aw-83 "
    "Ay-139 A“-264 A”-253 BC-36 BG-36 BO-36 BS-36 BV-63 BW-73 BY-112 B“-112 B”-112 CY-36 C”+38 DA-36 DV-36 DY-112 "
    "D“-45 D”-55 F.-329 F:-159 FA-188 FS-36 FT-36 Fa-188 Fe-112 Fi-149 Fo-73 Fr-149 Fu-112 Fy-188 F“-45 GT-73 GY-102 "
    "G“-45 G”-45 H.-36 H“-73 H”-63 J--73 JA-36 J“-73 J”-63 K--215 KA-36 KC-112 KO-112 KT-159 KU-55 KW-73 KY-73 Ka-36 "
    "Ke-102 Ko-102 Ku-102 Ky-149 K“-63 K”-63 L--36 LA+47 LO-73 LT-282 LU-102 LV-225 LW-188 LY-272 Le-36 Lo-36 Lu-36 "
    "Ly-188 L“-415 L”-538 O-+57 O.-83 O:-36 OA-36 OV-36 OX-131 OY-112 O“-45 O”-36 P--45 P.-319 PA-131 PY-45 Pa-92 "
    "Pe-73 Pi-45 Pn-36 Po-73 Pr-36 Ps-36 Pu-36 P“+38 P”+38 Q-+57 Q“-45 Q”-36 R--83 R.-73 R:-63 RA-83 RC-102 RT-149 "
    "RV-112 RW-83 RY-131 Ra-45 Re-92 Ro-92 Ru-92 Ry-112 R“-149 R”-131 SA+38 T--188 T.-243 T:-225 TA-159 TC-120 TT-36 "
    "Ta-339 Tc-348 Te-348 Ti-63 To-348 Tr-301 Ts-339 Tu-311 Tw-339 Ty-319 T”-45 UZ-36 V--120 V.-264 V:-167 VA-131 "
    "VO-36 Va-159 Ve-159 Vi-45 Vo-159 Vu-139 Vy-55 W--83 W.-235 W:-120 WA-112 Wa-131 We-120 Wi-45 Wo-120 Wr-92 Wu-73 "
    "Wy-36 W“-36 X--102 XC-149 XO-131 XT-36 Xe-92 X“-159 X”-83 Y--243 Y.-415 Y:-272 YA-159 YC-112 YO-112 Ya-282 "
    "Ye-272 Yi-73 Yo-272 Yu-235 Y“-112 Y”-36 Z--36 Z“-36 Z”-36 ex-36 f--112 f.-149 f:-73 ft-36 fw-36 fy-36 f“+65 "
    "ka-36 ke-73 ko-73 ku-63 ky-73 n“-149 n”-112 o-+38 o.-36 ox-63 o“-149 o”-73 r--131 r.-188 r:-36 rc-45 rd-36 re-45 "
    "rg-36 rh-36 rm-36 rn-36 ro-45 rq-36 rr-36 rx-55 r”+86 v--55 v.-159 v:-112 v”-36 w.-188 w:-112 xc-36 xe-63 xo-63 "
    "y--36 y.-292 y:-149 “A-264 “B-63 “C-73 “D-63 “F-63 “G-73 “H-63 “J-63 “K-63 “L-63 “O-73 “P-63 “Q-73 “R-63 “X-120 "
    "“Z-36 “f-73 “n-112 “o-149 “r-112 “v-73 “w-73 “y-73"
)
KERNING_BOLD = (
    "-T-301 -V-149 -W-92 -X-167 -Y-301 A,+38 A.+38 A:+38 A;+38 AT-159 AU-63 AV-139 AW-92 AY-196 Av-73 Ay-73 A’-188 "
    "A”-188 BV-83 BW-112 BY-112 C-+47 CS+38 C’+75 C”+75 D-+38 DY-149 F,-329 F--63 F.-301 F:-112 F;-112 FA-235 Fa-120 "
    "Fe-83 Fo-83 Fr-131 Fu-102 Fy-112 F’+38 GT-36 GY-45 K--178 KC-92 KO-92 KU-36 Ke-36 Ko-36 Ku-36 Ky-131 LO-73 "
    "LT-339 LU-73 LV-282 LW-159 LY-319 Ly-139 L’-471 L”-491 O,-45 O-+38 O.-45 OA-55 OV-55 OX-73 OY-73 P,-376 P--36 "
    "P.-376 PA-188 Pa-55 Ps-36 Py+38 P’+57 P”+38 Q-+38 R,+38 R.+38 RT-92 RY-112 Ry-92 SS-92 T,-292 T--301 T.-311 "
    "T:-112 T;-112 TA-159 TT+47 Ta-264 Tc-272 Te-272 To-272 Tr-225 Ts-272 Tu-225 Tw-225 Ty-243 UA-63 V,-264 V--149 "
    "V.-264 V:-92 V;-92 VA-139 VO-36 Va-112 Ve-112 Vi-36 Vo-112 Vu-73 W,-167 W--92 W.-167 W:-63 W;-63 WA-92 Wa-73 "
    "We-73 Wo-73 Wr-36 X--167 XC-73 XO-73 Xe-55 Y,-339 Y--301 Y.-339 Y:-178 Y;-178 YA-196 YC-73 YO-73 Ya-188 Ye-188 "
    "Yo-188 Yu-149 Z--36 ay-63 f,-112 f--36 f.-112 f’+141 f”+86 ke-55 ko-55 r,-301 r.-292 r’+86 r”+38 v,-167 v.-167 "
    "w,-131 w.-131 y,-159 y.-188 ‘A-235 ‘J-92 ‘V+38 ‘Y+75 “A-264 “J-92 “Y+38"
)
_REGULAR = dict(zip(CHARACTERS, REGULAR, strict=True))
_BOLD = dict(zip(CHARACTERS, BOLD, strict=True))
_KERNING = {bold: {pair[:2]: int(pair[2:]) for pair in pairs.split()}
            for bold, pairs in ((False, KERNING_REGULAR), (True, KERNING_BOLD))}


def text_width(text: str, size: float, *, bold: bool = False, unknown: int | None = None,
               kerned: bool = False) -> float:
    """The width of `text` set in DejaVu Sans at `size` (user units), as WeasyPrint draws an SVG label, or with
    `kerned` as Pango sets it in HTML. A character missing here counts as `unknown` font units (a digit's width
    unless told)."""
    widths = _BOLD if bold else _REGULAR
    other = widths["0"] if unknown is None else unknown
    units = sum(widths.get(c, other) for c in text)
    if kerned:
        kerning = _KERNING[bold]
        units += sum(kerning.get(text[i:i + 2], 0) for i in range(len(text) - 1))
    return units * size / UNITS_PER_EM
