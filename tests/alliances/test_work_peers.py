"""Activities received from a peer fill the same query table as those issued here: the list, the activity and the
calendar show them; a later version from the peer moves the row; a version that breaks a rule of the kind (the state
going back, the dates the wrong way round, a host of another member than the issuing node's) is quarantined, never
shown."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from icalendar import Calendar

from accord.alliances.work_models import ActivityView
from accord.lib import canonical
from accord.records import actions
from accord.records.envelope import Audience, build_envelope, encode
from accord.records.models import QuarantinedVersion, Record
from tests.alliances.work_support import ACTIVITY_KIND, Api
from tests.conftest import World, client_for
from tests.response.peers import Peer, make_peer

pytestmark = pytest.mark.django_db


def _body(state: str = "planned", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "alliance": "agriculture",
        "type": "research",
        "rd": False,
        "fields": ["one_health"],
        "title": {"ru": "Единое здоровье: бруцеллёз", "en": "One Health: brucellosis"},
        "description": {},
        "starts": "2026-04-01",
        "ends": "2027-03-31",
        "host": {"slug": "kz-demo-agri", "member": "KZ", "name": "Demo Agrarian University (Kazakhstan)"},
        "place": "Astana",
        "participants": {"organisations": [{"slug": "by-demo-agri", "member": "BY"}], "persons": []},
        "outputs": [],
        "state": state,
    }
    body.update(changes)
    return body


def _sign(peer: Peer, body: dict[str, Any], record: uuid.UUID, seq: int, prev_hash: str | None) -> Any:
    envelope = build_envelope(
        kind=ACTIVITY_KIND,
        origin={"node": str(peer.node_id), "member": peer.member, "organisation": str(uuid.uuid4()),
                "account": str(uuid.uuid4())},
        record=record, seq=seq, prev_hash=prev_hash, status="actual", state="active",
        audience=Audience(everyone=True), tlp="GREEN", body=body, attachments=[],
    )  # fmt: skip
    data, _ = encode(envelope)
    return actions.ingest(data, canonical.sign(peer.key, data), peer.kid, source="test")


def test_a_peers_versions_fill_the_projection(world: World) -> None:
    peer = make_peer("KZ")
    first = peer.ingest(ACTIVITY_KIND, _body())
    view = ActivityView.objects.get(record__uuid=first.record_uuid)
    assert (view.alliance, view.type, view.state, view.host_member, view.node) == (
        "agriculture", "research", "planned", "KZ", peer.node_id
    )  # fmt: skip
    api = Api(world.carol, "read")
    listed = api.get("/api/v1/alliances/agriculture/activities").json()
    assert [i["id"] for i in listed["items"]] == [str(first.record_uuid)]
    assert listed["items"][0]["node"] == str(peer.node_id)
    second = peer.ingest(ACTIVITY_KIND, _body("ongoing"), record=first.record_uuid, seq=2, prev_hash=first.content_hash)
    assert ActivityView.objects.get(record__uuid=first.record_uuid).state == "ongoing"
    calendar = Calendar.from_ical(client_for(world.carol).get("/alliances/agriculture/calendar.ics").content)
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == f"{first.record_uuid}@accord" and str(event["SEQUENCE"]) == "2"
    withdrawn = peer.ingest(
        ACTIVITY_KIND, _body("ongoing"), record=first.record_uuid, seq=3, prev_hash=second.content_hash,
        state="withdrawn", reason="in error",
    )  # fmt: skip
    assert withdrawn.state == "withdrawn"
    assert not ActivityView.objects.get(record__uuid=first.record_uuid).active
    assert api.get("/api/v1/alliances/agriculture/activities").json()["count"] == 0


def test_a_peers_activity_is_not_changed_here(world: World) -> None:
    from accord.alliances.models import Alliance

    Alliance.objects.get(slug="agriculture").council.add(world.kz_health)
    peer = make_peer("KZ")
    first = peer.ingest(ACTIVITY_KIND, _body())
    response = Api(world.carol).post(f"/api/v1/activities/{first.record_uuid}/cancel", {})
    assert response.status_code == 409 and response.json()["field"] == "activity"
    assert Record.objects.get(uuid=first.record_uuid).current_seq == 1


@pytest.mark.parametrize(
    "second",
    [
        _body("planned"),  # after completed: going back
        _body("completed", starts="2027-05-01"),  # ends before it starts
        _body("completed", host={"slug": "cn-demo", "member": "CN", "name": "x"}),  # for another member
        _body("completed", alliance="medicine"),  # moved to another alliance
    ],
)
def test_a_version_breaking_the_rules_is_quarantined(world: World, second: dict[str, Any]) -> None:
    peer = make_peer("KZ")
    record = uuid.uuid4()
    first = _sign(peer, _body("completed"), record, 1, None)
    assert first.outcome == "stored"
    result = _sign(peer, second, record, 2, first.version.content_hash)
    assert result.outcome == "quarantined"
    assert QuarantinedVersion.objects.filter(record_uuid=record).count() == 1
    assert Record.objects.get(uuid=record).current_seq == 1
    assert ActivityView.objects.get(record__uuid=record).state == "completed"
