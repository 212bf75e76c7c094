"""The bundled outlines of the members' first-level regions (static/accord/regions.geojson): each is the region its
code names (its administrative centre lies in it, it lies in its member), every listed region has one or a reason,
and alerts that name a region by ISO 3166-2 code are drawn and matched by it."""

from __future__ import annotations

import gzip
import json

import pytest
from shapely.geometry import Point, shape

from accord.alerts import mapping
from accord.members import outlines
from accord.surveillance import reference
from tests.alerts.support import cap, info

# Regions whose administrative centre is a city that is a region of its own (so the centre lies in that one).
CENTRE_IN_ANOTHER = {"BY-MI": "BY-HM", "KG-C": "KG-GB", "TJ-RA": "TJ-DU"}
# Cities left out, which Natural Earth counts in the region around them.
INSIDE_ANOTHER = {"KG-GO": "KG-O", "KZ-79": "KZ-61"}


def _data() -> dict[str, object]:
    loaded: dict[str, object] = json.loads(outlines.REGION_DATA.read_text(encoding="utf-8"))
    return loaded


def test_every_listed_region_has_an_outline_or_a_reason() -> None:
    listed = {code for code, region in reference.regions().items() if not region.whole_member}
    left_out = _data()["left_out"]
    assert isinstance(left_out, dict)
    assert outlines.region_codes() | set(left_out) == listed
    assert not outlines.region_codes() & set(left_out)
    assert len(outlines.region_codes()) >= 90


def test_each_outline_is_valid_and_holds_its_own_centre_and_no_other() -> None:
    shapes = {code: shape(outlines.region_geometry(code)[0]) for code in outlines.region_codes()}  # type: ignore[index]
    member_shapes = outlines.outlines()
    for code, region in reference.regions().items():
        if region.whole_member or region.point is None:
            continue
        lat, lon = region.point
        centre = Point(lon, lat)
        holding = {other for other, outline in shapes.items() if outline.contains(centre)}
        if code in CENTRE_IN_ANOTHER:
            assert holding == {CENTRE_IN_ANOTHER[code]}, f"{code}'s centre lies in {holding}"
        elif code in shapes:
            # Within the simplification's few kilometres (Chandigarh, Punjab's capital, lies just outside it).
            assert shapes[code].distance(centre) <= 0.06, f"{code}'s centre is outside its outline"
            assert holding <= {code}, f"{code}'s centre lies in {holding}"
        else:  # left out: its centre lies in no outline, or (a city) in the region around it
            expected = {INSIDE_ANOTHER[code]} if code in INSIDE_ANOTHER else set()
            assert holding == expected, f"{code}'s centre lies in {holding}, not {expected}"
    for code, outline in shapes.items():
        assert outline.is_valid and not outline.is_empty, code
        # The region lies in its member: most of its area (both are simplified, and the coast of a small region such
        # as Shanghai differs most: 73 %), and no other member's.
        member = code.split("-")[0]
        assert outline.intersection(member_shapes[member]).area >= 0.7 * outline.area, f"{code} is not in {member}"
        for other, territory in member_shapes.items():
            if other != member:
                assert outline.intersection(territory).area <= 0.05 * outline.area, f"{code} lies in {other}"


def test_the_file_stays_small_enough_to_load_on_a_map_page() -> None:
    raw = outlines.REGION_DATA.read_bytes()
    assert len(gzip.compress(raw)) < 100_000, "regions.geojson compressed: keep it under 100 kB"


def test_moscow_and_iran_are_matched_by_name_not_by_natural_earths_codes() -> None:
    # Natural Earth swaps Moscow's and Moscow Oblast's codes, and keeps Iran's codes of before 2020.
    moscow = shape(outlines.region_geometry("RU-MOW")[0])  # type: ignore[index]
    assert moscow.area < 0.6 and moscow.contains(Point(37.62, 55.75))
    isfahan = shape(outlines.region_geometry("IR-10")[0])  # type: ignore[index]
    assert isfahan.contains(Point(51.67, 32.65)) and not isfahan.contains(Point(48.67, 31.32))  # not Ahvaz


def test_an_alert_naming_a_region_is_drawn_with_its_outline() -> None:
    message = cap(info())
    area = message["info"][0]["area"][0]
    area["geocode"] = [
        {"valueName": "ISO3166-2", "value": "KZ-75"},
        {"valueName": "ISO 3166-2", "value": "kz-71"},  # read with a space and in lower case too
        {"valueName": "ISO3166-2", "value": "KZ-62"},  # left out: no outline
        {"valueName": "SAME", "value": "006113"},  # another scheme: not a region
    ]
    features, bbox = mapping.areas_of(message)
    geocodes = [f["properties"].get("geocode") for f in features]
    assert geocodes == ["KZ-75", "KZ-71", None]  # the two regions, then the polygon
    assert features[0]["geometry"] == outlines.region_geometry("KZ-75")[0]  # type: ignore[index]
    assert shape(features[0]["geometry"]).contains(Point(76.95, 43.25))  # Almaty
    assert bbox is not None and bbox[3] > 51  # Astana, at 51.2 N, is in the bounding box
    assert mapping.areas_of(message) == mapping._areas_with_shapely(message)
    # A copy each time: changing one does not change the next.
    features[0]["geometry"]["coordinates"] = []
    assert mapping.areas_of(message)[0][0]["geometry"]["coordinates"]


@pytest.mark.parametrize("code", ["", "KZ", "XX-99", "KZ-75 ", "<KZ-75>"])
def test_an_unknown_or_odd_code_draws_nothing(code: str) -> None:
    message = cap(info())
    message["info"][0]["area"][0] = {"areaDesc": "somewhere", "geocode": [{"valueName": "ISO3166-2", "value": code}]}
    features, _ = mapping.areas_of(message)
    if code.strip() == "KZ-75":
        assert [f["properties"]["geocode"] for f in features] == ["KZ-75"]
    else:
        assert features == []
