"""The total's history as SVG, drawn on the server.

A chart is markup the page carries: no script draws it, no font or library is fetched, so
it reads with JavaScript off, over Tor, from behind the Great Firewall, and under a
Content-Security-Policy without ``unsafe-inline`` (shapes carry presentation attributes
and classes of site.css, never a ``style``). Every label is text of the page's language;
every bar says its number, and each chart is drawn from the figures the open data
publishes (public/data.py), so a reader can check one against the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH = 640
ROW = 24  # a bar's height with its gap, in a ranked chart
LABEL_WIDTH = 170  # room for a province's name before the bars start
COUNT_ROOM = 90  # room after the longest bar for its number


@dataclass(frozen=True)
class Bar:
    key: str  # what the bar stands for, on the closed list (a region's code, a channel…)
    label: str  # its name in the page's language
    value: int


def ranked_bars(bars: Sequence[Bar], *, title: str, name: str) -> SafeString:
    """Horizontal bars, the largest first, each with its label and its number."""
    if not bars:
        return format_html('<p class="muted" data-chart="{}">–</p>', name)
    longest = max(bar.value for bar in bars) or 1
    room = WIDTH - LABEL_WIDTH - COUNT_ROOM
    height = ROW * len(bars) + 4
    rows = format_html_join(
        "\n",
        '<g class="bar" data-key="{}"><text x="{}" y="{}" text-anchor="end" class="label">'
        "{}</text>"
        '<rect x="{}" y="{}" width="{}" height="{}" class="fill"></rect>'
        '<text x="{}" y="{}" class="count" data-count="{}">{}</text></g>',
        (
            (
                bar.key,
                LABEL_WIDTH - 8,
                ROW * i + 17,
                bar.label,
                LABEL_WIDTH,
                ROW * i + 4,
                max(1, round(room * bar.value / longest)) if bar.value else 0,
                ROW - 6,
                LABEL_WIDTH + max(1, round(room * bar.value / longest)) + 6,
                ROW * i + 17,
                bar.value,
                intcomma(bar.value),
            )
            for i, bar in enumerate(bars)
        ),
    )
    return _svg(name=name, title=title, height=height, body=rows)


def total_over_time(points: Sequence[tuple[date, int]], *, title: str) -> SafeString:
    """The running total, a point a day that counted any (``points`` as the daily
    totals give them): a line from the first day to today, with its ends labelled."""
    name = "total-over-time"
    if not points:
        return format_html('<p class="muted" data-chart="{}">–</p>', name)
    running, total = [], 0
    for day, people in points:
        total += people
        running.append((day, total))
    first, last = running[0][0], running[-1][0]
    span = max((last - first).days, 1)
    height, top, bottom, left, right = 220, 20, 190, 10, WIDTH - 10
    highest = max(total for _, total in running) or 1

    def x(day: date) -> float:
        return round(left + (right - left) * (day - first).days / span, 1)

    def y(value: int) -> float:
        return round(bottom - (bottom - top) * value / highest, 1)

    line = " ".join(f"{x(day)},{y(value)}" for day, value in running)
    if len(running) == 1:  # one day: a flat line across, not an invisible point
        line = f"{left},{y(running[0][1])} {right},{y(running[0][1])}"
    body = format_html(
        '<polyline points="{}" class="line" fill="none"></polyline>'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="axis"></line>'
        '<text x="{}" y="{}" class="label">{}</text>'
        '<text x="{}" y="{}" text-anchor="end" class="label">{}</text>'
        '<text x="{}" y="{}" text-anchor="end" class="count" data-count="{}">{}</text>',
        line,
        left,
        bottom,
        right,
        bottom,
        left,
        height - 6,
        first.isoformat(),
        right,
        height - 6,
        last.isoformat(),
        right,
        top - 4,
        total,
        intcomma(total),
    )
    return _svg(name=name, title=title, height=height, body=body)


def per_day(points: Sequence[tuple[date, int]], *, title: str, days: int = 30) -> SafeString:
    """People counted on each of the last ``days`` days that counted any, a column each,
    with its number above it and its date below the first and the last."""
    name = "per-day"
    shown = list(points[-days:])
    if not shown:
        return format_html('<p class="muted" data-chart="{}">–</p>', name)
    height, top, bottom = 220, 24, 190
    step = WIDTH / len(shown)
    highest = max(people for _, people in shown) or 1
    columns = format_html_join(
        "\n",
        '<g class="bar" data-key="{}"><title>{}: {}</title>'
        '<rect x="{}" y="{}" width="{}" height="{}" class="fill"></rect>'
        '<text x="{}" y="{}" text-anchor="middle" class="count small" data-count="{}">'
        "{}</text></g>",
        (
            (
                day.isoformat(),
                day.isoformat(),
                intcomma(people),
                round(step * i + step * 0.1, 1),
                round(bottom - (bottom - top) * people / highest, 1),
                round(step * 0.8, 1),
                round((bottom - top) * people / highest, 1),
                round(step * i + step / 2, 1),
                round(bottom - (bottom - top) * people / highest - 4, 1),
                people,
                intcomma(people),
            )
            for i, (day, people) in enumerate(shown)
        ),
    )
    ends = format_html(
        '<text x="0" y="{}" class="label">{}</text>'
        '<text x="{}" y="{}" text-anchor="end" class="label">{}</text>',
        height - 6,
        shown[0][0].isoformat(),
        WIDTH,
        height - 6,
        shown[-1][0].isoformat(),
    )
    return _svg(name=name, title=title, height=height, body=columns + ends)


def _svg(*, name: str, title: str, height: int, body: SafeString) -> SafeString:
    return format_html(
        '<svg class="chart" data-chart="{}" viewBox="0 0 {} {}" role="img" '
        'aria-labelledby="chart-{}" xmlns="http://www.w3.org/2000/svg">'
        '<title id="chart-{}">{}</title>{}</svg>',
        name,
        WIDTH,
        height,
        name,
        name,
        title,
        body,
    )
