"""Where mutual assistance happens: the distances on the matching board (from the offering member's capital to the
request's point, else its region's administrative centre), checked against a great-circle distance computed here
independently of accord.lib.geo."""

from __future__ import annotations

import math
import re

from django.urls import reverse

from accord.records.envelope import Audience
from accord.records.models import Record
from accord.records.principal import Principal
from accord.response import assist_actions, assist_board
from tests.conftest import client_for
from tests.response.assist_support import open_incident, request
from tests.response.conftest import Api, People, measles, text_of

AUDIENCE = Audience(members=["KZ", "KG", "CN", "UZ", "SCO"])
BEIJING, TASHKENT = (39.91, 116.4), (41.26, 69.22)  # the capitals of CN and UZ (members/data/capitals.json)
ALMATY = (43.25, 76.91)  # a delivery point
KONAEV = (43.87, 77.06)  # the administrative centre of Almaty Region (KZ-19)


def _km(a: tuple[float, float], b: tuple[float, float]) -> int:
    """The spherical law of cosines on the same mean radius: another formula than the haversine under test."""
    p1, p2, dl = math.radians(a[0]), math.radians(b[0]), math.radians(b[1] - a[1])
    cosine = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return round(6371.0088 * math.acos(max(-1.0, min(1.0, cosine))))


def _two_offers(people: People, **point: dict[str, float]) -> tuple[object, str]:
    incident = measles(people, audience=AUDIENCE)
    wanted = assist_actions.create_request(
        incident.uuid,
        acting_user=people.world.carol,
        resource_type="pcr_tests",
        quantity=1000,
        needed_by="2026-05-10",
        region="KZ-19",
        **point,  # type: ignore[arg-type]
    )
    for who in (people.world.alice, people.umid):  # CN, then UZ: both fill the gap
        assist_actions.make_offer(wanted.record_uuid, acting_user=who, quantity=1000, available_from="2026-05-03")
    return incident, str(wanted.record_uuid)


def test_the_board_measures_from_the_capital_to_the_requests_point(people: People) -> None:
    incident, _ = _two_offers(people, point={"lat": ALMATY[0], "lon": ALMATY[1]})
    found = assist_board.board(Principal.of(people.world.carol), incident)  # type: ignore[arg-type]
    (row,) = found.rows
    assert row.delivery is not None and row.delivery.given and row.delivery.point == ALMATY
    by_member = {c.offer["member"]: c for c in row.candidates}
    assert by_member["CN"].distance_km == _km(BEIJING, ALMATY)
    assert 3250 < _km(BEIJING, ALMATY) < 3300  # Beijing to Almaty: about 3,275 km
    assert by_member["UZ"].distance_km == _km(TASHKENT, ALMATY)
    assert (by_member["CN"].from_city, by_member["UZ"].from_city) == ("Beijing", "Tashkent")
    # Both fill the gap, so the nearer (Tashkent) comes first, though Beijing offered first.
    assert [c.offer["member"] for c in row.candidates] == ["UZ", "CN"]

    page = text_of(client_for(people.world.carol).get(reverse("assist-board", args=[incident.uuid])))  # type: ignore[attr-defined]
    shown = re.findall(r'<tr class="candidate candidate-(\w+)">.*?data-km="(\d+)">([^<]*)</td>', page, re.S)
    assert [(m, int(km)) for m, km, _ in shown] == [("UZ", _km(TASHKENT, ALMATY)), ("CN", _km(BEIJING, ALMATY))]
    assert shown[1][2] == f"{_km(BEIJING, ALMATY):,} km"
    assert "Distances to the delivery point the request gives." in page


def test_without_a_point_the_board_measures_to_the_regions_centre(people: People) -> None:
    incident, _ = _two_offers(people)
    found = assist_board.board(Principal.of(people.world.carol), incident)  # type: ignore[arg-type]
    (row,) = found.rows
    assert row.delivery is not None and not row.delivery.given and row.delivery.centre == "Konaev"
    by_member = {c.offer["member"]: c.distance_km for c in row.candidates}
    assert by_member == {"CN": _km(BEIJING, KONAEV), "UZ": _km(TASHKENT, KONAEV)}
    page = text_of(client_for(people.world.carol).get(reverse("assist-board", args=[incident.uuid])))  # type: ignore[attr-defined]
    assert "Distances to the administrative centre of Almaty Region (KZ-19)." in page


def test_the_delivery_point() -> None:
    assert assist_board.delivery_point({"lat": 1.5, "lon": 2.5}, "KZ-19") == assist_board.Delivery(1.5, 2.5, True, "")
    assert assist_board.delivery_point({"lat": 95, "lon": 2.5}, "KZ-19") == assist_board.Delivery(
        *KONAEV, False, "Konaev"
    )
    assert assist_board.delivery_point(None, "KZ") is None  # a member as a whole has no centre
    assert assist_board.distance_from("XX", assist_board.delivery_point(None, "KZ-19")) is None
    assert assist_board.distance_from("SCO", assist_board.Delivery(*BEIJING, True, "")) == 0


def test_a_point_given_through_the_api_is_kept(people: People) -> None:
    # Signed records hold no floats: the point is kept as decimal strings and read back as numbers.
    carol = Api(people.world.carol)
    incident = open_incident(carol)
    made = request(carol, incident["id"], point={"lat": 43.25, "lon": 76.91}, region="KZ-19")
    assert made.status_code == 201, made.content
    shown = carol.get(f"/api/v1/requests/{made.json()['id']}").json()
    assert shown["point"] == {"lat": 43.25, "lon": 76.91}
    record = Record.objects.get(uuid=made.json()["id"])
    assert record.current_version.body["point"] == {"lat": "43.25", "lon": "76.91"}  # type: ignore[union-attr]
    refused = request(carol, incident["id"], point={"lat": 91, "lon": 76.91}, region="KZ-19")
    assert refused.status_code in (400, 422) and "lat" in refused.content.decode()
