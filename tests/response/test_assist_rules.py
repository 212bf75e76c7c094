"""Mutual assistance: bad input refused naming the field with nothing stored, who may request, offer and accept,
and versions received from peers (an acceptance issued elsewhere than the request's node counts for nothing)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from accord.records.models import Record
from accord.response.assist_models import AssistanceAcceptanceView, AssistanceRequestView
from tests.response.assist_support import accept, created_id, offer, open_incident, request
from tests.response.conftest import Api, People, _account
from tests.response.peers import make_peer

pytestmark = pytest.mark.django_db


def _refused(response: Any, status: int, field: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body.get("field") == field or field in body["detail"], body


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"quantity": -5}, "quantity"),
        ({"quantity": 2.5}, "quantity"),
        ({"unit": "doses"}, "unit"),
        ({"resource_type": "unicorns"}, "resource_type"),
        ({"resource_type": "other"}, "detail"),
        ({"region": "KG-O"}, "region"),
        ({"region": "XX-99"}, "region"),
        ({"needed_by": "next week"}, "needed_by"),
        ({"priority": "urgent"}, "priority"),
        ({"tlp": "PURPLE"}, "tlp"),
    ],
)
def test_a_bad_request_is_refused_naming_the_field(people: People, changes: dict[str, Any], field: str) -> None:
    carol = Api(people.world.carol)
    opened = open_incident(carol)
    before = Record.objects.count()
    response = request(carol, opened["id"], **changes)
    assert 400 <= response.status_code < 500, response.content
    body = response.json()
    assert body.get("field") == field or field in str(body.get("field")) or field in body["detail"], body
    assert Record.objects.count() == before


def test_who_may_request(people: People) -> None:
    carol = Api(people.world.carol)
    opened = open_incident(carol)
    before = Record.objects.count()
    _refused(request(Api(people.umid), opened["id"], region="UZ-TO"), 400, "member")  # UZ is not affected
    assert request(Api(people.world.dave), opened["id"]).status_code == 403  # a viewer
    assert request(carol, str(uuid.uuid4())).status_code == 404
    assert Record.objects.count() == before
    kg = request(Api(people.kira), opened["id"], region="KG-O")
    assert kg.status_code == 201 and kg.json()["member"] == "KG"


def test_bad_offers_and_acceptances_are_refused_with_nothing_stored(people: People) -> None:
    carol, alice, kira = Api(people.world.carol), Api(people.world.alice), Api(people.kira)
    opened = open_incident(carol)
    request_id = created_id(request(carol, opened["id"], quantity=100))
    before = Record.objects.count()
    _refused(offer(alice, request_id, 0), 400, "quantity")
    _refused(offer(alice, request_id, -1), 400, "quantity")
    _refused(offer(alice, request_id, 5, available_from="soon"), 400, "available_from")
    _refused(offer(alice, request_id, 5, available_until="2026-01-01"), 400, "available_until")
    _refused(offer(carol, request_id, 5), 403, "member")  # the requester does not offer to itself
    _refused(
        alice.post(
            f"/api/v1/incidents/{opened['id']}/offers", {"resource_type": "ventilators", "quantity": 2, "unit": "team"}
        ),
        400,
        "unit",
    )
    assert Record.objects.count() == before
    offer_id = created_id(offer(alice, request_id, 80))
    before = Record.objects.count()
    _refused(accept(alice, offer_id, 10), 403, "offer")  # the offering member
    _refused(accept(kira, offer_id, 10), 403, "offer")  # another affected member
    _refused(accept(Api(people.world.sam), offer_id, 10), 403, "offer")  # the Secretariat did not request it
    assert accept(Api(people.world.dave), offer_id, 10).status_code == 403  # a viewer of the requester
    _refused(accept(carol, offer_id, 0), 400, "quantity")
    _refused(accept(carol, offer_id, -3), 400, "quantity")
    over = accept(carol, offer_id, 81)  # more than offered, less than requested
    assert over.status_code == 409 and over.json()["open_quantity"] == 100 and over.json()["offer_open_quantity"] == 80
    assert accept(carol, str(uuid.uuid4()), 1).status_code == 404
    assert Record.objects.count() == before
    assert AssistanceRequestView.objects.get(record__uuid=request_id).accepted == 0


def test_acceptance_is_decided_only_on_the_requesting_members_node(people: People) -> None:
    """RU's request lives on RU's node: here, an RU focal point is refused, and an acceptance a peer issues for a
    request of another node is stored but not counted."""
    carol = Api(people.world.carol)
    opened = open_incident(
        carol, affected_members=["KZ", "KG", "RU"], regions=[], audience={"members": ["KZ", "KG", "RU", "CN", "SCO"]}
    )
    incident_ref = {"node": opened["node"], "record": opened["id"]}
    ru = make_peer("RU")
    wanted = ru.ingest(
        "assistance_request",
        {
            "incident": incident_ref,
            "member": "RU",
            "resource_type": "pcr_tests",
            "unit": "tests",
            "quantity": 100,
            "needed_by": "2026-05-10",
            "region": "RU-MOW",
            "priority": "high",
            "status": "open",
            "change": {"action": "create"},
        },
    )
    ledger = AssistanceRequestView.objects.get(record_id=wanted.record_id)
    assert ledger.node == ru.node_id and ledger.status == "open" and ledger.requested == 100
    offer_id = created_id(offer(Api(people.world.alice), str(wanted.record_uuid), 60))
    ru_here = Api(_account("rustam", "RU", "focal_point"))
    refused = accept(ru_here, offer_id, 10)
    _refused(refused, 409, "offer")
    assert "node" in refused.json()["detail"]
    # A peer (KZ's, say) sends an acceptance of RU's request: stored, never counted.
    kz = make_peer("KZ")
    stray = kz.ingest(
        "assistance_acceptance",
        {
            "incident": incident_ref,
            "request": {"node": str(ru.node_id), "record": str(wanted.record_uuid)},
            "offer": {"node": opened["node"], "record": offer_id},
            "member": "KZ",
            "offer_member": "CN",
            "quantity": 60,
        },
    )
    assert AssistanceAcceptanceView.objects.get(record_id=stray.record_id).counted is False
    # RU's own node accepts: counted.
    ru.ingest(
        "assistance_acceptance",
        {
            "incident": incident_ref,
            "request": {"node": str(ru.node_id), "record": str(wanted.record_uuid)},
            "offer": {"node": opened["node"], "record": offer_id},
            "member": "RU",
            "offer_member": "CN",
            "quantity": 40,
        },
    )
    seen = ru_here.get(f"/api/v1/requests/{wanted.record_uuid}").json()
    assert (seen["accepted"], seen["gap"], seen["status"]) == (40, 60, "partly_covered")
    assert [o["accepted"] for o in seen["offers"]] == [40]


def test_a_received_version_breaking_the_kinds_rules_is_refused(people: People) -> None:
    carol = Api(people.world.carol)
    opened = open_incident(carol)
    peer = make_peer("CN")
    from accord.lib import canonical
    from accord.records import actions
    from accord.records.envelope import Audience, build_envelope, encode

    body = {
        "incident": {"node": opened["node"], "record": opened["id"]},
        "member": "CN",
        "to_member": "CN",  # to itself
        "resource_type": "pcr_tests",
        "unit": "tests",
        "quantity": 5,
    }
    envelope = build_envelope(
        kind="assistance_offer",
        origin={
            "node": str(peer.node_id),
            "member": "CN",
            "organisation": str(uuid.uuid4()),
            "account": str(uuid.uuid4()),
        },
        record=uuid.uuid4(),
        seq=1,
        prev_hash=None,
        status="actual",
        state="active",
        audience=Audience(everyone=True),
        tlp="GREEN",
        body=body,
        attachments=[],
    )
    data, _ = encode(envelope)
    result = actions.ingest(data, canonical.sign(peer.key, data), peer.kid, source="test")
    assert result.outcome != "stored"
    assert not Record.objects.filter(kind="assistance_offer").exists()
