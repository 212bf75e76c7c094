"""The optional point of the request and deploy forms: two inputs, latitude and longitude in decimal degrees, both or
neither; and a point as the pages show it ("43.25, 76.95").

The form checks only what a browser may send wrong (not a number, out of range, one of the two without the other),
naming the field `point`. That the point lies in the territory of the region's member is the kinds' rule
(`assist_kinds.check_point`, on every write path); its refusal (`OutsideTerritory`) is said here in the reader's
language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext as _

from accord.response.assist_kinds import OutsideTerritory
from accord.surveillance import reference

FIELD = "point"
ANCHOR = "point_lat"  # where an error summary's link goes: the first of the two inputs
_NUMBER = re.compile(r"^[+-]?(\d{1,3}(\.\d{0,12})?|\.\d{1,12})$")


def degrees(value: float) -> str:
    """A coordinate as the signed body keeps it: at most 6 decimals, no trailing zeros ("43.25", "-0.5")."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def text(point: Any) -> str:
    """A point of `assist_queries.point_out` (or a body's) as a page shows it: "43.25, 76.95"; '' for none."""
    if not isinstance(point, dict):
        return ""
    try:
        return f"{degrees(float(point['lat']))}, {degrees(float(point['lon']))}"
    except (KeyError, TypeError, ValueError):
        return ""


def values(point: Any) -> dict[str, str]:
    """A point as the two inputs' values (to preset a form); empty when there is none."""
    if not isinstance(point, dict):
        return {"point_lat": "", "point_lon": ""}
    try:
        return {"point_lat": degrees(float(point["lat"])), "point_lon": degrees(float(point["lon"]))}
    except (KeyError, TypeError, ValueError):
        return {"point_lat": "", "point_lon": ""}


@dataclass
class Posted:
    lat: str  # as typed, shown again on an error
    lon: str
    point: dict[str, float] | None  # both given and valid
    error: str  # '' when fine


def _number(typed: str) -> float | None:
    """A decimal number as typed: a comma for the decimal point and a typographic minus are accepted."""
    cleaned = typed.replace("\u2212", "-").replace(" ", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    return float(cleaned) if _NUMBER.match(cleaned) else None


def from_post(data: QueryDict) -> Posted:
    lat, lon = data.get("point_lat", "").strip()[:30], data.get("point_lon", "").strip()[:30]
    if not lat and not lon:
        return Posted(lat, lon, None, "")
    if not lat or not lon:
        return Posted(lat, lon, None, _("Give both the latitude and the longitude of the point, or neither."))
    found_lat, found_lon = _number(lat), _number(lon)
    if found_lat is None or found_lon is None:
        message = _("Give the latitude and the longitude as decimal degrees, such as 43.25 and 76.95.")
        return Posted(lat, lon, None, message)
    if not (-90 <= found_lat <= 90 and -180 <= found_lon <= 180):
        message = _("The latitude is between -90 and 90 and the longitude between -180 and 180 (decimal degrees).")
        return Posted(lat, lon, None, message)
    return Posted(lat, lon, {"lat": found_lat, "lon": found_lon}, "")


def outside(error: OutsideTerritory) -> str:
    """The kinds' refusal of a point outside the region's member, in the reader's language."""
    region = reference.regions().get(error.region)
    named = {
        "point": f"{degrees(error.point[0])}, {degrees(error.point[1])}",
        "member": error.member,
        "region": f"{region.name} ({error.region})" if region is not None else error.region,
    }
    return (
        _(
            "The point %(point)s is not in %(member)s, where %(region)s is: check the latitude and the longitude "
            "(north and east are positive)."
        )
        % named
    )
