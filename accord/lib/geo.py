"""Great-circle distance on the Earth (pure; no domain app, no network).

`distance_km(a, b)` is the haversine formula on a sphere of the IUGG mean Earth radius (6371.0088 km), for points
given as (latitude, longitude) in WGS 84 degrees. The sphere differs from the ellipsoid by up to about 0.5 %, well
below what a distance shown to the kilometre for planning assistance needs.
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius R1 = (2a + b) / 3 of WGS 84

LatLon = tuple[float, float]


def valid(point: LatLon) -> bool:
    lat, lon = point
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def distance_km(a: LatLon, b: LatLon) -> float:
    """The great-circle distance between two points (latitude, longitude in degrees), in kilometres."""
    if not (valid(a) and valid(b)):
        raise ValueError(f"not a point in degrees (latitude -90..90, longitude -180..180): {a!r}, {b!r}")
    lat1, lon1 = math.radians(a[0]), math.radians(a[1])
    lat2, lon2 = math.radians(b[0]), math.radians(b[1])
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    # min() keeps rounding from pushing h past 1 for antipodal points.
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
