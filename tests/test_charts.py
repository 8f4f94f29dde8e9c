"""The inline SVG trend chart: valid SVG, status shapes, the target line, gaps, axes, escaping, and labels placed
by their start from the font's widths."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bot.reports.charts import ChartPoint, axis_range, nice_step, tick_text, trend_chart
from bot.reports.glyph_widths import CHARACTERS, text_width

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def points(*values: float | None, target: float | None = 50, status: str = "green") -> list[ChartPoint]:
    return [ChartPoint(f"Q{i}", v, target, status, f"{v}%" if v is not None else "") for i, v in
            enumerate(values, start=1)]


@pytest.mark.parametrize(("span", "step"), [(100, 25), (80, 20), (1600, 500), (7, 2), (0.4, 0.1), (0, 1)])
def test_it_picks_a_round_tick_step(span: float, step: float) -> None:
    assert nice_step(span) == pytest.approx(step)


@pytest.mark.parametrize(("numbers", "cap", "expected"), [
    ([52.5, 60], 100, (0, 60, 20)),
    ([96, 95], 100, (0, 100, 25)),  # capped: a percentage axis never runs past 100
    ([1693, 3500], None, (0, 4000, 1000)),
    ([-3, 12], None, (-5, 15, 5)),
    ([], None, (0, 1, 0.25)),
])
def test_the_axis_starts_at_zero_and_holds_every_number(numbers: list[float], cap: float | None,
                                                         expected: tuple[float, float, float]) -> None:
    assert axis_range(numbers, cap) == pytest.approx(expected)


@pytest.mark.parametrize(("value", "suffix", "text"), [(0, "%", "0%"), (1500, "", "1,500"), (2.5, "", "2.5")])
def test_tick_labels_read_like_the_report(value: float, suffix: str, text: str) -> None:
    assert tick_text(value, suffix) == text


def test_the_chart_is_valid_svg_with_a_title() -> None:
    root = parse(trend_chart(points(40, 45, 52.5), title="1.4 Quit rate: trend", suffix="%", cap=100))
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}title").text == "1.4 Quit rate: trend"


@pytest.mark.parametrize(("status", "shape"), [("red", "rect"), ("amber", "path"), ("green", "circle")])
def test_each_status_has_its_own_marker_shape(status: str, shape: str) -> None:
    svg = trend_chart(points(40, 45, status=status), title="t")
    markers = [e for e in parse(svg).iter() if e.get("stroke-width") == "0.8"]
    assert [m.tag for m in markers] == [f"{SVG}{shape}"] * 2
    assert all(m.get("fill") not in (None, "none", "#FFFFFF") for m in markers)


def test_a_constant_target_is_one_dashed_line_across_the_chart() -> None:
    root = parse(trend_chart(points(40, 45, 52.5, target=50), title="t"))
    dashed = [e for e in root.iter() if e.get("stroke-dasharray")]
    assert len(dashed) == 1 and dashed[0].tag == f"{SVG}line"


def test_a_target_that_grows_with_the_year_is_a_dashed_polyline() -> None:
    series = [ChartPoint("Q1", 380, 400, "amber"), ChartPoint("Q2", 790, 800, "amber"), ChartPoint("Q3", 1300, 1200, "green")]
    root = parse(trend_chart(series, title="t"))
    dashed = [e for e in root.iter() if e.get("stroke-dasharray")]
    assert len(dashed) == 1 and dashed[0].tag == f"{SVG}polyline"
    assert len(dashed[0].get("points").split()) == 3


def test_a_period_without_data_breaks_the_line() -> None:
    root = parse(trend_chart(points(40, 42, None, 47, 49), title="t"))
    solid = [e for e in root.iter() if e.tag == f"{SVG}polyline" and not e.get("stroke-dasharray")]
    assert [len(e.get("points").split()) for e in solid] == [2, 2]


def test_every_period_is_labelled_and_the_latest_value_is_printed() -> None:
    svg = str(trend_chart(points(40, 45, 52.5), title="t", suffix="%", cap=100))
    texts = "".join(parse(svg).itertext())
    for label in ("Q1", "Q2", "Q3", "52.5%", "0%", "60%"):
        assert label in texts


def test_text_is_escaped_so_a_label_cannot_inject_markup() -> None:
    hostile = '<script>alert(1)</script><image href="file:///etc/passwd"/>'
    svg = str(trend_chart([ChartPoint(hostile, 1, 2, "red", hostile)], title=hostile))
    root = parse(svg)  # still one well-formed SVG document
    assert not [e for e in root.iter() if e.tag in (f"{SVG}script", f"{SVG}image", "script", "image")]
    assert "&lt;script&gt;" in svg and "<script>" not in svg


@pytest.mark.parametrize(("values", "target"), [((60, 50), 55), ((40, 30, 27.2), 30), ((10, 20), 21.5)])
def test_the_latest_value_is_never_printed_on_the_target_line(values: tuple[float, ...], target: float) -> None:
    root = parse(trend_chart(points(*values, target=target), title="t", suffix="%", cap=100))
    (line,) = [e for e in root.iter() if e.get("stroke-dasharray")]
    label = next(e for e in root.iter() if e.tag == f"{SVG}text" and e.get("font-weight") == "bold")
    baseline = float(label.get("y"))
    assert not baseline - 8 <= float(line.get("y1")) <= baseline + 3  # the line stays out of the text's band


def _segments(root: ET.Element) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Every line drawn in the chart: the trend's polylines and the target's line or polyline."""
    found = []
    for e in root.iter():
        if e.tag == f"{SVG}polyline":
            xy = [tuple(float(n) for n in pair.split(",")) for pair in e.get("points").split()]
            found += list(zip(xy, xy[1:]))
        elif e.tag == f"{SVG}line":
            found.append(((float(e.get("x1")), float(e.get("y1"))), (float(e.get("x2")), float(e.get("y2")))))
    return found


@pytest.mark.parametrize(("values", "targets"), [
    ((88, 80, 78, 38.8), 60),  # falling steeply into the last point, below the target (1.10 in the demo)
    ((52, 50, 50.5, 49.2), 60),  # the target the top of the axis, just above the last point (1.5)
    ((98, 99, 97, 85.4), 95),  # just under a target near the top (2.1)
    ((16, 14, 13, 16), 15),  # rising through the target into the last point (1.9)
    ((10, 40, 20, 39), 40),
    ((320, 790, 1200, 1543), (400, 800, 1200, 1600)),  # a target growing with the year, just above
    ((50,), 50),
])
def test_the_latest_value_crosses_no_line_and_no_marker(values: tuple[float, ...],
                                                        targets: float | tuple[float, ...]) -> None:
    grown = targets if isinstance(targets, tuple) else (targets,) * len(values)
    series = [ChartPoint(f"Q{i}", v, t, "red", f"{v:,}%") for i, (v, t) in enumerate(zip(values, grown), start=1)]
    root = parse(trend_chart(series, title="t", suffix="%", cap=100 if max(values) <= 100 else None))
    label = next(e for e in root.iter() if e.tag == f"{SVG}text" and e.get("font-weight") == "bold")
    left, baseline = float(label.get("x")), float(label.get("y"))
    right = left + text_width(label.text, 7.5, bold=True)
    top, bottom = baseline - 7.5 * 0.76, baseline + 7.5 * 0.24  # the figures' height above and below the baseline
    for (x0, y0), (x1, y1) in _segments(root):  # sampled every tenth of a unit: no line passes through the text
        steps = int(max(abs(x1 - x0), abs(y1 - y0)) * 10) + 1
        for n in range(steps + 1):
            x, y = x0 + (x1 - x0) * n / steps, y0 + (y1 - y0) * n / steps
            assert not (left - 0.5 < x < right + 0.5 and top - 0.5 < y < bottom + 0.5), (label.text, x, y)
    for marker in root.iter(f"{SVG}rect"):
        mx, my = float(marker.get("x")) + 4, float(marker.get("y")) + 4
        assert not (left - 4 < mx < right + 4 and top - 4 < my < bottom + 4)
    assert 0 < left and right < 250 and bottom < 120 - 20  # inside the chart, above the period labels


def test_labels_are_placed_letter_by_letter_so_none_is_drawn_in_a_layer_of_its_own() -> None:
    svg = str(trend_chart(points(40, 45, 52.5), title="t", suffix="%", cap=100))
    small, value = parse(svg).iter(f"{SVG}text")  # the axis and period labels in one text, the latest value
    assert "text-anchor" not in svg  # WeasyPrint draws each middle- or end-anchored text as a form XObject
    assert small.text == "0%60%Q1Q2Q3" and value.text == "52.5%"
    xs = [float(x) for x in small.get("x").split()]
    ys = [float(y) for y in small.get("y").split()]
    assert len(xs) == len(ys) == len(small.text)
    assert xs[1] == pytest.approx(xs[0] + text_width("0", 6.5), abs=0.06)  # each letter after the one before
    starts = {label: small.text.index(label) for label in ("0%", "60%", "Q1", "Q2", "Q3")}
    centres = [xs[starts[q]] + text_width(q, 6.5) / 2 for q in ("Q1", "Q2", "Q3")]
    assert centres == pytest.approx([71.7, 139.0, 206.3], abs=0.1)  # centred under each period's marker
    ends = [xs[starts[t]] + text_width(t, 6.5) for t in ("0%", "60%")]
    assert ends == pytest.approx([34.0, 34.0], abs=0.1)  # right-aligned against the axis
    assert ys[starts["0%"]] > ys[starts["60%"]] and {ys[starts[q]] for q in ("Q1", "Q2", "Q3")} == {114.0}


def test_a_label_with_spaces_keeps_a_position_for_each_letter() -> None:
    series = [ChartPoint(label, 40, 50, "green") for label in ("Q4  24-25 ", "Q1 25-26")]
    (small,) = parse(trend_chart(series, title="t")).iter(f"{SVG}text")
    assert small.text.endswith("Q4 24-25Q1 25-26")  # spaces collapsed as the SVG's reader collapses them
    assert len(small.get("x").split()) == len(small.text)


FONTS = Path("/usr/share/fonts/truetype/dejavu")


@pytest.mark.skipif(not (FONTS / "DejaVuSans.ttf").is_file(), reason="DejaVu Sans is not installed here")
@pytest.mark.parametrize(("name", "bold"), [("DejaVuSans.ttf", False), ("DejaVuSans-Bold.ttf", True)])
def test_the_width_table_is_the_installed_fonts_own(name: str, bold: bool) -> None:
    ttlib = pytest.importorskip("fontTools.ttLib")  # installed with WeasyPrint

    font = ttlib.TTFont(FONTS / name)
    cmap, metrics = font.getBestCmap(), font["hmtx"]
    scale = font["head"].unitsPerEm
    for character in CHARACTERS:
        assert text_width(character, scale, bold=bold) == metrics[cmap[ord(character)]][0], character
