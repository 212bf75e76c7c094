"""The outline of each SCO member state, to tell whether a point lies in its territory: the outlines bundled with
Accord (`static/accord/members.geojson`: Natural Earth 1:50m admin-0, public domain, simplified to about 4 km; the
maps draw the same file). The Secretariat has none.

The outlines are simplified, so a point on a coast or a border river may fall just outside its member's: a point
within `TOLERANCE` degrees (0.05, about 5 km) of the outline counts as inside. Russia's outline runs east of the
antimeridian as longitudes above 180, so a longitude west of 0 is tried as itself and plus 360.

Reads the file once (about 80 kB, shapely geometries prepared for fast tests); no Django models.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

DATA = Path(__file__).resolve().parent.parent / "static" / "accord" / "members.geojson"
TOLERANCE = 0.05  # degrees: the simplification's few kilometres


@cache
def outlines() -> dict[str, BaseGeometry]:
    from shapely import prepare
    from shapely.geometry import shape

    raw = json.loads(DATA.read_text(encoding="utf-8"))
    found: dict[str, BaseGeometry] = {}
    for feature in raw["features"]:
        geometry = shape(feature["geometry"])
        prepare(geometry)
        found[str(feature["properties"]["code"]).upper()] = geometry
    return found


def known(member: str) -> bool:
    return member.strip().upper() in outlines()


def contains(member: str, lat: float, lon: float) -> bool | None:
    """Whether (lat, lon) in WGS 84 degrees lies in the member's territory (within `TOLERANCE`); None for a member
    without an outline."""
    from shapely.geometry import Point

    outline = outlines().get(member.strip().upper())
    if outline is None:
        return None
    for x in (lon, lon + 360) if lon < 0 else (lon,):
        spot = Point(x, lat)
        if outline.contains(spot) or outline.distance(spot) <= TOLERANCE:
            return True
    return False
