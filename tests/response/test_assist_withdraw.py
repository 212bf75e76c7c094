"""Withdrawing an offer (POST /api/v1/offers/{id}/withdraw): by the offering member only, with a reason; a withdrawn
offer is no longer accepted, committed or deployed; what was accepted of it and not committed goes back to the
request's gap, on this node and for an offer withdrawn on a peer (the federation ingest path), whatever order the
versions arrive in."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from accord.records.models import Record, Version
from accord.response.assist_models import AssistanceOfferView
from tests.response.assist_support import accept, created_id, offer, open_incident, request
from tests.response.conftest import Api, People
from tests.response.peers import make_peer

pytestmark = pytest.mark.django_db


def _withdraw(api: Api, offer_id: str, reason: str = "the reserve went to our own outbreak") -> Any:
    return api.post(f"/api/v1/offers/{offer_id}/withdraw", {"reason": reason})


def _ledger(api: Api, request_id: str) -> tuple[int, int, int, int, str]:
    body = api.get(f"/api/v1/requests/{request_id}").json()
    return body["offered"], body["accepted"], body["committed"], body["gap"], body["status"]


def test_only_the_offering_member_withdraws_with_a_reason_and_nothing_is_stored_otherwise(people: People) -> None:
    carol, alice = Api(people.world.carol), Api(people.world.alice)
    opened = open_incident(carol)
    request_id = created_id(request(carol, opened["id"], quantity=100))
    offer_id = created_id(offer(alice, request_id, 60))
    before = Version.objects.count()
    for api, status in ((carol, 403), (Api(people.umid), 403), (Api(people.world.sam), 403)):
        refused = _withdraw(api, offer_id)
        assert refused.status_code == status and refused.json()["field"] == "offer", refused.content
    assert _withdraw(Api(people.world.dave), offer_id).status_code == 403  # a viewer
    blank = _withdraw(alice, offer_id, "   ")
    assert blank.status_code == 400 and blank.json()["field"] == "reason", blank.content
    assert alice.post(f"/api/v1/offers/{offer_id}/withdraw", {}).status_code in (400, 422)
    assert _withdraw(alice, offer_id, "x" * 2001).status_code in (400, 422)
    assert _withdraw(alice, str(uuid.uuid4())).status_code == 404
    # The generic records endpoint does not withdraw an offer (its rule lives here).
    generic = alice.post(f"/api/v1/records/{offer_id}/withdraw", {"reason": "gone"})
    assert generic.status_code == 400 and generic.json()["field"] == "kind", generic.content
    assert Version.objects.count() == before

    done = _withdraw(alice, offer_id)
    assert done.status_code == 200, done.content
    body = done.json()
    assert (body["state"], body["reason"], body["seq"]) == ("withdrawn", "the reserve went to our own outbreak", 2)
    again = _withdraw(alice, offer_id)
    assert again.status_code == 409 and again.json()["field"] == "offer"
    assert _ledger(carol, request_id) == (0, 0, 0, 100, "open")


def test_a_withdrawn_offer_is_not_accepted_committed_or_deployed(people: People) -> None:
    carol, alice = Api(people.world.carol), Api(people.world.alice)
    opened = open_incident(carol)
    request_id = created_id(request(carol, opened["id"], quantity=100))
    offer_id = created_id(offer(alice, request_id, 60))
    assert accept(carol, offer_id, 30).status_code == 200
    assert _withdraw(alice, offer_id).status_code == 200
    before = Version.objects.count()
    refused = accept(carol, offer_id, 10)
    assert refused.status_code == 409 and refused.json()["field"] == "offer", refused.content
    committed = alice.post(f"/api/v1/offers/{offer_id}/commit", {"quantity": 10})
    assert committed.status_code == 409 and committed.json()["field"] == "offer", committed.content
    deployed = alice.post(
        f"/api/v1/offers/{offer_id}/deployments",
        {"quantity": 10, "contact": {"name": "Wang Li"}, "location": {"region": "KZ-61"}},
    )
    assert deployed.status_code == 409 and deployed.json()["field"] == "offer", deployed.content
    assert Version.objects.count() == before


def test_what_was_accepted_and_not_committed_goes_back_to_the_gap(people: People) -> None:
    carol, alice, umid = Api(people.world.carol), Api(people.world.alice), Api(people.umid)
    opened = open_incident(carol)
    request_id = created_id(request(carol, opened["id"], quantity=100))
    from_cn = created_id(offer(alice, request_id, 60))
    from_uz = created_id(offer(umid, request_id, 50))
    assert accept(carol, from_cn, 60).status_code == 200
    assert accept(carol, from_uz, 40).status_code == 200
    assert alice.post(f"/api/v1/offers/{from_cn}/commit", {"quantity": 20}).status_code == 200
    assert _ledger(carol, request_id) == (110, 100, 20, 0, "covered")
    assert accept(carol, from_uz, 10).status_code == 409  # covered: nothing more is accepted

    assert _withdraw(alice, from_cn).status_code == 200
    # CN's 40 accepted and not committed are released; its committed 20 keep counting (and stay offered).
    assert _ledger(carol, request_id) == (70, 60, 20, 40, "partly_covered")
    offers = {o["member"]: o for o in carol.get(f"/api/v1/requests/{request_id}").json()["offers"]}
    assert (offers["CN"]["state"], offers["CN"]["accepted"], offers["CN"]["committed"]) == ("withdrawn", 20, 20)
    assert offers["UZ"]["accepted"] == 40
    # The requester accepts the rest of UZ's offer for the gap that opened again.
    assert accept(carol, from_uz, 10).status_code == 200
    assert _ledger(carol, request_id) == (70, 70, 20, 30, "partly_covered")


def test_an_offer_withdrawn_on_a_peer_releases_the_same_on_this_node_whatever_the_order(people: People) -> None:
    """CN's node offers; KZ (here) accepts 60; CN's node withdraws the offer, and its commitment of 20, signed
    before the withdrawal, arrives after it: the ledger is the one the offer's node shows."""
    carol = Api(people.world.carol)
    opened = open_incident(carol)
    request_id = created_id(request(carol, opened["id"], quantity=100))
    wanted = Record.objects.get(uuid=request_id)
    incident_ref = {"node": opened["node"], "record": opened["id"]}
    request_ref = {"node": str(wanted.origin_node), "record": request_id}
    cn = make_peer("CN")
    body = {
        "incident": incident_ref,
        "request": request_ref,
        "member": "CN",
        "to_member": "KZ",
        "resource_type": "pcr_tests",
        "unit": "tests",
        "quantity": 60,
    }
    first = cn.ingest("assistance_offer", body)
    offer_ref = {"node": str(cn.node_id), "record": str(first.record_uuid)}
    assert accept(carol, str(first.record_uuid), 60).status_code == 200
    assert _ledger(carol, request_id) == (60, 60, 0, 40, "partly_covered")

    cn.ingest(
        "assistance_offer",
        body,
        record=first.record_uuid,
        seq=2,
        prev_hash=first.content_hash,
        state="withdrawn",
        reason="needed at home",
    )
    assert AssistanceOfferView.objects.get(record_id=first.record_id).active is False
    assert _ledger(carol, request_id) == (0, 0, 0, 100, "open")
    seen = carol.get(f"/api/v1/offers/{first.record_uuid}").json()
    assert (seen["state"], seen["reason"]) == ("withdrawn", "needed at home")

    commitment = {"incident": incident_ref, "request": request_ref, "offer": offer_ref, "member": "CN", "quantity": 20}
    cn.ingest("assistance_commitment", commitment)
    assert _ledger(carol, request_id) == (20, 20, 20, 80, "partly_covered")
    assert AssistanceOfferView.objects.get(record_id=first.record_id).accepted == 20


def test_acceptances_commitments_and_deployments_are_not_withdrawn_through_the_generic_records_endpoint(
    people: People,
) -> None:
    """The ledger's facts stand once made: the generic withdrawal would stop them counting (a commitment left above
    what is accepted); each is refused there with the endpoint that undoes or ends it, and nothing is stored."""
    carol, alice = Api(people.world.carol), Api(people.world.alice)
    opened = open_incident(carol)
    request_id = created_id(request(carol, opened["id"], quantity=100))
    offer_id = created_id(offer(alice, request_id, 60))
    assert accept(carol, offer_id, 60).status_code == 200
    assert alice.post(f"/api/v1/offers/{offer_id}/commit", {"quantity": 60}).status_code == 200
    deploy = {"quantity": 60, "contact": {"name": "Wang Li"}, "location": {"region": "KZ-61"}}
    assert alice.post(f"/api/v1/offers/{offer_id}/deployments", deploy).status_code == 201
    before = Version.objects.count()
    for kind, api, endpoint in (
        ("assistance_acceptance", carol, "/api/v1/offers/{id}/withdraw"),
        ("assistance_commitment", alice, "/api/v1/offers/{id}/withdraw"),
        ("deployment", alice, "/api/v1/deployments/{id}/status"),
    ):
        record = Record.objects.get(kind=kind)
        refused = api.post(f"/api/v1/records/{record.uuid}/withdraw", {"reason": "undo"})
        assert refused.status_code == 400, (kind, refused.content)
        assert refused.json()["field"] == "kind" and endpoint in refused.json()["detail"], refused.json()
    assert Version.objects.count() == before
    assert _ledger(carol, request_id)[1:3] == (60, 60)
