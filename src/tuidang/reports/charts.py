"""Charts drawn on the server as SVG: no script, no font and no style attribute, so they
show from anywhere under the project's CSP. Text is the page's, in its language."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 48, 28, 40
INK, GRID, LINE = "#1f2933", "#d9dee3", "#b42318"
COLOURS = ("#9fb3c8", "#2f6f9f", "#d97706", "#5b8c5a")


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float]


def _nice_top(largest: float) -> float:
    """A round number at least ``largest``, for the top of the axis."""
    if largest <= 0:
        return 1
    step = 1.0
    while step * 10 <= largest:
        step *= 10
    for multiple in (1, 2, 5, 10):
        if step * multiple >= largest:
            return step * multiple
    return step * 10


def _svg(fmt: str, *args: object) -> SafeString:
    """``format_html`` with coordinates written to a tenth (it escapes numbers to text
    before formatting, so a format spec cannot be used)."""
    return format_html(fmt, *(f"{a:.1f}" if isinstance(a, float) else a for a in args))


def _number(value: float) -> str:
    return f"{value:,.0f}" if value >= 1 or value == 0 else f"{value:.2f}"


def _legend(entries: list[tuple[str, str]]) -> SafeString:
    x = LEFT
    parts = []
    for colour, name in entries:
        parts.append(
            _svg(
                '<rect x="{}" y="8" width="10" height="10" fill="{}"/>'
                '<text x="{}" y="17" font-size="12" fill="{}">{}</text>',
                x,
                colour,
                x + 14,
                INK,
                name,
            )
        )
        x += 24 + 7 * len(name)
    return format_html_join("", "{}", ((part,) for part in parts))


def columns(
    *,
    title: str,
    labels: Sequence[str],
    bars: Sequence[Series],
    line: Series | None = None,
    testid: str = "",
) -> SafeString:
    """Grouped columns per label on a left axis, and an optional share (0 to 1) drawn as a
    line on a right axis in percent."""
    count = max(len(labels), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_top(max((v for s in bars for v in s.values), default=0))
    slot = plot_w / count
    bar_w = max(slot * 0.8 / max(len(bars), 1), 0.5)
    shapes: list[SafeString] = []
    for tick in range(5):
        value = top * tick / 4
        y = TOP + plot_h - plot_h * tick / 4
        shapes.append(
            _svg(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>'
                '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="{}">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                y,
                y,
                GRID,
                LEFT - 4,
                y + 4,
                INK,
                _number(value),
            )
        )
        if line is not None:
            shapes.append(
                _svg(
                    '<text x="{}" y="{}" font-size="11" fill="{}">{}%</text>',
                    WIDTH - RIGHT + 4,
                    y + 4,
                    LINE,
                    25 * tick,
                )
            )
    every = max(1, round(count / 12))
    for index, label in enumerate(labels):
        x0 = LEFT + slot * index + slot * 0.1
        for number, series in enumerate(bars):
            value = series.values[index]
            height = plot_h * value / top
            shapes.append(
                _svg(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{} · {}: {}</title></rect>",
                    x0 + bar_w * number,
                    TOP + plot_h - height,
                    bar_w,
                    height,
                    COLOURS[number % len(COLOURS)],
                    label,
                    series.name,
                    _number(value),
                )
            )
        if index % every == 0:
            shapes.append(
                _svg(
                    '<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="{}">{}</text>',
                    LEFT + slot * (index + 0.5),
                    HEIGHT - BOTTOM + 16,
                    INK,
                    label,
                )
            )
    legend = [(COLOURS[n % len(COLOURS)], s.name) for n, s in enumerate(bars)]
    if line is not None:
        points = " ".join(
            f"{LEFT + slot * (i + 0.5):.1f},{TOP + plot_h - plot_h * v:.1f}"
            for i, v in enumerate(line.values)
        )
        shapes.append(
            _svg('<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>', points, LINE)
        )
        legend.append((LINE, line.name))
    return _svg(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" '
        'class="chart" data-testid="{}" font-family="sans-serif"><title>{}</title>{}{}</svg>',
        WIDTH,
        HEIGHT,
        testid,
        title,
        _legend(legend),
        format_html_join("", "{}", ((shape,) for shape in shapes)),
    )


def shares(*, title: str, parts: Sequence[tuple[str, float]], testid: str = "") -> SafeString:
    """Horizontal bars, one per part, with each part's share of the whole."""
    whole = sum(value for _, value in parts) or 1
    row_h = 26
    height = TOP + row_h * max(len(parts), 1) + 8
    label_w = 160
    plot_w = WIDTH - label_w - 80
    rows = []
    for index, (name, value) in enumerate(parts):
        y = TOP + row_h * index
        width = plot_w * value / whole
        rows.append(
            _svg(
                '<text x="{}" y="{}" font-size="12" text-anchor="end" fill="{}">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="16" fill="{}"/>'
                '<text x="{}" y="{}" font-size="12" fill="{}">{} · {}%</text>',
                label_w - 6,
                y + 13,
                INK,
                name,
                label_w,
                y,
                width,
                COLOURS[(index + 1) % len(COLOURS)],
                label_w + width + 6,
                y + 13,
                INK,
                _number(value),
                round(100 * value / whole),
            )
        )
    return _svg(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" '
        'class="chart" data-testid="{}" font-family="sans-serif"><title>{}</title>{}</svg>',
        WIDTH,
        height,
        testid,
        title,
        format_html_join("", "{}", ((row,) for row in rows)),
    )
