"""Mutual assistance through the API: the catalogue, requests, solicited and unsolicited offers, partial
acceptances and the ledger, withdrawal and closing, and who may see what."""

from __future__ import annotations

import pytest

from accord.records.models import Record, Version
from accord.response.assist_models import AssistanceRequestView
from accord.response.models import IncidentItem
from tests.response.assist_support import accept, created_id, offer, open_incident, request
from tests.response.conftest import Api, People

pytestmark = pytest.mark.django_db


def test_the_catalogue_names_each_type_in_three_languages_with_its_unit(people: People) -> None:
    listed = Api(people.kim).get("/api/v1/resource-types")
    assert listed.status_code == 200
    types = {t["code"]: t for t in listed.json()}
    assert types["pcr_tests"]["unit"] == "tests" and types["emt_type1_mobile"]["unit"] == "team"
    assert types["vaccine_doses"]["unit"] == "doses" and types["expert"]["unit"] == "persons"
    assert {"emt_type1_fixed", "emt_type2", "emt_type3", "ppe_respirators", "ventilators", "other"} <= set(types)
    for item in types.values():
        assert set(item["names"]) == {"en", "ru", "zh"} and all(item["names"].values())
        assert item["source"]
    assert types["other"]["detail_required"] is True


def test_request_two_offers_partial_acceptances_and_the_ledger(people: People) -> None:
    carol, alice, umid = Api(people.world.carol), Api(people.world.alice), Api(people.umid)
    opened = open_incident(carol)
    made = request(carol, opened["id"])
    request_id = created_id(made)
    assert made.json()["status"] == "open" and made.json()["requested"] == 10_000 and made.json()["gap"] == 10_000
    from_cn = created_id(offer(alice, request_id, 6000))
    from_uz = created_id(offer(umid, request_id, 6000, lead_time_days=3, costs_borne_by="provider"))
    seen = carol.get(f"/api/v1/requests/{request_id}").json()
    assert (seen["offered"], seen["accepted"], seen["status"]) == (12_000, 0, "open")

    first = accept(carol, from_cn, 6000)
    assert first.status_code == 200, first.content
    assert (first.json()["accepted"], first.json()["gap"], first.json()["status"]) == (6000, 4000, "partly_covered")
    too_much = accept(carol, from_uz, 6000)
    assert too_much.status_code == 409, too_much.content
    assert too_much.json()["open_quantity"] == 4000 and too_much.json()["field"] == "quantity"
    assert Record.objects.filter(kind="assistance_acceptance").count() == 1  # nothing stored
    rest = accept(carol, from_uz, 4000)
    assert rest.status_code == 200, rest.content

    ledger = alice.get(f"/api/v1/requests/{request_id}").json()  # as another member sees it
    assert (ledger["requested"], ledger["accepted"], ledger["gap"], ledger["status"]) == (10_000, 10_000, 0, "covered")
    assert {o["member"]: o["accepted"] for o in ledger["offers"]} == {"CN": 6000, "UZ": 4000}
    assert ledger["offered"] == 12_000 and ledger["delivered"] == 0
    listed = umid.get(f"/api/v1/incidents/{opened['id']}/requests").json()
    assert [r["id"] for r in listed["items"]] == [request_id] and listed["items"][0]["accepted"] == 10_000
    assert IncidentItem.objects.filter(incident_record=opened["id"], kind="assistance_request").count() == 1
    # An offer already fully accepted takes no more, even for a request that still needs some.
    assert accept(carol, from_cn, 1).status_code == 409


def test_an_unsolicited_offer_is_accepted_for_a_request_of_the_affected_member(people: People) -> None:
    carol, alice = Api(people.world.carol), Api(people.world.alice)
    opened = open_incident(carol)
    made = alice.post(
        f"/api/v1/incidents/{opened['id']}/offers",
        {"resource_type": "ppe_respirators", "quantity": 500, "available_from": "2026-05-01", "note": "N95"},
    )
    offer_id = created_id(made)
    assert made.json()["to_member"] == "KZ" and made.json()["request"] is None and made.json()["unit"] == "pieces"
    assert [o["id"] for o in carol.get(f"/api/v1/incidents/{opened['id']}/offers").json()] == [offer_id]
    assert accept(carol, offer_id, 100).json()["field"] == "request"  # for which request?
    request_id = created_id(request(carol, opened["id"], resource_type="ppe_respirators", quantity=1000))
    accepted = accept(carol, offer_id, 300, request=request_id)
    assert accepted.status_code == 200, accepted.content
    ledger = accepted.json()
    assert (ledger["offered"], ledger["accepted"], ledger["gap"]) == (500, 300, 700)
    assert [(o["id"], o["accepted"]) for o in ledger["offers"]] == [(offer_id, 300)]


def test_the_requester_withdraws_or_closes_and_the_request_takes_no_more_offers(people: People) -> None:
    carol, alice = Api(people.world.carol), Api(people.world.alice)
    opened = open_incident(carol)
    first = created_id(request(carol, opened["id"]))
    second = created_id(request(carol, opened["id"], resource_type="vaccine_doses", detail="measles", quantity=2000))
    pending = created_id(offer(alice, second, 1000))
    assert alice.post(f"/api/v1/requests/{first}/withdraw", {"reason": "mine"}).status_code == 403
    withdrawn = carol.post(f"/api/v1/requests/{first}/withdraw", {"reason": "covered by the national reserve"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    closed = carol.post(f"/api/v1/requests/{second}/close", {"reason": "the outbreak is over"})
    assert closed.json()["status"] == "closed" and closed.json()["seq"] == 2
    before = Record.objects.count()
    for request_id in (first, second):
        refused = offer(alice, request_id, 10)
        assert refused.status_code == 409 and refused.json()["field"] == "request", refused.content
    assert accept(carol, pending, 10).status_code == 409
    assert carol.post(f"/api/v1/requests/{first}/close", {}).status_code == 409
    assert Record.objects.count() == before
    assert AssistanceRequestView.objects.get(record__uuid=second).status == "closed"


def test_a_request_is_seen_only_by_its_audience(people: People) -> None:
    carol, alice, umid, ivan = (Api(a) for a in (people.world.carol, people.world.alice, people.umid, people.ivan))
    opened = open_incident(carol)
    narrow = created_id(request(carol, opened["id"], audience={"members": ["KZ", "CN", "SCO"]}))
    wide = created_id(request(carol, opened["id"], quantity=5))
    assert alice.get(f"/api/v1/requests/{narrow}").status_code == 200
    assert umid.get(f"/api/v1/requests/{narrow}").status_code == 404
    assert ivan.get(f"/api/v1/requests/{wide}").status_code == 404
    assert [r["id"] for r in umid.get(f"/api/v1/incidents/{opened['id']}/requests").json()["items"]] == [wide]
    assert offer(umid, narrow, 1).status_code == 404
    assert ivan.get(f"/api/v1/incidents/{opened['id']}/requests").status_code == 404
    # A request's audience stays within the incident's.
    outside = request(carol, opened["id"], audience={"members": ["KZ", "IN"]})
    assert outside.status_code == 400 and outside.json()["field"] == "audience"
    assert Version.objects.filter(kind="assistance_request").count() == 2


def test_the_secretariat_requests_for_an_affected_region(people: People) -> None:
    carol, sam = Api(people.world.carol), Api(people.world.sam)
    opened = open_incident(carol)
    made = request(sam, opened["id"], region="KG-O", resource_type="emt_type2", quantity=1, priority="medium")
    assert made.status_code == 201, made.content
    assert made.json()["member"] == "SCO" and made.json()["unit"] == "team"
