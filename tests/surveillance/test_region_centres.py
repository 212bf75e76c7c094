"""The coordinates of the reference data: every first-level region's administrative centre and every member's
capital lie in that member's outline (static/accord/members.geojson, Natural Earth, simplified to about 4 km), and
in no other member's."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from shapely.geometry import Point, shape

from accord.members.capitals import capital, capitals
from accord.members.seed import MEMBERS
from accord.surveillance import reference

OUTLINES = Path(settings.PACKAGE_DIR) / "static" / "accord" / "members.geojson"
# The outlines are simplified to about 4 km: a city on a coast or a border river (Vladivostok, Termez) may fall just
# outside its member's. 0.05 degrees is about 5 km.
TOLERANCE = 0.05


def _outlines() -> dict[str, object]:
    raw = json.loads(OUTLINES.read_text(encoding="utf-8"))
    return {str(f["properties"]["code"]): shape(f["geometry"]) for f in raw["features"]}


def _check(outlines: dict[str, object], member: str, lat: float, lon: float, what: str) -> None:
    spot = Point(lon, lat)
    own = outlines[member]
    assert own.contains(spot) or own.distance(spot) < TOLERANCE, f"{what} ({lat}, {lon}) is not in {member}"  # type: ignore[attr-defined]
    others = [code for code, outline in outlines.items() if code != member and outline.contains(spot)]  # type: ignore[attr-defined]
    assert not others, f"{what} ({lat}, {lon}) lies in {others}"


def test_every_region_has_its_centre_inside_its_member() -> None:
    outlines = _outlines()
    table = reference.regions()
    assert len(table) == 102
    near_the_edge = []
    for code, region in table.items():
        assert region.lat is not None and region.lon is not None and region.centre, code
        assert region.point == (region.lat, region.lon)
        assert round(region.lat, 2) == region.lat and round(region.lon, 2) == region.lon
        _check(outlines, region.member, region.lat, region.lon, f"{code} ({region.centre})")
        if not outlines[region.member].contains(Point(region.lon, region.lat)):  # type: ignore[attr-defined]
            near_the_edge.append(code)
    assert sorted(near_the_edge) == ["RU-PRI", "UZ-SU"]  # Vladivostok on its coast, Termez on the Amu Darya


def test_every_member_has_its_capital_inside_it() -> None:
    outlines = _outlines()
    codes = [code for code, *_ in MEMBERS]
    assert sorted(capitals()) == sorted(codes)
    for code in codes:
        found = capital(code)
        assert found is not None
        _check(outlines, "CN" if code == "SCO" else code, found.lat, found.lon, f"the capital of {code}")
    secretariat, beijing = capital("SCO"), capital("cn")
    assert secretariat is not None and beijing is not None and secretariat.point == beijing.point


def test_a_capital_city_region_is_at_its_capital() -> None:
    # The regions that are the capital cities themselves share the capital's coordinates: two files, one source.
    for region, member in [
        ("KZ-71", "KZ"),
        ("KG-GB", "KG"),
        ("TJ-DU", "TJ"),
        ("UZ-TK", "UZ"),
        ("BY-HM", "BY"),
        ("RU-MOW", "RU"),
        ("CN-BJ", "CN"),
        ("PK-IS", "PK"),
        ("IR-23", "IR"),
        ("IN-DL", "IN"),
    ]:
        found, home = reference.regions()[region], capital(member)
        assert home is not None and found.point == home.point, region


def test_a_member_as_a_whole_has_no_centre() -> None:
    whole = reference.find_region("KZ", {"KZ": ("Kazakhstan", "Казахстан", "哈萨克斯坦")})
    assert whole is not None and whole.whole_member and whole.point is None
