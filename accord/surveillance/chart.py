"""The series chart as inline SVG, drawn on the server: weekly counts as bars, the detector's threshold as a
line, alarms marked. Each week (a bar, or a mark for a missing count) carries `data-week` and its value as a <title>:
static/accord/chart.js reads them out when the keyboard steps through the chart; the numbers are also in the table
under the chart."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 760
HEIGHT = 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 36


@dataclass(frozen=True)
class Point:
    start: date
    label: str
    observed: int | None
    upperbound: float | None
    alarm: bool
    highlight: bool = False  # the week a signal is about


@dataclass(frozen=True)
class Labels:
    title: str
    observed: str
    threshold: str
    alarm: str
    missing: str


def _nice(top: float) -> float:
    """A round axis maximum at or above `top`."""
    if top <= 0:
        return 1.0
    exponent = 10 ** math.floor(math.log10(top))
    for step in (1, 2, 2.5, 5, 10):
        if step * exponent >= top:
            return float(step * exponent)
    return float(10 * exponent)


def _fmt(value: float) -> str:
    """A value of an axis, in the reader's language: its decimal mark and its grouping of thousands."""
    from django.utils.formats import number_format

    places = 0 if float(value).is_integer() else 1
    return str(number_format(round(value, places), decimal_pos=places, use_l10n=True, force_grouping=True))


def render(points: Sequence[Point], labels: Labels) -> SafeString:
    if not points:
        return mark_safe("")
    n = len(points)
    values = [p.observed or 0 for p in points] + [p.upperbound or 0 for p in points if p.upperbound is not None]
    top = _nice(max(values) * 1.1 if values else 1)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM
    step = plot_w / n
    bar = max(1.0, step * 0.72)

    def x(i: int) -> float:
        return LEFT + step * i + step / 2

    def y(v: float) -> float:
        return TOP + plot_h - (v / top) * plot_h

    out = [
        f'<svg class="series-chart" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="chart-title">{escape(labels.title)}</title>',
    ]
    for k in range(5):
        value = top * k / 4
        yy = y(value)
        out.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{yy:.1f}" y2="{yy:.1f}"/>')
        out.append(f'<text class="axis" x="{LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end">{_fmt(value)}</text>')
    every = max(1, math.ceil(n / 8))
    for i, p in enumerate(points):
        if p.highlight:
            out.append(
                f'<rect class="highlight" x="{x(i) - step / 2:.1f}" y="{TOP}" width="{step:.1f}" height="{plot_h}"/>'
            )
        if p.observed is None:
            out.append(
                f'<circle class="missing" data-week="{escape(p.label)}" cx="{x(i):.1f}" cy="{y(0) - 2:.1f}" r="1.5">'
                f"<title>{escape(p.label)}: {escape(labels.missing)}</title></circle>"
            )
        else:
            yy = y(p.observed)
            css = "bar alarm" if p.alarm else "bar"
            out.append(
                f'<rect class="{css}" data-week="{escape(p.label)}" x="{x(i) - bar / 2:.1f}" y="{yy:.1f}" '
                f'width="{bar:.1f}" height="{y(0) - yy:.1f}"><title>{escape(p.label)}: {p.observed}'
                + (f" ({escape(labels.threshold)} {_fmt(p.upperbound)})" if p.upperbound is not None else "")
                + "</title></rect>"
            )
        last = i == n - 1
        if last or (i % every == 0 and n - 1 - i > every // 2):
            anchor, at = ("end", x(i) + step / 2) if last and n > 1 else ("middle", x(i))
            out.append(
                f'<text class="axis" x="{at:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="{anchor}">'
                f"{escape(p.label)}</text>"
            )
    # The threshold, as line segments over the weeks that have one.
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, p in enumerate(points):
        if p.upperbound is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x(i):.1f},{y(min(p.upperbound, top)):.1f}")
    if segment:
        segments.append(segment)
    for part in segments:
        if len(part) == 1:
            cx, cy = part[0].split(",")
            out.append(f'<circle class="threshold-dot" cx="{cx}" cy="{cy}" r="2"/>')
        else:
            out.append(f'<polyline class="threshold" points="{" ".join(part)}"/>')
    for i, p in enumerate(points):
        if p.alarm and p.observed is not None:
            yy = y(p.observed) - 8
            out.append(
                f'<path class="alarm-mark" d="M{x(i):.1f},{yy + 5:.1f} l-5,-9 h10 z">'
                f"<title>{escape(labels.alarm)} {escape(p.label)}</title></path>"
            )
    out.append(f'<line class="axis-line" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}"/>')
    legend_y = HEIGHT - 6
    out.append(
        f'<g class="legend"><rect class="bar" x="{LEFT}" y="{legend_y - 9}" width="10" height="10"/>'
        f'<text x="{LEFT + 14}" y="{legend_y}">{escape(labels.observed)}</text>'
        f'<line class="threshold" x1="{LEFT + 150}" x2="{LEFT + 172}" y1="{legend_y - 4}" y2="{legend_y - 4}"/>'
        f'<text x="{LEFT + 176}" y="{legend_y}">{escape(labels.threshold)}</text>'
        f'<path class="alarm-mark" d="M{LEFT + 330},{legend_y + 1} l-5,-9 h10 z"/>'
        f'<text x="{LEFT + 340}" y="{legend_y}">{escape(labels.alarm)}</text></g>'
    )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308  (every text above is escaped)
