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
from accord.response import assist_actions, assist_board, assist_deploy
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


# ---- the 3W page ------------------------------------------------------------------------------------------------


def _deployed(people: People) -> tuple[Record, dict[str, str]]:
    """Three deployments on carol's incident: CN's and UZ's PCR tests (a request all five may see; CN's at a point in
    Almaty, UZ's at its region's centre), and CN's respirators for a request only KZ, CN and the Secretariat see."""
    carol, alice, umid = people.world.carol, people.world.alice, people.umid
    incident = measles(people, audience=AUDIENCE)
    tests = assist_actions.create_request(
        incident.uuid,
        acting_user=carol,
        resource_type="pcr_tests",
        quantity=1000,
        needed_by="2026-05-10",
        region="KZ-19",
    )
    masks = assist_actions.create_request(
        incident.uuid,
        acting_user=carol,
        resource_type="ppe_respirators",
        quantity=500,
        needed_by="2026-05-10",
        region="KZ-71",
        audience=Audience(members=["KZ", "CN", "SCO"]),
    )
    made = {}
    for name, who, wanted, quantity in [
        ("cn-tests", alice, tests, 600),
        ("uz-tests", umid, tests, 400),
        ("cn-masks", alice, masks, 500),
    ]:
        offered = assist_actions.make_offer(wanted.record_uuid, acting_user=who, quantity=quantity)
        assist_actions.accept(offered.record_uuid, acting_user=carol, quantity=quantity)
        made[name] = str(offered.record_uuid)
    contact = {"name": "Logistics desk", "phone": "+86 10 0000 0000", "email": "desk@example.org"}
    cn_tests = assist_deploy.deploy(
        made["cn-tests"],
        acting_user=alice,
        quantity=600,
        contact=contact,
        location={"region": "KZ-19", "point": {"lat": ALMATY[0], "lon": ALMATY[1]}, "place": "City laboratory"},
        status="in_transit",
    )
    assist_deploy.report_status(cn_tests.record_uuid, acting_user=alice, status="arrived", delivered=600)
    uz_tests = assist_deploy.deploy(
        made["uz-tests"], acting_user=umid, quantity=400, contact={"name": "UZ desk"}, location={"region": "KZ-19"}
    )
    cn_masks = assist_deploy.deploy(
        made["cn-masks"], acting_user=alice, quantity=500, contact=contact, location={"region": "KZ-71"}
    )
    ids = {"cn-tests": cn_tests, "uz-tests": uz_tests, "cn-masks": cn_masks}
    return incident, {name: str(v.record_uuid) for name, v in ids.items()}


def _dots(page: str) -> list[str]:
    return re.findall(r'<g class="deployment" data-number="(\d+)">', page)


def test_the_3w_page_lists_and_maps_what_the_reader_may_see(people: People) -> None:
    incident, ids = _deployed(people)
    url = reverse("assist-deployments", args=[incident.uuid])
    board = text_of(client_for(people.world.carol).get(reverse("assist-board", args=[incident.uuid])))
    assert f'href="{url}"' in board

    page = text_of(client_for(people.world.alice).get(url))
    assert page.count('<tr class="deployment ') == 3 and _dots(page) == ["1", "2", "3"]
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page and 'role="img"' in page and "<title>Map of the" in page
    assert f'href="/api/v1/incidents/{incident.uuid}/deployments.csv"' in page
    row = re.search(rf'<tr class="deployment deployment-CN" id="deployment-{ids["cn-tests"]}">(.*?)</tr>', page, re.S)
    assert row is not None
    cells = [re.sub(r"<[^>]+>", " ", c).split() for c in re.findall(r"<td>(.*?)</td>", row.group(1), re.S)]
    assert cells[1][-1] == "(CN)" and " ".join(cells[2]) == "PCR tests" and cells[3] == ["600", "tests"]
    assert cells[4] == ["600", "tests"] and cells[5] == ["Arrived"]
    assert " ".join(cells[6]) == "Almaty Region (KZ-19) City laboratory"
    assert cells[7][0] == "Arrival:"  # filled by the report of its arrival
    assert "Logistics desk" in " ".join(cells[8]) and "desk@example.org" in cells[8]

    # UZ is in the incident's audience but not in the respirators request's: two deployments, two dots.
    seen_by_uz = text_of(client_for(people.umid).get(url))
    assert ids["cn-masks"] not in seen_by_uz and ids["cn-tests"] in seen_by_uz and ids["uz-tests"] in seen_by_uz
    assert _dots(seen_by_uz) == ["1", "2"] and "Respirators" not in seen_by_uz
    # IN is outside the incident's audience: the page does not exist for it.
    assert client_for(people.ivan).get(url).status_code == 404

    # The status filter, and an unknown status named on its field.
    arrived = text_of(client_for(people.world.alice).get(url, {"status": "arrived"}))
    assert ids["cn-tests"] in arrived and ids["uz-tests"] not in arrived and _dots(arrived) == ["1"]
    assert "No deployment in this status." in text_of(client_for(people.world.alice).get(url, {"status": "returned"}))
    refused = client_for(people.world.alice).get(url, {"status": "lost"})
    assert refused.status_code == 400
    shown = text_of(refused)
    assert 'id="status-error"' in shown and 'href="#status"' in shown and 'aria-invalid="true"' in shown


def test_the_3w_page_in_russian(people: People) -> None:
    incident, _ = _deployed(people)
    reader = client_for(people.world.alice)
    reader.cookies["django_language"] = "ru"
    page = text_of(reader.get(reverse("assist-deployments", args=[incident.uuid])))
    assert "Кто что где" in page and "Прибыл" in page and "ПЦР" in page
