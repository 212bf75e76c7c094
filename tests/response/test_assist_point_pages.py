"""The optional point of the request and deploy forms (Django test client): latitude and longitude in decimal
degrees, both or neither, each wrong input named on the field `point` with nothing stored; a point outside the
territory of the region's member refused by the kinds' rule (on the form, and through the actions and the API too);
the point shown on the request and deployment pages and preset on the deploy form. And the request page's
commitments and deployments of a withdrawn offer, counted as the ledger counts them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from accord.members import outlines
from accord.records.envelope import Audience
from accord.records.errors import ActionError
from accord.records.models import Record
from accord.response import assist_actions, assist_deploy
from accord.response.assist_kinds import OutsideTerritory
from accord.response.assist_models import AssistanceOfferView
from tests.conftest import client_for
from tests.response.assist_support import page_ledger
from tests.response.conftest import People, measles, text_of

AUDIENCE = Audience(members=["KZ", "KG", "CN", "UZ", "SCO"])
TURKISTAN = ("43.3", "68.25")  # the administrative centre of KZ-61
BEIJING = ("39.9", "116.4")


def _request_form(**changes: str) -> dict[str, str]:
    data = {
        "resource_type": "pcr_tests",
        "detail": "measles virus",
        "quantity": "10000",
        "needed_by": "2026-05-10",
        "region": "KZ-61",
        "priority": "high",
        "audience": "incident",
    }
    data.update(changes)
    return data


DEPLOY = {
    "quantity": "6000",
    "contact_name": "Wang Li",
    "region": "KZ-61",
    "place": "Regional reference laboratory",
    "status": "mobilising",
}


def _sums(page: str, offer: str) -> dict[str, str]:
    part = page.split(f'id="deploy-{offer}"', 1)[1].split("</dl>", 1)[0]
    return dict(re.findall(r'class="deploy-(\w+)">(\d+) ', part))


def test_outlines_tell_a_members_territory() -> None:
    assert outlines.contains("KZ", 43.3, 68.25) is True
    assert outlines.contains("KZ", 39.9, 116.4) is False and outlines.contains("CN", 39.9, 116.4) is True
    assert outlines.contains("RU", 65.0, -175.0) is True  # Chukotka, east of the antimeridian
    assert outlines.contains("SCO", 39.9, 116.4) is None  # no outline: nothing to check


def test_a_request_with_a_point_through_the_form(people: People) -> None:
    incident = measles(people, audience=AUDIENCE)
    carol = client_for(people.world.carol)
    url = reverse("assist-request-new", args=[incident.uuid])
    form = text_of(carol.get(url))
    for name in ("point_lat", "point_lon"):
        assert f'id="{name}" name="{name}" inputmode="decimal"' in form
        assert f'<label for="{name}">' in form
    assert 'aria-describedby="point-hint"' in form and "e.g. 43.25" in form

    made = carol.post(url, _request_form(point_lat=" 43,3 ", point_lon="68.25"))  # a decimal comma is understood
    assert made.status_code == 302, text_of(made)
    record = Record.objects.get(kind="assistance_request")
    assert record.current_version.body["point"] == {"lat": "43.3", "lon": "68.25"}  # type: ignore[union-attr]
    page = text_of(carol.get(made["Location"]))
    assert '<dd class="request-point" dir="ltr">43.3, 68.25</dd>' in page


@pytest.mark.parametrize(
    ("lat", "lon", "message"),
    [
        ("43.3", "", "Give both the latitude and the longitude of the point, or neither."),
        ("", "68.25", "Give both the latitude and the longitude of the point, or neither."),
        ("north", "68.25", "Give the latitude and the longitude as decimal degrees, such as 43.25 and 76.95."),
        ("43.3", "1e2", "Give the latitude and the longitude as decimal degrees"),
        ("91", "68.25", "The latitude is between -90 and 90 and the longitude between -180 and 180"),
        ("43.3", "-180.5", "The latitude is between -90 and 90 and the longitude between -180 and 180"),
        (*BEIJING, "The point 39.9, 116.4 is not in KZ, where Turkistan Region (KZ-61) is"),
    ],
)
def test_the_request_forms_point_errors_are_on_the_field(people: People, lat: str, lon: str, message: str) -> None:
    incident = measles(people, audience=AUDIENCE)
    carol = client_for(people.world.carol)
    refused = carol.post(
        reverse("assist-request-new", args=[incident.uuid]), _request_form(point_lat=lat, point_lon=lon)
    )
    assert refused.status_code == 400
    page = text_of(refused)
    assert 'id="point-error"' in page and message in page and 'href="#point_lat"' in page
    assert 'aria-invalid="true"' in page and 'aria-describedby="point-hint point-error"' in page
    assert f'name="point_lat" inputmode="decimal" maxlength="30" autocomplete="off" value="{lat}"' in page
    assert not Record.objects.filter(kind="assistance_request").exists()


def test_the_territory_rule_is_the_kinds_on_every_write_path(people: People) -> None:
    incident = measles(people, audience=AUDIENCE)
    with pytest.raises(OutsideTerritory) as refused:
        assist_actions.create_request(
            incident.uuid,
            acting_user=people.world.carol,
            resource_type="pcr_tests",
            quantity=10,
            needed_by="2026-05-10",
            region="KZ-61",
            point={"lat": 39.9, "lon": 116.4},
        )
    assert refused.value.field == "point" and refused.value.status == 400
    answer = client_for(people.world.carol).post(
        f"/api/v1/incidents/{incident.uuid}/requests",
        {
            "resource_type": "pcr_tests",
            "quantity": 10,
            "needed_by": "2026-05-10",
            "region": "KZ-61",
            "point": {"lat": "39.9", "lon": "116.4"},
        },
        content_type="application/json",
    )
    assert answer.status_code == 400, answer.content
    assert answer.json()["field"] == "point" and "not in KZ" in answer.json()["detail"]
    # The Secretariat requests for an affected member's region: the point is in that member, not in another.
    with pytest.raises(OutsideTerritory, match="not in KG, whose region KG-O"):
        assist_actions.create_request(
            incident.uuid,
            acting_user=people.world.sam,
            resource_type="pcr_tests",
            quantity=10,
            needed_by="2026-05-10",
            region="KG-O",
            point={"lat": 43.3, "lon": 68.25},
        )
    made = assist_actions.create_request(
        incident.uuid,
        acting_user=people.world.sam,
        resource_type="pcr_tests",
        quantity=10,
        needed_by="2026-05-10",
        region="KG-O",
        point={"lat": 40.53, "lon": 72.8},
    )
    assert made.body["point"] == {"lat": "40.53", "lon": "72.8"}
    assert Record.objects.filter(kind="assistance_request").count() == 1


def _accepted(people: People, **point: dict[str, float]) -> tuple[str, dict[str, Record]]:
    """carol (KZ) requests 10,000 PCR tests (with `point`); CN (alice) and UZ (umid) offer 6,000 each; carol accepts
    6,000 from CN and 3,000 from UZ."""
    incident = measles(people, audience=AUDIENCE)
    made = assist_actions.create_request(
        incident.uuid,
        acting_user=people.world.carol,
        resource_type="pcr_tests",
        quantity=10_000,
        needed_by="2026-05-10",
        region="KZ-61",
        **point,  # type: ignore[arg-type]
    )
    offers = {}
    for member, account in (("CN", people.world.alice), ("UZ", people.umid)):
        version = assist_actions.make_offer(made.record_uuid, acting_user=account, quantity=6000)
        offers[member] = Record.objects.get(uuid=version.record_uuid)
    assist_actions.accept(offers["CN"].uuid, acting_user=people.world.carol, quantity=6000)
    assist_actions.accept(offers["UZ"].uuid, acting_user=people.world.carol, quantity=3000)
    return str(made.record_uuid), offers


def test_the_deploy_form_presets_the_requests_point_and_checks_it(people: People) -> None:
    request_id, offers = _accepted(people, point={"lat": 43.3, "lon": 68.25})
    url = reverse("assist-deploy", args=[offers["CN"].uuid]) + f"?request={request_id}"
    alice = client_for(people.world.alice)
    form = text_of(alice.get(url))
    assert 'id="point_lat" name="point_lat" inputmode="decimal" maxlength="30" autocomplete="off" value="43.3"' in form
    assert 'id="point_lon" name="point_lon" inputmode="decimal" maxlength="30" autocomplete="off" value="68.25"' in form

    cases = {
        ("43.3", ""): (400, "Give both the latitude and the longitude of the point, or neither."),
        ("43.3", "east"): (400, "Give the latitude and the longitude as decimal degrees"),
        ("-90.01", "68.25"): (400, "The latitude is between -90 and 90"),
        BEIJING: (400, "The point 39.9, 116.4 is not in KZ, where Turkistan Region (KZ-61) is"),
        ("40.53", "72.8"): (400, "The point 40.53, 72.8 is not in KZ"),  # Osh: in KG, not in KZ-61's member
    }
    for (lat, lon), (status, message) in cases.items():
        answer = alice.post(url, {**DEPLOY, "point_lat": lat, "point_lon": lon})
        page = text_of(answer)
        assert answer.status_code == status, (lat, lon, page)
        assert 'id="point-error"' in page and message in page and 'href="#point_lat"' in page, (lat, lon)
        assert f'value="{lat}"' in page and 'value="Wang Li"' in page
    assert not Record.objects.filter(kind="deployment").exists()
    # Through the action (as the API and peers reach the kind): the same rule, on `location`.
    with pytest.raises(OutsideTerritory) as refused:
        assist_deploy.deploy(
            offers["CN"].uuid,
            acting_user=people.world.alice,
            quantity=10,
            contact={"name": "Wang Li"},
            location={"region": "KZ-61", "point": {"lat": 39.9, "lon": 116.4}},
        )
    assert refused.value.field == "location" and refused.value.message.startswith("location.point: ")

    made = alice.post(url, {**DEPLOY, "quantity": "5999", "point_lat": "43.2975", "point_lon": "68.2517"})
    assert made.status_code == 302, text_of(made)
    deployment = Record.objects.get(kind="deployment")
    location = deployment.current_version.body["location"]  # type: ignore[union-attr]
    assert location["point"] == {"lat": "43.2975", "lon": "68.2517"}
    page = text_of(alice.get(made["Location"]))
    assert '<dd class="deployment-point" dir="ltr">43.2975, 68.2517</dd>' in page
    # Without a point (both blank): none stored, none shown.
    blank = alice.post(url, {**DEPLOY, "quantity": "1", "point_lat": "", "point_lon": " "})
    assert blank.status_code == 302
    second = Record.objects.filter(kind="deployment").exclude(pk=deployment.pk).get()
    assert "point" not in second.current_version.body["location"]  # type: ignore[union-attr]
    assert "deployment-point" not in text_of(alice.get(blank["Location"]))


def test_a_request_without_a_point_presets_none(people: People) -> None:
    request_id, offers = _accepted(people)
    url = reverse("assist-deploy", args=[offers["CN"].uuid]) + f"?request={request_id}"
    form = text_of(client_for(people.world.alice).get(url))
    assert 'autocomplete="off" value=""' in form and "request-point" not in form
    page = text_of(client_for(people.world.carol).get(reverse("assist-request", args=[request_id])))
    assert "request-point" not in page


def test_a_withdrawn_offer_counts_on_the_request_page_as_in_the_ledger(people: People) -> None:
    """UZ committed 1,000 of the 3,000 carol accepted, then withdrew its offer: 1,000 still counts, 2,000 went back
    to the gap; the section shows what the ledger and the offers table count, and no form for the withdrawn offer."""
    request_id, offers = _accepted(people)
    uz = str(offers["UZ"].uuid)
    assist_deploy.commit(uz, acting_user=people.umid, quantity=1000)
    url = reverse("assist-request", args=[request_id])
    umid = client_for(people.umid)
    shown = text_of(umid.get(url))
    assert f'id="commit-{uz}"' in shown and f'id="deploy-link-{uz}"' in shown
    assert _sums(shown, uz) == {"accepted": "3000", "committed": "1000", "deployed": "0", "delivered": "0"}

    assist_actions.withdraw_offer(uz, acting_user=people.umid, reason="the lot failed its quality control")
    assert AssistanceOfferView.objects.get(record__uuid=uz).accepted == 1000
    for reader in (umid, client_for(people.world.carol), client_for(people.world.alice)):
        shown = text_of(reader.get(url))
        assert page_ledger(shown)["accepted"] == "7000"  # 6000 from CN, and what UZ committed
        assert _sums(shown, uz) == {"accepted": "1000", "committed": "1000", "deployed": "0", "delivered": "0"}
        section = shown.split(f'id="deploy-{uz}"', 1)[1].split('class="offer-deploy', 1)[0]
        assert "2000 tests accepted and not committed went back to the request's gap" in section
        assert 'class="badge withdrawn"' in section
        assert f'id="commit-{uz}"' not in shown and f'id="deploy-link-{uz}"' not in shown
        assert _sums(shown, str(offers["CN"].uuid))["accepted"] == "6000"  # the active offer counts in full
    # The actions refuse it too (409 offer), and the deploy form says so with nothing stored.
    with pytest.raises(ActionError) as refused:
        assist_deploy.commit(uz, acting_user=people.umid, quantity=1)
    assert refused.value.status == 409 and refused.value.field == "offer"
    deploy = reverse("assist-deploy", args=[uz]) + f"?request={request_id}"
    answer = umid.post(deploy, {**DEPLOY, "quantity": "1"})
    assert answer.status_code == 409 and not Record.objects.filter(kind="deployment").exists()


def test_a_withdrawn_offer_with_nothing_committed_still_shows_what_went_back(people: People) -> None:
    request_id, offers = _accepted(people)
    uz = str(offers["UZ"].uuid)
    assist_actions.withdraw_offer(uz, acting_user=people.umid, reason="no transport")
    shown = text_of(client_for(people.world.carol).get(reverse("assist-request", args=[request_id])))
    assert page_ledger(shown)["accepted"] == "6000"
    assert _sums(shown, uz) == {"accepted": "0", "committed": "0", "deployed": "0", "delivered": "0"}
    assert "3000 tests accepted and not committed went back to the request's gap" in shown
