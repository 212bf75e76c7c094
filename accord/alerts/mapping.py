"""Between CAP and the record core: status, scope/audience/TLP, dates and areas."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # shapely (and numpy) load on first use: every `accord` command imports this module
    from shapely.geometry.base import BaseGeometry

from accord.members import outlines
from accord.records.envelope import Audience

CAP_STATUS = {"actual": "Actual", "exercise": "Exercise", "test": "Test", "draft": "Draft"}
# CAP "System" messages are network housekeeping: never actual traffic.
RECORD_STATUS = {"Actual": "actual", "Exercise": "exercise", "Test": "test", "Draft": "draft", "System": "test"}
SEVERITIES = ("Extreme", "Severe", "Moderate", "Minor", "Unknown")
_TLP_IN_RESTRICTION = re.compile(r"TLP:(CLEAR|GREEN|AMBER\+STRICT|AMBER|RED)")
# Whitespace-separated tokens, each two non-empty parts around one comma (what a CAP polygon is made of).
_PAIRS = re.compile(r"\s*+[^\s,]++,[^\s,]++(?:\s++[^\s,]++,[^\s,]++)*+\s*+")


def cap_time(moment: datetime | None = None) -> str:
    """A CAP date: seconds precision and a numeric offset ("Z" is not allowed by CAP 1.2)."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def parse_cap_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def scope_for(audience: Audience, tlp: str) -> dict[str, Any]:
    """CAP scope, restriction and addresses that say what the audience and TLP say."""
    if audience.everyone and tlp == "CLEAR":
        return {"scope": "Public"}
    if audience.everyone:
        return {"scope": "Restricted", "restriction": f"TLP:{tlp} - accounts of the SCO members on Accord"}
    c = audience.canonical()
    addresses = c["members"] + [f"org:{o}" for o in c["organisations"]] + [f"person:{p}" for p in c["persons"]]
    return {"scope": "Private", "addresses": addresses, "note_tlp": f"TLP:{tlp}"}


def audience_for(cap: dict[str, Any], member_codes: set[str], home_member: str) -> tuple[Audience, str]:
    """The audience and TLP an imported CAP alert gets when the operator does not choose them.

    Public alerts are public. Anything else is kept to the importing member (TLP:AMBER), widened
    only to members that a Private alert addresses by code: nothing goes further than it said.
    """
    scope = cap.get("scope")
    if scope == "Public":
        return Audience(everyone=True), "CLEAR"
    if scope == "Private":
        named = sorted({a for a in cap.get("addresses", []) if a in member_codes} | {home_member})
        return Audience(members=named), "AMBER"
    match = _TLP_IN_RESTRICTION.search(str(cap.get("restriction", "")))
    if match and match.group(1) in ("CLEAR", "GREEN"):
        return Audience(everyone=True), match.group(1)
    return Audience(members=[home_member]), "AMBER"


def _polygon(text: str) -> BaseGeometry | None:
    from shapely.geometry import Polygon

    try:
        points = [tuple(float(v) for v in pair.split(",")) for pair in text.split()]
        ring = [(lon, lat) for lat, lon in points]
        if len(ring) < 4:
            return None
        return Polygon(ring)
    except (ValueError, TypeError):
        return None


def _circle(text: str) -> BaseGeometry | None:
    from shapely.geometry import Point, Polygon

    try:
        centre, radius = text.split()
        lat, lon = (float(v) for v in centre.split(","))
        km = float(radius)
    except ValueError:
        return None
    # Degrees of latitude are ~111 km; longitude shrinks with the cosine of latitude.
    if km <= 0:
        return Point(lon, lat)
    dy = km / 111.0
    dx = km / (111.0 * max(math.cos(math.radians(lat)), 0.01))
    return Polygon([(lon + dx * math.cos(t * math.pi / 32), lat + dy * math.sin(t * math.pi / 32)) for t in range(64)])


def _ring(text: str) -> list[tuple[float, float]] | None:
    """A CAP polygon's points as a closed ring of (lon, lat), as shapely's Polygon makes it; None when it is no
    polygon (as _polygon) or has a coordinate that is not finite (left to shapely)."""
    if _PAIRS.fullmatch(text):
        # Every token is one comma between two non-empty parts: the numbers, read in one pass, pair up as above.
        try:
            values = list(map(float, text.replace(",", " ").split()))
        except ValueError:
            return None
        ring = list(zip(values[1::2], values[0::2], strict=True))
    else:
        try:
            points = [tuple(float(v) for v in pair.split(",")) for pair in text.split()]
            ring = [(lon, lat) for lat, lon in points]
        except (ValueError, TypeError):
            return None
    if len(ring) < 4 or not all(math.isfinite(lon) and math.isfinite(lat) for lon, lat in ring):
        return None
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    return ring


def area_geometry(kind: str, text: str) -> dict[str, Any] | None:
    """The GeoJSON geometry of a CAP polygon ("lat,lon lat,lon ...") or circle ("lat,lon radius-km"), as an alert's
    areas are drawn; None when the text is neither."""
    found = _geometry(kind, text)
    return json_geometry(found[0]) if found is not None else None


def json_geometry(geometry: dict[str, Any]) -> dict[str, Any]:
    """A geometry with lists rather than tuples, as JSON reads back."""
    import json

    result: dict[str, Any] = json.loads(json.dumps(geometry))
    return result


def cap_polygon_text(geometry: dict[str, Any]) -> str | None:
    """A GeoJSON Polygon's outer ring as CAP polygon text (latitude,longitude pairs), when it is one; else None."""
    if geometry.get("type") != "Polygon" or not geometry.get("coordinates"):
        return None
    try:
        return " ".join(f"{float(lat):g},{float(lon):g}" for lon, lat, *_rest in geometry["coordinates"][0])
    except (TypeError, ValueError):
        return None


def _geometry(kind: str, text: str) -> tuple[dict[str, Any], tuple[float, float, float, float]] | None:
    """The GeoJSON geometry (as shapely.geometry.mapping writes it) and bounds of a CAP polygon or circle, computed
    directly for the usual finite ones (shapely costs more than the rest of the projection), else with shapely."""
    from shapely.geometry import mapping

    if kind == "polygon":
        ring = _ring(text)
        if ring is not None:
            lons = [lon for lon, _ in ring]
            lats = [lat for _, lat in ring]
            return {"type": "Polygon", "coordinates": (tuple(ring),)}, (min(lons), min(lats), max(lons), max(lats))
        shape = _polygon(text)
    else:
        shape = _circle(text)
    if shape is None or shape.is_empty:
        return None
    return dict(mapping(shape)), shape.bounds


def _region_areas(area: dict[str, Any], index: int) -> list[tuple[dict[str, Any], tuple[float, float, float, float]]]:
    """The features of an area's ISO 3166-2 geocodes that have a bundled region outline, with their bounds."""
    found = []
    for code in area.get("geocode", []) or []:
        if not isinstance(code, dict) or not outlines.is_region_code_name(str(code.get("valueName", ""))):
            continue
        region = outlines.region_geometry(str(code.get("value", "")))
        if region is None:
            continue
        geometry, box = region
        properties = {
            "areaDesc": area.get("areaDesc", ""),
            "info": index,
            "geocode": str(code["value"]).strip().upper(),
        }
        found.append(({"type": "Feature", "geometry": geometry, "properties": properties}, box))
    return found


def areas_of(cap: dict[str, Any]) -> tuple[list[dict[str, Any]], tuple[float, float, float, float] | None]:
    """GeoJSON features of every area of every info, and their bounding box (west, south, east, north): its polygons
    and circles, and the bundled outline of each first-level region it names by ISO 3166-2 geocode."""
    features: list[dict[str, Any]] = []
    bounds: list[tuple[float, float, float, float]] = []
    for index, info in enumerate(cap.get("info", [])):
        for area in info.get("area", []):
            for feature, box in _region_areas(area, index):
                features.append(feature)
                bounds.append(box)
            shapes = [("polygon", p) for p in area.get("polygon", [])] + [("circle", c) for c in area.get("circle", [])]
            for kind, text in shapes:
                found = _geometry(kind, text)
                if found is None:
                    continue
                geometry, box = found
                features.append(
                    {
                        "type": "Feature",
                        "geometry": geometry,
                        "properties": {"areaDesc": area.get("areaDesc", ""), "info": index},
                    }
                )
                bounds.append(box)
    if not bounds:
        return features, None
    return features, (
        min(b[0] for b in bounds),
        min(b[1] for b in bounds),
        max(b[2] for b in bounds),
        max(b[3] for b in bounds),
    )


def _areas_with_shapely(cap: dict[str, Any]) -> tuple[list[dict[str, Any]], tuple[float, float, float, float] | None]:
    """areas_of as it was written first, every shape through shapely (tests/alerts/test_bulk.py compares the two)."""
    from shapely.geometry import mapping

    features: list[dict[str, Any]] = []
    bounds: list[tuple[float, float, float, float]] = []
    for index, info in enumerate(cap.get("info", [])):
        for area in info.get("area", []):
            for feature, box in _region_areas(area, index):
                features.append(feature)
                bounds.append(box)
            shapes = [g for g in (_polygon(p) for p in area.get("polygon", [])) if g is not None]
            shapes += [g for g in (_circle(c) for c in area.get("circle", [])) if g is not None]
            for shape in shapes:
                if shape.is_empty:
                    continue
                features.append(
                    {
                        "type": "Feature",
                        "geometry": mapping(shape),
                        "properties": {"areaDesc": area.get("areaDesc", ""), "info": index},
                    }
                )
                bounds.append(shape.bounds)
    if not bounds:
        return features, None
    return features, (
        min(b[0] for b in bounds),
        min(b[1] for b in bounds),
        max(b[2] for b in bounds),
        max(b[3] for b in bounds),
    )


def worst_severity(cap: dict[str, Any]) -> str:
    found = {info.get("severity", "Unknown") for info in cap.get("info", [])}
    for severity in SEVERITIES:
        if severity in found:
            return severity
    return "Unknown"


def first_info(cap: dict[str, Any]) -> dict[str, Any]:
    infos = cap.get("info", [])
    return infos[0] if infos else {}


def info_in(cap: dict[str, Any], language: str) -> dict[str, Any]:
    """The info block in the reader's language (by its first two letters), else the English one (the working
    language), else the first one."""
    infos = [i for i in cap.get("info") or [] if isinstance(i, dict)]
    for prefix in (language[:2].lower(), "en"):
        for info in infos:
            if str(info.get("language", "en-US")).lower().startswith(prefix):
                return info
    return infos[0] if infos else {}
