"""Who acts, and where: every assistance action refuses anyone but its party with a 403, and a party acting on a node
that is not the record's origin with a 409 saying where to do it; both name the record acted on in `field`
(`request`, `offer`, `deployment`), and nothing is stored."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accord.records.models import Version
from tests.response.assist_support import accept, created_id, open_incident, request
from tests.response.conftest import Api, People, _account
from tests.response.peers import make_peer

pytestmark = pytest.mark.django_db

CONTACT = {"name": "Wang Li"}
WHERE = {"region": "KZ-61"}


def _refused(response: Any, status: int, field: str, *words: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["field"] == field and body["detail"].startswith(f"{field}: "), body
    for word in words:
        assert word in body["detail"], body


def test_a_party_on_another_node_is_sent_there_and_anyone_else_is_refused(people: People) -> None:
    carol, alice = Api(people.world.carol), Api(people.world.alice)
    opened = open_incident(
        carol, affected_members=["KZ", "KG", "RU"], regions=[], audience={"members": ["KZ", "KG", "RU", "CN", "SCO"]}
    )
    incident = {"node": opened["node"], "record": opened["id"]}
    ru, cn = make_peer("RU"), make_peer("CN")
    rustam = Api(_account("rustam", "RU", "focal_point"))  # an RU focal point with an account on this (KZ) node
    ru_request = ru.ingest(
        "assistance_request",
        {
            "incident": incident,
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
    kz_request = created_id(request(carol, opened["id"], quantity=100, audience={"members": ["KZ", "RU", "CN"]}))
    kz_ref = {"node": opened["node"], "record": kz_request}
    cn_offer = cn.ingest(
        "assistance_offer",
        {
            "incident": incident,
            "request": kz_ref,
            "member": "CN",
            "to_member": "KZ",
            "resource_type": "pcr_tests",
            "unit": "tests",
            "quantity": 50,
        },
    )
    offer_id = str(cn_offer.record_uuid)
    assert accept(carol, offer_id, 50).status_code == 200  # the request is KZ's, here: accepted here
    deployment = cn.ingest(
        "deployment",
        {
            "incident": incident,
            "request": kz_ref,
            "offer": {"node": str(cn.node_id), "record": offer_id},
            "member": "CN",
            "resource_type": "pcr_tests",
            "unit": "tests",
            "quantity": 50,
            "contact": CONTACT,
            "location": WHERE,
            "status": "mobilising",
            "change": {"action": "create"},
        },
    )
    ru_id, deployment_id = str(ru_request.record_uuid), str(deployment.record_uuid)
    local_offer = created_id(alice.post(f"/api/v1/requests/{ru_id}/offers", {"quantity": 10}))
    before = Version.objects.count()

    # The party, on another node than the record's: 409, where to do it.
    _refused(
        rustam.post(f"/api/v1/requests/{ru_id}/withdraw", {}), 409, "request", "withdraw it there", str(ru.node_id)
    )
    _refused(rustam.post(f"/api/v1/requests/{ru_id}/close", {}), 409, "request", "close it there")
    _refused(accept(rustam, local_offer, 10), 409, "offer", "accept there", str(ru.node_id))
    _refused(alice.post(f"/api/v1/offers/{offer_id}/commit", {"quantity": 10}), 409, "offer", "commit and deploy there")
    deploy = {"quantity": 10, "contact": CONTACT, "location": WHERE}
    _refused(alice.post(f"/api/v1/offers/{offer_id}/deployments", deploy), 409, "offer", str(cn.node_id))
    _refused(alice.post(f"/api/v1/offers/{offer_id}/withdraw", {"reason": "gone"}), 409, "offer", "withdraw it there")
    status = {"status": "in_transit"}
    _refused(alice.post(f"/api/v1/deployments/{deployment_id}/status", status), 409, "deployment", "report there")

    # Anyone but the party: 403, whoever the party is.
    _refused(carol.post(f"/api/v1/requests/{ru_id}/withdraw", {}), 403, "request", "requesting member (RU)")
    _refused(accept(carol, local_offer, 10), 403, "offer", "requesting member (RU)")
    _refused(carol.post(f"/api/v1/offers/{offer_id}/commit", {"quantity": 10}), 403, "offer", "offering member (CN)")
    _refused(carol.post(f"/api/v1/offers/{offer_id}/deployments", deploy), 403, "offer")
    _refused(carol.post(f"/api/v1/offers/{offer_id}/withdraw", {"reason": "gone"}), 403, "offer")
    _refused(carol.post(f"/api/v1/deployments/{deployment_id}/status", status), 403, "deployment", "(CN)")
    assert Version.objects.count() == before

    # The page says the same in the reader's language: the status report form posted on this node, in Russian.
    page = Client()
    page.force_login(people.world.alice)
    answer = page.post(
        reverse("assist-deployment-status", args=[deployment_id]),
        {"status": "in_transit", "delivered": "0"},
        headers={"Accept-Language": "ru"},
    )
    assert answer.status_code == 409
    assert "Это развёртывание записано на другом узле" in answer.content.decode()
    assert Version.objects.count() == before
