"""Where each member is measured from: the capital of each SCO member state and the seat of the Secretariat
(Beijing), from `data/capitals.json` (GeoNames coordinates, CC BY 4.0; see its "about").

Pure apart from reading the file once; no Django models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "capitals.json"


@dataclass(frozen=True)
class Capital:
    member: str  # the member code (ISO 3166-1 alpha-2, or "SCO")
    city: str  # English name
    lat: float  # WGS 84 degrees
    lon: float

    @property
    def point(self) -> tuple[float, float]:
        return (self.lat, self.lon)


@cache
def capitals() -> dict[str, Capital]:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    return {
        c["member"]: Capital(member=c["member"], city=c["city"], lat=float(c["lat"]), lon=float(c["lon"]))
        for c in raw["capitals"]
    }


def capital(member: str) -> Capital | None:
    return capitals().get(member.strip().upper())
