"""The outline of each SCO member state, to tell whether a point lies in its territory: the outlines bundled with
Accord (`static/accord/members.geojson`: Natural Earth 1:50m admin-0, public domain, simplified to about 4 km; the
maps draw the same file). The Secretariat has none.

The outlines are simplified, so a point on a coast or a border river may fall just outside its member's: a point
within `TOLERANCE` degrees (0.05, about 5 km) of the outline counts as inside. Russia's outline runs east of the
antimeridian as longitudes above 180, so a longitude west of 0 is tried as itself and plus 360.

The outlines of the members' first-level regions are bundled too (`static/accord/regions.geojson`: Natural Earth
1:10m admin-1, public domain, simplified to about 4 km, made by scripts/make_region_outlines.py), under their ISO
3166-2 codes: `region_geometry` gives one as GeoJSON, as an alert's area named by that code is drawn and matched.
Regions whose borders changed after Natural Earth's survey have none (the file's `left_out` says why).

Reads each file once, on first use (shapely geometries prepared for fast tests); no Django models.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

DATA = Path(__file__).resolve().parent.parent / "static" / "accord" / "members.geojson"
REGION_DATA = DATA.parent / "regions.geojson"
# How CAP names an ISO 3166-2 code in a <geocode>'s valueName: "ISO3166-2" (also read with a space or in lower case).
REGION_CODE_NAME = "ISO3166-2"
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


def is_region_code_name(value_name: str) -> bool:
    """Whether a CAP geocode's valueName says its value is an ISO 3166-2 code."""
    return value_name.replace(" ", "").upper() == REGION_CODE_NAME


@cache
def _regions() -> dict[str, tuple[dict[str, Any], tuple[float, float, float, float]]]:
    from shapely.geometry import shape

    raw = json.loads(REGION_DATA.read_text(encoding="utf-8"))
    return {str(f["properties"]["code"]).upper(): (f["geometry"], shape(f["geometry"]).bounds) for f in raw["features"]}


def region_codes() -> frozenset[str]:
    """The ISO 3166-2 codes of the regions with a bundled outline."""
    return frozenset(_regions())


def region_geometry(code: str) -> tuple[dict[str, Any], tuple[float, float, float, float]] | None:
    """The bundled outline of a first-level region, by its ISO 3166-2 code: a GeoJSON geometry (a copy, the caller's
    to keep) and its bounds (west, south, east, north); None for a region without one."""
    found = _regions().get(code.strip().upper())
    if found is None:
        return None
    geometry, bounds = found
    copied: dict[str, Any] = json.loads(json.dumps(geometry))
    return copied, bounds


def region_of_geometry(geometry: dict[str, Any]) -> str | None:
    """The code of the region whose bundled outline `geometry` is (a subscription's area chosen as a region)."""
    shape_type, coordinates = geometry.get("type"), geometry.get("coordinates")
    for code, (outline, _bounds) in _regions().items():
        if outline["type"] == shape_type and outline["coordinates"] == coordinates:
            return code
    return None
