"""The map of the 3W page (who does what where), as inline SVG made on the server (no network, no script): the
member outlines bundled with Accord (static/accord/members.geojson, as `sitrep_svg` draws them), a numbered dot per
deployment at its point (else its region's administrative centre), and a dashed line from the providing member's
capital to it. The numbers are those of the table beside it, which is the map's text alternative.

The map is an equirectangular projection around the dots, its east-west scale shrunk by the cosine of the middle
latitude so that shapes look right at those latitudes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape
from shapely.geometry import box

from accord.response.sitrep_svg import _outlines

PAD_LON, PAD_LAT = 4.0, 3.0  # degrees around the dots and capitals
MIN_LON, MIN_LAT = 18.0, 11.0  # the smallest extent, so one dot is still shown in its surroundings
SPREAD = 9.0  # pixels between dots at one place


@dataclass(frozen=True)
class Dot:
    number: int  # the deployment's row in the table
    lat: float
    lon: float
    label: str  # what the dot's tooltip says
    origin: tuple[float, float] | None = None  # the providing member's capital (lat, lon)


@dataclass(frozen=True)
class _Frame:
    west: float
    north: float
    scale: float  # pixels per degree of latitude
    shrink: float  # cos(middle latitude)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return ((lon - self.west) * self.shrink * self.scale, (self.north - lat) * self.scale)


def _frame(points: Sequence[tuple[float, float]], width: int) -> tuple[_Frame, int, tuple[float, ...]]:
    lats = [p[0] for p in points]
    lons = [p[1] for p in points]
    south, north = min(lats) - PAD_LAT, max(lats) + PAD_LAT
    west, east = min(lons) - PAD_LON, max(lons) + PAD_LON
    if north - south < MIN_LAT:
        middle = (north + south) / 2
        south, north = middle - MIN_LAT / 2, middle + MIN_LAT / 2
    if east - west < MIN_LON:
        middle = (east + west) / 2
        west, east = middle - MIN_LON / 2, middle + MIN_LON / 2
    south, north = max(south, -85.0), min(north, 85.0)
    shrink = math.cos(math.radians((north + south) / 2))
    height = max(180, min(480, round(width * (north - south) / ((east - west) * shrink))))
    # Widen the shorter side so that the extent fills width x height at one scale.
    wanted_lon = (north - south) * width / (height * shrink)
    if wanted_lon > east - west:
        middle = (east + west) / 2
        west, east = middle - wanted_lon / 2, middle + wanted_lon / 2
    else:
        wanted_lat = (east - west) * shrink * height / width
        middle = (north + south) / 2
        south, north = middle - wanted_lat / 2, middle + wanted_lat / 2
    scale = height / (north - south)
    return _Frame(west, north, scale, shrink), height, (west, south, east, north)


def _polygons(geometry: Any) -> list[Any]:
    if geometry.is_empty:
        return []
    if geometry.geom_type == "Polygon":
        return [geometry]
    if hasattr(geometry, "geoms"):
        return [p for part in geometry.geoms for p in _polygons(part)]
    return []


def _spread(dots: Sequence[Dot], frame: _Frame) -> list[tuple[Dot, float, float]]:
    """Dots at one place are set around it in a small circle, so each stays visible."""
    groups: dict[tuple[int, int], list[Dot]] = {}
    for dot in dots:
        x, y = frame.xy(dot.lon, dot.lat)
        groups.setdefault((round(x), round(y)), []).append(dot)
    placed = []
    for group in groups.values():
        x, y = frame.xy(group[0].lon, group[0].lat)
        for index, dot in enumerate(group):
            if len(group) == 1:
                placed.append((dot, x, y))
                continue
            angle = 2 * math.pi * index / len(group)
            placed.append((dot, x + SPREAD * math.cos(angle), y + SPREAD * math.sin(angle)))
    return placed


def deployment_map(dots: Sequence[Dot], title: str, width: int = 640) -> str:
    """The outlines around the deployments, a numbered dot per deployment, a line from its provider's capital."""
    points = [(d.lat, d.lon) for d in dots] + [d.origin for d in dots if d.origin is not None]
    if not points:
        points = [(45.0, 75.0)]  # no deployment: Central Asia
    frame, height, extent = _frame(points, width)
    window = box(*extent)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" class="deployment-map"><title>{escape(title)}</title>'
        f'<rect width="{width}" height="{height}" fill="#eef3f7"/>'
    ]
    labels = []
    for code, geometry in _outlines():
        shown = _polygons(geometry.intersection(window)) if geometry.intersects(window) else []
        for polygon in shown:
            ring = " ".join("{:.1f},{:.1f}".format(*frame.xy(x, y)) for x, y in polygon.exterior.coords)
            out.append(f'<polygon points="{ring}" fill="#fafafa" stroke="#777" stroke-width="0.6"/>')
        if shown and max(p.area for p in shown) > 4:  # big enough to carry its code
            spot = max(shown, key=lambda p: p.area).representative_point()
            x, y = frame.xy(spot.x, spot.y)
            labels.append(
                f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" fill="#555" text-anchor="middle">{escape(code)}</text>'
            )
    out += labels
    placed = _spread(dots, frame)
    for dot, x, y in placed:
        if dot.origin is not None:
            ox, oy = frame.xy(dot.origin[1], dot.origin[0])
            out.append(
                f'<line class="route" x1="{ox:.1f}" y1="{oy:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="#2c6e9b" '
                'stroke-width="1.2" stroke-dasharray="4 3"/>'
                f'<rect class="capital" x="{ox - 3:.1f}" y="{oy - 3:.1f}" width="6" height="6" fill="#2c6e9b"/>'
            )
    for dot, x, y in placed:
        out.append(
            f'<g class="deployment" data-number="{dot.number}"><title>{escape(dot.label)}</title>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="7" fill="#a93226" stroke="#fff" stroke-width="1.5"/>'
            f'<text x="{x:.1f}" y="{y + 3.5:.1f}" font-size="9" font-weight="bold" fill="#fff" '
            f'text-anchor="middle">{dot.number}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)
