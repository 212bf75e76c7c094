"""Decisions by consensus: positions, the outcome, an adopted level change applied or refused by the consent rule,
positions from peers counted by the decision's origin, bad input."""

from __future__ import annotations

from typing import Any

import pytest

from accord.records.models import Record, Version
from accord.response.decision_actions import position_received
from accord.response.models import IncidentItem
from tests.response.conftest import Api, People, incident
from tests.response.peers import make_peer

pytestmark = pytest.mark.django_db


def _incident(api: Api, **changes: Any) -> dict[str, Any]:
    created = api.post("/api/v1/incidents", incident(**changes))
    assert created.status_code == 201, created.content
    body: dict[str, Any] = created.json()
    return body


def _decide(api: Api, incident_id: str, **changes: Any) -> Any:
    payload: dict[str, Any] = {
        "text": {"en": "Share daily case counts", "zh": "每日共享病例数"},
        "participants": ["KZ", "KG"],
        "sets_level": None,
    }
    payload.update(changes)
    return api.post(f"/api/v1/incidents/{incident_id}/decisions", payload)


def _position(api: Api, decision: str, position: str) -> Any:
    return api.post(f"/api/v1/decisions/{decision}/positions", {"position": position})


@pytest.mark.parametrize(
    ("kz", "kg", "state"),
    [
        ("support", "support", "adopted"),
        ("support", "object", "rejected"),
        ("object", None, "rejected"),
        ("abstain", "support", "adopted"),
        ("abstain", "abstain", "adopted"),
        ("support", None, "open"),
        (None, None, "open"),
    ],
)
def test_consensus(people: People, kz: str | None, kg: str | None, state: str) -> None:
    carol, kira = Api(people.world.carol), Api(people.kira)
    opened = _incident(carol)
    created = _decide(carol, opened["id"])
    assert created.status_code == 201, created.content
    decision = created.json()
    assert decision["state"] == "open" and decision["waiting_for"] == ["KZ", "KG"]
    for api, position in ((carol, kz), (kira, kg)):
        if position is not None:
            answer = _position(api, decision["id"], position)
            assert answer.status_code == 201, answer.content
            assert answer.json()["counted"] is True
    shown = kira.get(f"/api/v1/decisions/{decision['id']}").json()
    assert shown["state"] == state
    given = {m: p for m, p in (("KZ", kz), ("KG", kg)) if p is not None}
    assert {p["member"]: p["position"] for p in shown["positions"]} == given
    assert all(p["counted"] for p in shown["positions"])
    current = Record.objects.get(uuid=decision["id"]).current_version
    assert current is not None and current.body["state"] == state and current.origin_member == "KZ"


def test_positions_and_decisions_join_the_timeline_and_a_member_changes_its_mind(people: People) -> None:
    carol, kira = Api(people.world.carol), Api(people.kira)
    opened = _incident(carol)
    decision = _decide(carol, opened["id"], participants=["KZ", "KG", "SCO"]).json()
    assert _position(kira, decision["id"], "support").status_code == 201
    changed = _position(kira, decision["id"], "abstain").json()
    assert [(p["member"], p["position"]) for p in changed["decision"]["positions"]] == [("KG", "abstain")]
    assert Record.objects.filter(kind="position").count() == 1  # the same record, a new version
    assert _position(Api(people.world.sam), decision["id"], "support").json()["decision"]["state"] == "open"
    assert _position(carol, decision["id"], "support").json()["decision"]["state"] == "adopted"
    kinds = set(IncidentItem.objects.filter(incident_record=opened["id"]).values_list("kind", flat=True))
    assert {"decision", "position"} <= kinds
    late = _position(kira, decision["id"], "object")
    assert late.status_code == 409


def test_an_adopted_level_change_is_applied(people: People) -> None:
    carol, kira = Api(people.world.carol), Api(people.kira)
    opened = _incident(carol)
    decision = _decide(carol, opened["id"], sets_level=1).json()
    _position(kira, decision["id"], "support")
    adopted = _position(carol, decision["id"], "support").json()["decision"]
    assert adopted["state"] == "adopted"
    assert adopted["effect"] == {"level": 1, "applied": True, "incident_seq": 2, "missing_consent": [], "reason": ""}
    shown = carol.get(f"/api/v1/incidents/{opened['id']}").json()
    assert shown["level"] == 1 and shown["change"]["action"] == "decision"
    assert shown["change"]["cause"] == {"node": decision["node"], "record": decision["id"]}


def test_an_adopted_activation_without_consent_is_adopted_but_refused(people: People) -> None:
    carol, kira = Api(people.world.carol), Api(people.kira)
    opened = _incident(carol)
    decision = _decide(carol, opened["id"], sets_level=2).json()
    _position(kira, decision["id"], "support")
    adopted = _position(carol, decision["id"], "support").json()["decision"]
    assert adopted["state"] == "adopted"
    effect = adopted["effect"]
    assert effect["applied"] is False and effect["missing_consent"] == ["KZ", "KG"] and effect["level"] == 2
    assert carol.get(f"/api/v1/incidents/{opened['id']}").json()["level"] == 0


def test_a_position_from_a_peer_is_counted_by_the_decisions_origin(people: People) -> None:
    carol = Api(people.world.carol)
    opened = _incident(carol)
    decision = _decide(carol, opened["id"]).json()
    _position(carol, decision["id"], "support")
    ref = {"node": decision["node"], "record": decision["id"]}
    body = {"decision": ref, "incident": decision["incident"], "member": "KG", "position": "support"}
    outsider = make_peer("RU").ingest("position", {**body, "member": "RU"})
    position_received(outsider.pk)  # RU does not participate: not counted
    assert Version.objects.filter(record_uuid=decision["id"]).count() == 2
    received = make_peer("KG").ingest("position", body)
    position_received(received.pk)
    shown = carol.get(f"/api/v1/decisions/{decision['id']}").json()
    assert shown["state"] == "adopted" and shown["seq"] == 3
    assert {p["member"] for p in shown["positions"] if p["counted"]} == {"KZ", "KG"}
    position_received(received.pk)
    assert Version.objects.filter(record_uuid=decision["id"]).count() == 3


def test_a_peer_cannot_state_another_members_position(people: People) -> None:
    from accord.records.models import QuarantinedVersion

    carol = Api(people.world.carol)
    decision = _decide(carol, _incident(carol)["id"]).json()
    body = {
        "decision": {"node": decision["node"], "record": decision["id"]},
        "incident": decision["incident"],
        "member": "KZ",
        "position": "object",
    }
    peer = make_peer("KG")
    with pytest.raises(AssertionError):
        peer.ingest("position", body)
    assert QuarantinedVersion.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "status"),
    [
        ({"participants": ["KZ", "XX"]}, "participants", 400),
        ({"participants": ["KZ", "kz"]}, "participants", 400),
        ({"participants": []}, "participants", 400),
        ({"sets_level": 4}, "sets_level", 422),
        ({"sets_level": -1}, "sets_level", 422),
        ({"text": {}}, "text", 400),
        ({"text": {"fr": "oui"}}, "text", 400),
        ({"participants": ["KZ", "KG", "IN"]}, "participants", 400),  # outside the incident's audience
    ],
)
def test_bad_decisions_are_refused_naming_the_field(
    people: People, changes: dict[str, Any], field: str, status: int
) -> None:
    carol = Api(people.world.carol)
    opened = _incident(carol)
    versions = Version.objects.count()
    refused = _decide(carol, opened["id"], **changes)
    assert refused.status_code == status, refused.content
    assert refused.json()["field"] == field
    assert Version.objects.count() == versions


def test_bad_positions_are_refused(people: People) -> None:
    world = people.world
    carol = Api(world.carol)
    opened = _incident(carol)
    decision = _decide(carol, opened["id"]).json()
    versions = Version.objects.count()
    outsider = _position(Api(world.alice), decision["id"], "support")
    assert outsider.status_code == 403 and outsider.json()["field"] == "position"
    unknown = _position(carol, decision["id"], "maybe")
    assert unknown.status_code == 422 and unknown.json()["field"] == "position"
    viewer = _position(Api(people.kim), decision["id"], "support")
    assert viewer.status_code == 403
    assert _position(Api(people.ivan), decision["id"], "support").status_code == 404
    assert Version.objects.count() == versions
    level = _decide(Api(people.kira), opened["id"], sets_level=1)
    assert level.status_code == 403 and level.json()["field"] == "sets_level"
