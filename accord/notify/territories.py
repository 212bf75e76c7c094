"""A coarse territory for each seeded member: its bounding box, as a polygon (lon, lat).

Accord has no member geometry. A subscription "area member KZ" matches an alert whose areas
touch Kazakhstan's bounding box. Boxes overlap where borders are not straight (KZ's box covers
parts of RU, CN and UZ), so this errs on the side of notifying; a subscriber who needs exact
borders draws a polygon instead (`Subscription.area`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

# code: (west, south, east, north), from Natural Earth admin-0 extents, rounded outwards.
BOXES: dict[str, tuple[float, float, float, float]] = {
    "BY": (23.1, 51.2, 32.8, 56.2),
    "CN": (73.4, 18.1, 134.8, 53.6),
    "IN": (68.1, 6.7, 97.5, 35.7),
    "IR": (44.0, 25.0, 63.4, 39.8),
    "KG": (69.2, 39.1, 80.3, 43.3),
    "KZ": (46.4, 40.5, 87.4, 55.5),
    "PK": (60.8, 23.6, 77.9, 37.1),
    "RU": (19.6, 41.1, 180.0, 81.9),  # and Chukotka east of the antimeridian, left out
    "TJ": (67.3, 36.6, 75.2, 41.1),
    "UZ": (55.9, 37.1, 73.2, 45.6),
}


def territory(code: str) -> BaseGeometry | None:
    """The polygon of a member's territory, or None for a member without one (the Secretariat)."""
    from shapely.geometry import box

    bounds = BOXES.get(code.upper())
    return box(*bounds) if bounds is not None else None


def known(code: str) -> bool:
    return code.upper() in BOXES
