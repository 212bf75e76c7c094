"""Commitments and deployments: the offering member commits and deploys what was accepted, reports the status
forward only, and the delivered quantities feed the ledger; bad input refused naming the field, nothing stored."""

from __future__ import annotations

from typing import Any

import pytest

from accord.records.errors import ActionError
from accord.records.kinds import Author
from accord.records.models import Record
from accord.response.assist_deploy_kind import DEPLOYMENT
from tests.response.assist_support import accept, created_id, offer, open_incident, request
from tests.response.conftest import Api, People

pytestmark = pytest.mark.django_db

CONTACT = {"name": "Wang Li", "phone": "+86 10 0000 0000"}
WHERE = {"region": "KZ-61", "place": "Kyzylorda regional laboratory"}


def _deploy(api: Api, offer_id: str, quantity: int, **changes: Any) -> Any:
    payload: dict[str, Any] = {"quantity": quantity, "contact": CONTACT, "location": WHERE, "departure": "2026-05-04"}
    payload.update(changes)
    return api.post(f"/api/v1/offers/{offer_id}/deployments", payload)


def _status(api: Api, deployment_id: str, status: str, **changes: Any) -> Any:
    return api.post(f"/api/v1/deployments/{deployment_id}/status", {"status": status, **changes})


def _setup(people: People) -> tuple[Api, Api, dict[str, Any], str, str, str]:
    carol, alice, umid = Api(people.world.carol), Api(people.world.alice), Api(people.umid)
    opened = open_incident(carol)
    request_id = created_id(request(carol, opened["id"]))
    from_cn = created_id(offer(alice, request_id, 6000))
    from_uz = created_id(offer(umid, request_id, 3000))
    assert accept(carol, from_cn, 6000).status_code == 200
    return carol, alice, opened, request_id, from_cn, from_uz


def test_commit_deploy_and_report_until_delivered(people: People) -> None:
    carol, alice, opened, request_id, from_cn, _ = _setup(people)
    committed = alice.post(f"/api/v1/offers/{from_cn}/commit", {"quantity": 6000})
    assert committed.status_code == 200, committed.content
    assert (committed.json()["accepted"], committed.json()["committed"]) == (6000, 6000)
    made = _deploy(alice, from_cn, 6000)
    deployment_id = created_id(made)
    assert made.json()["status"] == "mobilising" and made.json()["member"] == "CN"
    moved = _status(alice, deployment_id, "in_transit", note="left Urumqi")
    assert moved.status_code == 200 and moved.json()["departure"] == "2026-05-04"
    arrived = _status(alice, deployment_id, "arrived", delivered=3000)
    assert arrived.status_code == 200 and arrived.json()["arrival"] and arrived.json()["seq"] == 3
    assert carol.get(f"/api/v1/requests/{request_id}").json()["delivered"] == 3000
    _status(alice, deployment_id, "operating", delivered=6000)
    ledger = carol.get(f"/api/v1/requests/{request_id}").json()
    assert (ledger["accepted"], ledger["committed"], ledger["delivered"], ledger["gap"]) == (6000, 6000, 6000, 4000)
    assert [(o["member"], o["delivered"]) for o in ledger["offers"] if o["delivered"]] == [("CN", 6000)]
    for step in ("demobilised", "returned"):
        assert _status(alice, deployment_id, step).status_code == 200
    three_w = carol.get(f"/api/v1/incidents/{opened['id']}/deployments").json()
    assert [(d["member"], d["resource_type"], d["location"]["region"], d["status"]) for d in three_w] == [
        ("CN", "pcr_tests", "KZ-61", "returned")
    ]
    assert three_w[0]["end"] and three_w[0]["contact"]["name"] == "Wang Li"


def test_more_than_accepted_a_status_going_backwards_and_the_wrong_member_are_refused(people: People) -> None:
    carol, alice, _, request_id, from_cn, from_uz = _setup(people)
    umid = Api(people.umid)
    before = Record.objects.count()
    over = alice.post(f"/api/v1/offers/{from_cn}/commit", {"quantity": 6001})
    assert over.status_code == 409 and over.json()["field"] == "quantity"
    assert alice.post(f"/api/v1/offers/{from_cn}/commit", {"quantity": 0}).json()["field"] == "quantity"
    assert carol.post(f"/api/v1/offers/{from_cn}/commit", {"quantity": 1}).status_code == 403
    refused = _deploy(alice, from_cn, 6001)
    assert refused.status_code == 409 and refused.json()["field"] == "quantity", refused.content
    nothing_accepted = _deploy(umid, from_uz, 1)
    assert nothing_accepted.status_code == 409 and nothing_accepted.json()["field"] == "quantity"
    assert _deploy(carol, from_cn, 10).status_code == 403  # not the offering member
    assert _deploy(alice, from_cn, -1).json()["field"] == "quantity"
    assert _deploy(alice, from_cn, 10, location={"region": "XX-1"}).json()["field"] == "location"
    assert _deploy(alice, from_cn, 10, contact={"name": ""}).json()["field"] == "contact"
    assert Record.objects.count() == before

    deployment_id = created_id(_deploy(alice, from_cn, 4000))
    assert _deploy(alice, from_cn, 2001).status_code == 409  # 2000 left to deploy
    _status(alice, deployment_id, "arrived", delivered=1000)
    versions = Record.objects.get(uuid=deployment_id).current_seq
    backwards = _status(alice, deployment_id, "in_transit")
    assert backwards.status_code == 409 and backwards.json()["field"] == "status"
    less = _status(alice, deployment_id, "operating", delivered=500)
    assert less.status_code == 409 and less.json()["field"] == "delivered"
    more = _status(alice, deployment_id, "operating", delivered=4001)
    assert more.status_code == 400 and more.json()["field"] == "delivered"
    assert _status(carol, deployment_id, "operating").status_code == 403
    assert _status(alice, deployment_id, "landed").status_code == 422
    assert Record.objects.get(uuid=deployment_id).current_seq == versions
    assert carol.get(f"/api/v1/requests/{request_id}").json()["delivered"] == 1000


def test_the_kind_refuses_a_deployment_going_backwards_on_every_write_path(people: People) -> None:
    body = {
        "incident": {"node": "00000000-0000-0000-0000-000000000001", "record": "00000000-0000-0000-0000-000000000002"},
        "request": {"node": "00000000-0000-0000-0000-000000000001", "record": "00000000-0000-0000-0000-000000000003"},
        "offer": {"node": "00000000-0000-0000-0000-000000000004", "record": "00000000-0000-0000-0000-000000000005"},
        "member": "CN",
        "resource_type": "pcr_tests",
        "unit": "tests",
        "quantity": 10,
        "contact": CONTACT,
        "location": WHERE,
        "status": "in_transit",
        "change": {"action": "status", "from_status": "arrived"},
    }
    with pytest.raises(ActionError) as refused:
        DEPLOYMENT.check(body, Author(member="CN", received=True))
    assert refused.value.field == "status"
    body["change"] = {"action": "status", "from_status": "mobilising"}
    body["delivered"] = 11
    with pytest.raises(ActionError) as too_much:
        DEPLOYMENT.check(body, Author(member="CN", received=True))
    assert too_much.value.field == "delivered"
    body["delivered"] = 10
    assert DEPLOYMENT.check(body, Author(member="CN", received=True))["status"] == "in_transit"
