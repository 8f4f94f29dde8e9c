"""A small inline SVG trend chart: the indicator's value per period, its status shape, and a dashed target line.

Built as text (no plotting library) so it is fast, deterministic and safe: every piece of text is escaped here,
which is why the result may be marked safe for the HTML templates.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from bot.reports.glyph_widths import text_width
from bot.reports.status import STATUSES

WIDTH, HEIGHT = 250, 120
LEFT, RIGHT, TOP, BOTTOM = 38, 10, 16, 20
INK = "#333333"
GRID = "#D9D9D9"
FONT = "DejaVu Sans, sans-serif"


@dataclass(frozen=True, slots=True)
class ChartPoint:
    label: str  # x-axis label, e.g. `Q2`
    value: float | None
    target: float | None
    status: str  # red, amber, green, info, no_data
    value_text: str = ""  # printed beside the last point, e.g. `52.5%`


def nice_step(span: float, ticks: int = 4) -> float:
    """A round tick step (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` intervals over `span`."""
    raw = span / ticks if span > 0 else 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def axis_range(numbers: Sequence[float], cap: float | None = None) -> tuple[float, float, float]:
    """(bottom, top, step) of a y axis that starts at zero (or below, for negatives) and holds every number."""
    low = min([0.0, *numbers])
    high = max([0.0, *numbers])
    if high == low:
        high = low + 1
    step = nice_step(high - low)
    top = math.ceil(high / step) * step
    if cap is not None and high <= cap < top:
        top = cap
    bottom = math.floor(low / step) * step
    return bottom, top, step


def tick_text(value: float, suffix: str) -> str:
    text = f"{value:,.0f}" if abs(value - round(value)) < 1e-9 else f"{value:,.1f}"
    return f"{text}{suffix}"


def _marker(status: str, x: float, y: float) -> str:
    view = STATUSES.get(status, STATUSES["no_data"])
    common = f'fill="{view.colour}" stroke="{INK}" stroke-width="0.8"'
    if status == "red":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" {common}/>'
    if status == "amber":
        return f'<path d="M {x:.1f} {y - 5:.1f} L {x + 5:.1f} {y + 4:.1f} L {x - 5:.1f} {y + 4:.1f} Z" {common}/>'
    if status == "green":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.2" {common}/>'
    if status == "part":  # ◐, a circle with its left half filled: a payment tier
        return (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.2" fill="#FFFFFF" stroke="{INK}" stroke-width="0.8"/>'
                f'<path d="M {x:.1f} {y - 4.2:.1f} A 4.2 4.2 0 0 0 {x:.1f} {y + 4.2:.1f} Z" fill="{view.colour}" '
                f'stroke="{INK}" stroke-width="0.8"/>')
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#FFFFFF" stroke="{INK}" stroke-width="0.8"/>'


def _text(x: float, y: float, text: str, *, size: float = 7.5, anchor: str = "middle", bold: bool = False) -> str:
    # Font and colour are inherited from the chart's <g>; a per-text font-weight="normal" makes WeasyPrint
    # look the font up again for every label (a third of the chart's rendering time). The label is placed by its
    # start, worked out from the font's widths: WeasyPrint draws a `middle` or `end` anchored text in a layer
    # (a PDF form XObject) of its own.
    shift = {"start": 0.0, "middle": 0.5, "end": 1.0}[anchor] * text_width(text, size, bold=bold)
    weight = ' font-weight="bold"' if bold else ""
    return f'<text x="{x - shift:.1f}" y="{y:.1f}" font-size="{size}"{weight}>{escape(text)}</text>'


def _labels(labels: Sequence[tuple[float, float, str, str]], *, size: float = 6.5) -> str:
    """Several small labels (x, y, text, anchor) as one `<text>` with a position for each letter: WeasyPrint sets
    an SVG text one letter at a time anyway, and each `<text>` costs it a graphics state of its own. A label's
    spaces are collapsed (the SVG's own rule), so each letter keeps its position."""
    xs: list[str] = []
    ys: list[str] = []
    texts: list[str] = []
    for x, y, text, anchor in labels:
        text = " ".join(text.split())
        left = x - {"start": 0.0, "middle": 0.5, "end": 1.0}[anchor] * text_width(text, size)
        for character in text:
            xs.append(f"{left:.1f}")
            ys.append(f"{y:.1f}")
            left += text_width(character, size)
        texts.append(text)
    if not texts:
        return ""
    return f'<text x="{" ".join(xs)}" y="{" ".join(ys)}" font-size="{size}">{escape("".join(texts))}</text>'


def trend_chart(points: Sequence[ChartPoint], *, title: str, suffix: str = "", cap: float | None = None) -> Markup:
    """An SVG chart of `points` (oldest first). `suffix` follows tick labels (`%`); `cap` keeps a percentage
    axis from running past 100."""
    numbers = [p.value for p in points if p.value is not None] + [p.target for p in points if p.target is not None]
    bottom, top, step = axis_range(numbers, cap)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    band = plot_w / max(len(points), 1)

    def x_of(index: int) -> float:
        return LEFT + band * (index + 0.5)

    def y_of(value: float) -> float:
        return TOP + plot_h * (1 - (value - bottom) / (top - bottom))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="trend" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img"><title>{escape(title)}</title>'
             f'<g font-family="{FONT}" fill="{INK}">']
    count = round((top - bottom) / step)
    grid = " ".join(f"M {LEFT} {y_of(bottom + n * step):.1f} H {WIDTH - RIGHT}" for n in range(count + 1))
    parts.append(f'<path d="{grid}" stroke="{GRID}" stroke-width="0.6" fill="none"/>')
    # Only the bottom and top of the axis are labelled: every SVG label costs WeasyPrint about a millisecond,
    # and the chart's own figures (value, target) are printed beside it.
    ends = [(LEFT - 4, y_of(value) + 2.5, tick_text(value, suffix), "end") for value in (bottom, top)]
    targets = [(x_of(i), y_of(p.target)) for i, p in enumerate(points) if p.target is not None]
    flat = bool(targets) and len({round(y, 2) for _, y in targets}) == 1  # one level: a line across the plot
    target_line = [(LEFT, targets[0][1]), (WIDTH - RIGHT, targets[0][1])] if flat else targets
    if flat:
        y = targets[0][1]
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{INK}" '
                     'stroke-width="1" stroke-dasharray="4 3"/>')
    elif targets:
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in targets)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{INK}" stroke-width="1" '
                     'stroke-dasharray="4 3"/>')
    trend = [[(x_of(i), y_of(value)) for i, value in run] for run in _runs(points)]
    for run in trend:
        if len(run) > 1:
            coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
            parts.append(f'<polyline points="{coords}" fill="none" stroke="#555555" stroke-width="1.4"/>')
    parts.append(_labels(ends + [(x_of(i), HEIGHT - 6, p.label, "middle") for i, p in enumerate(points)]))
    markers = [(x_of(i), y_of(p.value), p.status) for i, p in enumerate(points) if p.value is not None]
    parts.extend(_marker(status, x, y) for x, y, status in markers)
    last = len(points) - 1
    final = points[last].value if last >= 0 else None
    if final is not None and points[last].value_text:
        left, baseline = label_place((x_of(last), y_of(final)), points[last].value_text, [*trend, target_line],
                                     [(x, y) for x, y, _ in markers])
        parts.append(_text(left, baseline, points[last].value_text, anchor="start", bold=True))
    parts.append("</g></svg>")
    return Markup("".join(parts))


VALUE_SIZE = 7.5  # the latest value's label, bold
ASCENT, DESCENT = 0.76, 0.24  # of DejaVu Sans's figures, `%` and commas, in ems from the baseline
CLEARANCE = 1.5  # between a label and a line, in user units
MARKER = 5.0  # how far a status marker reaches from its point


def label_place(point: tuple[float, float], text: str, lines: Sequence[Sequence[tuple[float, float]]],
                markers: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Where the latest value's label starts, and its baseline: beside its marker, at the first of a few places
    (above, below, to the left) where it crosses no line (the trend, the dashed target) and covers no marker and
    stays inside the plot; else where it crosses fewest. A label printed on a line cannot be read."""
    x, y = point
    width = text_width(text, VALUE_SIZE, bold=True)
    up, down = VALUE_SIZE * ASCENT, VALUE_SIZE * DESCENT
    places = [(x + 5 - width, y - 7), (x + 5 - width, y + 6 + up), (x - 7 - width, y + up / 2),
              (x - width / 2, y - 7), (x - width / 2, y + 6 + up), (x + 5 - width, y - 14), (x + 5 - width, y + 13 + up)]
    best, fewest = places[0], math.inf
    for left, baseline in places:
        top, right, bottom = baseline - up, left + width, baseline + down
        if left < 1 or right > WIDTH - 1 or top < 1 or bottom > HEIGHT - BOTTOM:
            continue  # past the chart's edge, or among the period labels
        box = (left - CLEARANCE, top - CLEARANCE, right + CLEARANCE, bottom + CLEARANCE)
        crossed = sum(_crosses(a, b, box) for line in lines for a, b in zip(line, line[1:]))
        # A marker reaches MARKER from its point (the amber triangle's apex the furthest).
        crossed += sum(left - MARKER < mx < right + MARKER and top - MARKER < my < bottom + MARKER
                       for mx, my in markers)
        if crossed == 0:
            return left, baseline
        if crossed < fewest:
            best, fewest = (left, baseline), crossed
    return best


def _crosses(a: tuple[float, float], b: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
    """Does the segment from `a` to `b` pass through `box` (left, top, right, bottom)? Liang-Barsky clipping."""
    (x0, y0), (x1, y1) = a, b
    dx, dy = x1 - x0, y1 - y0
    low, high = 0.0, 1.0
    for p, q in ((-dx, x0 - box[0]), (dx, box[2] - x0), (-dy, y0 - box[1]), (dy, box[3] - y0)):
        if p == 0:
            if q < 0:
                return False  # parallel to this edge and outside it
            continue
        t = q / p
        if p < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low > high:
            return False
    return True


def _runs(points: Sequence[ChartPoint]) -> list[list[tuple[int, float]]]:
    """Indexes and values of consecutive points with a value: the line breaks where a period has no data."""
    runs: list[list[tuple[int, float]]] = [[]]
    for index, point in enumerate(points):
        if point.value is None:
            runs.append([])
        else:
            runs[-1].append((index, point.value))
    return [r for r in runs if r]
