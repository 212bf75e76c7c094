"""Drawings of the printable consolidated report, as inline SVG made on the server (no network, no script): an
epidemic curve per member and the map of the affected members.

The map draws the member outlines bundled with Accord (static/accord/members.geojson, from Natural Earth); the
first-level regions have no outlines bundled, so the affected regions are named in a table beside it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.html import escape
from shapely.geometry import shape

OUTLINES = Path(settings.PACKAGE_DIR) / "static" / "accord" / "members.geojson"


def _nice(top: float) -> int:
    if top <= 1:
        return 1
    exponent = 10 ** math.floor(math.log10(top))
    for step in (1, 2, 5, 10):
        if step * exponent >= top:
            return int(step * exponent)
    return int(10 * exponent)


def curve(points: Sequence[tuple[date, int | None]], title: str, width: int = 520, height: int = 120) -> str:
    """Bars of new cases by period end; a period with no report is a small mark on the axis."""
    left, bottom, top_pad = 36, 18, 6
    plot_w, plot_h = width - left - 4, height - bottom - top_pad
    top = _nice(max([v or 0 for _, v in points] + [1]))
    n = max(1, len(points))
    step = plot_w / n
    bar = max(1.0, step * 0.8)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img"><title>{escape(title)}</title>',
        f'<line x1="{left}" x2="{width - 4}" y1="{top_pad + plot_h}" y2="{top_pad + plot_h}" stroke="#555"/>',
        f'<text x="{left - 4}" y="{top_pad + 8}" font-size="8" text-anchor="end">{top}</text>',
        f'<text x="{left - 4}" y="{top_pad + plot_h}" font-size="8" text-anchor="end">0</text>',
    ]
    for i, (day, value) in enumerate(points):
        x = left + i * step + (step - bar) / 2
        if value is None:
            out.append(f'<rect x="{x:.1f}" y="{top_pad + plot_h - 1}" width="{bar:.1f}" height="2" fill="#c0392b"/>')
            continue
        h = plot_h * value / top
        out.append(
            f'<rect x="{x:.1f}" y="{top_pad + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="#2c6e9b">'
            f"<title>{day.isoformat()}: {value}</title></rect>"
        )
    if points:
        for i in sorted({0, len(points) - 1}):
            x = left + i * step + step / 2
            anchor = "start" if i == 0 else "end"
            out.append(
                f'<text x="{x:.1f}" y="{height - 4}" font-size="8" text-anchor="{anchor}">'
                f"{points[i][0].isoformat()}</text>"
            )
    out.append("</svg>")
    return "".join(out)


@cache
def _outlines() -> list[tuple[str, Any]]:
    raw = json.loads(OUTLINES.read_text(encoding="utf-8"))
    return [(str(f["properties"]["code"]), shape(f["geometry"])) for f in raw["features"]]


def _rings(geometry: Any) -> list[Sequence[tuple[float, float]]]:
    polygons = list(geometry.geoms) if geometry.geom_type == "MultiPolygon" else [geometry]
    return [list(p.exterior.coords) for p in polygons]


def member_map(shades: dict[str, int], title: str, width: int = 520, height: int = 300) -> str:
    """The member outlines, the affected ones shaded by their cumulative cases (darker: more), labelled."""
    outlines = _outlines()
    affected = [(code, geom) for code, geom in outlines if code in shades] or outlines
    xs = [c for _, g in affected for c in (g.bounds[0], g.bounds[2])]
    ys = [c for _, g in affected for c in (g.bounds[1], g.bounds[3])]
    west, east, south, north = min(xs) - 4, max(xs) + 4, min(ys) - 3, max(ys) + 3
    scale = min(width / (east - west), height / (north - south))

    def point(lon: float, lat: float) -> str:
        return f"{(lon - west) * scale:.1f},{(north - lat) * scale:.1f}"

    most = max([*shades.values(), 1])
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img"><title>{escape(title)}</title><rect width="{width}" height="{height}" fill="#eef3f7"/>'
    ]
    labels = []
    for code, geometry in outlines:
        if code in shades:
            strength = 0.25 + 0.65 * (shades[code] / most)
            fill = f"rgba(192,57,43,{strength:.2f})"
        else:
            fill = "#fafafa"
        for ring in _rings(geometry):
            out.append(
                f'<polygon points="{" ".join(point(x, y) for x, y in ring)}" fill="{fill}" stroke="#777" '
                'stroke-width="0.6"/>'
            )
        if code in shades:
            spot = geometry.representative_point()
            labels.append(
                f'<text x="{point(spot.x, spot.y).split(",")[0]}" y="{point(spot.x, spot.y).split(",")[1]}" '
                f'font-size="10" font-weight="bold" text-anchor="middle">{escape(code)}</text>'
            )
    out += labels
    out.append("</svg>")
    return "".join(out)
