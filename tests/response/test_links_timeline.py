"""Links (visible only where both ends are; unlinking is a withdrawal) and the incident timeline."""

from __future__ import annotations

from typing import Any

import pytest

from accord.alerts import actions as alert_actions
from accord.records import actions as record_actions
from accord.records.envelope import Audience
from accord.records.models import Record, Version
from accord.records.principal import Principal
from accord.response import queries
from tests.alerts.support import cap
from tests.response.conftest import Api, People, incident

pytestmark = pytest.mark.django_db


def _setup(people: People) -> tuple[Api, Api, str, str]:
    """carol's incident (KZ, KG, CN, SCO; GREEN) and kira's alert (KG, KZ; AMBER)."""
    carol, kira = Api(people.world.carol), Api(people.kira)
    created = carol.post("/api/v1/incidents", incident())
    assert created.status_code == 201, created.content
    alert = alert_actions.publish_alert(
        cap(), audience=Audience(members=["KG", "KZ"]), tlp="AMBER", acting_user=people.kira
    ).version
    return carol, kira, created.json()["id"], str(alert.record_uuid)


def _link(api: Api, incident_id: str, record: Any) -> Any:
    return api.post(f"/api/v1/incidents/{incident_id}/links", {"record": record})


def test_a_member_links_its_own_alert_to_anothers_incident(people: People) -> None:
    carol, kira, incident_id, alert_id = _setup(people)
    linked = _link(kira, incident_id, alert_id)
    assert linked.status_code == 201, linked.content
    link = linked.json()
    assert link["record"] == alert_id and link["kind"] == "alert" and link["linked_by"] == "KG"
    version = Version.objects.get(record_uuid=link["id"])
    assert version.kind == "incident_link" and version.origin_member == "KG"
    assert version.tlp == "AMBER" and version.envelope()["audience"]["members"] == ["KG", "KZ"]  # the narrower
    assert [x["id"] for x in carol.get(f"/api/v1/incidents/{incident_id}/links").json()] == [link["id"]]
    alert_record = Record.objects.get(uuid=alert_id)
    assert [r.uuid for r in queries.incidents_of(Principal.of(people.world.carol), alert_record)] == [
        Record.objects.get(uuid=incident_id).uuid
    ]
    assert _link(kira, incident_id, alert_id).status_code == 409  # linked already


def test_a_link_is_seen_only_where_both_ends_are(people: People) -> None:
    carol, kira, incident_id, alert_id = _setup(people)
    link_id = _link(kira, incident_id, alert_id).json()["id"]
    alice = Api(people.world.alice)  # CN: sees the incident, not the alert (nor the link)
    assert alice.get(f"/api/v1/incidents/{incident_id}").status_code == 200
    assert alice.get(f"/api/v1/incidents/{incident_id}/links").json() == []
    kinds = [i["kind"] for i in alice.get(f"/api/v1/incidents/{incident_id}/timeline").json()["items"]]
    assert kinds == ["incident"]
    assert alice.get(f"/api/v1/records/{link_id}").status_code == 404
    # The alert narrowed later to KG alone: carol still sees the link record, but no longer the link.
    alert = Record.objects.get(uuid=alert_id)
    alert_actions.update_alert(alert, cap(), acting_user=people.kira, audience=Audience(members=["KG"]), tlp="AMBER")
    assert carol.get(f"/api/v1/records/{link_id}").status_code == 200
    assert carol.get(f"/api/v1/incidents/{incident_id}/links").json() == []
    assert "alert" not in {i["kind"] for i in carol.get(f"/api/v1/incidents/{incident_id}/timeline").json()["items"]}
    assert kira.get(f"/api/v1/incidents/{incident_id}/links").json()[0]["id"] == link_id
    ivan = Api(people.ivan)
    assert ivan.get(f"/api/v1/incidents/{incident_id}/timeline").status_code == 404
    assert ivan.get(f"/api/v1/incidents/{incident_id}/links").status_code == 404
    assert ivan.get("/api/v1/incidents").json()["items"] == []


def test_a_link_made_where_no_audience_sees_both_is_refused(people: People) -> None:
    carol, _, incident_id, _ = _setup(people)
    # alice's note for CN only: CN sees the incident too, but KZ (carol) cannot see the note, so she cannot link it.
    note = record_actions.publish(
        "note", {"title": "CN only"}, audience=Audience(members=["CN"]), tlp="AMBER", acting_user=people.world.alice
    )
    answer = _link(carol, incident_id, str(note.record_uuid))
    assert answer.status_code == 404 and answer.json()["field"] == "record"
    linked = _link(Api(people.world.alice), incident_id, str(note.record_uuid))
    assert linked.status_code == 201
    link = Version.objects.get(record_uuid=linked.json()["id"])
    assert link.envelope()["audience"]["members"] == ["CN"]
    assert carol.get(f"/api/v1/incidents/{incident_id}/links").json() == []


def test_bad_links(people: People) -> None:
    carol, _, incident_id, _ = _setup(people)
    assert _link(carol, incident_id, incident_id).json()["field"] == "record"
    assert _link(carol, incident_id, "00000000-0000-0000-0000-000000000000").status_code == 404
    assert _link(carol, incident_id, "not-a-uuid").status_code == 422
    assert _link(Api(people.world.dave), incident_id, incident_id).status_code in (400, 403)
    assert not Record.objects.filter(kind="incident_link").exists()


def test_unlinking_is_a_withdrawal_by_the_linker(people: People) -> None:
    carol, kira, incident_id, alert_id = _setup(people)
    link_id = _link(kira, incident_id, alert_id).json()["id"]
    path = f"/api/v1/incidents/{incident_id}/links/{link_id}/withdraw"
    assert carol.post(path, {"reason": "not related"}).status_code == 403  # not her organisation's link
    gone = kira.post(path, {"reason": "not related"})
    assert gone.status_code == 200 and gone.json()["state"] == "withdrawn"
    assert Version.objects.filter(record_uuid=link_id).count() == 2
    assert carol.get(f"/api/v1/incidents/{incident_id}/links").json() == []
    kinds = {i["kind"] for i in carol.get(f"/api/v1/incidents/{incident_id}/timeline").json()["items"]}
    assert "alert" not in kinds
    assert _link(kira, incident_id, alert_id).status_code == 201  # linked again


def test_timeline_in_time_order(people: People) -> None:
    carol, kira, incident_id, alert_id = _setup(people)
    _link(kira, incident_id, alert_id)
    carol.post(f"/api/v1/incidents/{incident_id}/consents", {"consent": "given"})
    kira.post(f"/api/v1/incidents/{incident_id}/consents", {"consent": "given", "condition": "Osh only"})
    carol.post(f"/api/v1/incidents/{incident_id}/level", {"level": 2, "reason": "spreading"})
    kira.post(f"/api/v1/incidents/{incident_id}/consents", {"consent": "withdrawn"})
    items = carol.get(f"/api/v1/incidents/{incident_id}/timeline").json()["items"]
    assert [i["at"] for i in items] == sorted(i["at"] for i in items)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_kind.setdefault(item["kind"], []).append(item)
    actions = [i["details"]["action"] for i in by_kind["incident"]]
    assert actions == ["open", "level", "consent_withdrawn"]
    assert [i["details"]["level"] for i in by_kind["incident"]] == [0, 2, 1]
    consents = [(i["origin"], i["details"]["consent"]) for i in by_kind["consent"]]
    assert sorted(consents) == [("KG", "given"), ("KG", "withdrawn"), ("KZ", "given")]
    (alert,) = by_kind["alert"]
    assert alert["record"] == alert_id and alert["origin"] == "KG" and alert["via"]["linked_by"] == "KG"
    assert set(by_kind) == {"incident", "consent", "alert"}  # the link itself shows as its target
