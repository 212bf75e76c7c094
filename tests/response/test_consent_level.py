"""The consent rule: levels 2 and 3 need the consent of every affected member; a withdrawn consent drops the
incident to level 1 and notifies; closing and reopening."""

from __future__ import annotations

from typing import Any

import pytest

from accord.notify import messages
from accord.notify.models import Delivery
from accord.records.models import AuditEntry, Record, Version
from accord.response import tasks
from tests.response.conftest import Api, People, incident

pytestmark = pytest.mark.django_db


def _open(people: People) -> tuple[Api, str]:
    carol = Api(people.world.carol)
    created = carol.post("/api/v1/incidents", incident())
    assert created.status_code == 201, created.content
    return carol, created.json()["id"]


def _consent(api: Api, incident_id: str, consent: str, condition: str = "") -> Any:
    return api.post(f"/api/v1/incidents/{incident_id}/consents", {"consent": consent, "condition": condition})


def _level(api: Api, incident_id: str, level: Any, reason: str = "cases in three regions") -> Any:
    return api.post(f"/api/v1/incidents/{incident_id}/level", {"level": level, "reason": reason})


def test_activation_needs_every_affected_members_consent(people: People) -> None:
    carol, incident_id = _open(people)
    kira = Api(people.kira)
    refused = _level(carol, incident_id, 2)
    assert refused.status_code == 409
    assert refused.json()["missing_consent"] == ["KZ", "KG"]
    assert refused.json()["consents"] == {"KZ": None, "KG": None}
    assert _consent(carol, incident_id, "given").status_code == 201
    assert _level(carol, incident_id, 2).json()["missing_consent"] == ["KG"]
    assert _consent(kira, incident_id, "refused", "not yet").status_code == 201
    refused = _level(carol, incident_id, 3)
    assert refused.status_code == 409 and refused.json()["missing_consent"] == ["KG"]
    assert refused.json()["consents"] == {"KZ": "given", "KG": "refused"}
    assert Version.objects.filter(record_uuid=incident_id).count() == 1  # nothing stored by a refusal
    given = _consent(kira, incident_id, "given", "Osh region only")
    assert given.status_code == 201 and given.json()["member"] == "KG" and given.json()["seq"] == 2
    raised = _level(carol, incident_id, 2)
    assert raised.status_code == 200, raised.content
    body = raised.json()
    assert body["level"] == 2 and body["change"] == {
        "action": "level",
        "reason": "cases in three regions",
        "from_level": 0,
    }
    assert [c["member"] for c in body["consents"]] == ["KZ", "KG"]
    assert body["consents"][1]["seq"] == 2
    board = {row["member"]: row for row in carol.get(f"/api/v1/incidents/{incident_id}/consents").json()}
    assert board["KG"]["consent"] == "given" and board["KG"]["condition"] == "Osh region only"
    assert _level(carol, incident_id, 3).status_code == 200


def test_withdrawn_consent_drops_to_level_1_and_notifies(people: People) -> None:
    carol, incident_id = _open(people)
    kira = Api(people.kira)
    _consent(carol, incident_id, "given")
    _consent(kira, incident_id, "given")
    assert _level(carol, incident_id, 3).status_code == 200
    withdrawn = _consent(kira, incident_id, "withdrawn", "the situation is under control")
    assert withdrawn.status_code == 201 and withdrawn.json()["incident_level"] == 1
    now = carol.get(f"/api/v1/incidents/{incident_id}").json()
    assert now["level"] == 1 and now["consents"] == []
    assert now["change"]["action"] == "consent_withdrawn" and now["change"]["from_level"] == 3
    assert now["change"]["cause"]["record"] == withdrawn.json()["id"]
    version = Version.objects.get(record_uuid=incident_id, seq=now["seq"])
    assert version.origin_member == "KZ"  # issued by the origin node, in the opening organisation's name
    assert AuditEntry.objects.filter(action="incident.level.dropped").count() == 1
    told = Delivery.objects.filter(record__uuid=incident_id, data__escalation=messages.INCIDENT_LEVEL_DROPPED)
    assert {d.address for d in told} >= {"carol@example.org", "kira@example.org", "sam@example.org"}
    assert "ivan@example.org" not in {d.address for d in told}
    kiras = told.get(address="kira@example.org")
    assert kiras.language == "ru"  # the language of her member
    russian = messages.render(kiras)
    assert russian.subject == "[Accord] Инцидент возвращён на уровень 1: Корь в Ферганской долине"
    assert "KG" in russian.text and "с уровня 3 на уровень 1" in russian.text
    kiras.language = "en"
    english = messages.render(kiras)
    assert "went back from level 3 to level 1" in english.text and english.payload["type"] == "incident.level_dropped"
    # Raising again needs the consent again; the reaction does nothing twice.
    assert _level(carol, incident_id, 2).json()["missing_consent"] == ["KG"]
    tasks.consent_committed(Version.objects.get(record_uuid=withdrawn.json()["id"], seq=withdrawn.json()["seq"]).pk)
    assert Version.objects.filter(record_uuid=incident_id).count() == 3


def test_a_received_withdrawal_is_acted_on_by_the_worker(people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    """The listener (run by the worker for consents stored here, received ones included) drops the level."""
    carol, incident_id = _open(people)
    kira = Api(people.kira)
    _consent(carol, incident_id, "given")
    _consent(kira, incident_id, "given")
    _level(carol, incident_id, 2)
    from accord.response import actions

    incident = Record.objects.get(uuid=incident_id)
    # The consent written without its synchronous reaction, as if it had arrived from a peer.
    with monkeypatch.context() as patched:
        patched.setattr(actions, "react_to_consent", lambda consent: None)
        actions.record_consent(incident, consent="refused", acting_user=people.kira)
    assert Version.objects.filter(record_uuid=incident_id).order_by("-seq")[0].body["level"] == 2
    consent = Version.objects.filter(kind="consent", origin_member="KG").order_by("-pk").first()
    assert consent is not None
    tasks.consent_committed(consent.pk)
    assert carol.get(f"/api/v1/incidents/{incident_id}").json()["level"] == 1


def test_who_may_consent(people: People) -> None:
    carol, incident_id = _open(people)
    assert _consent(Api(people.world.alice), incident_id, "given").status_code == 403  # CN sees it, is not affected
    assert _consent(Api(people.world.dave), incident_id, "given").status_code == 403  # a viewer of KZ
    assert _consent(Api(people.ivan), incident_id, "given").status_code == 404  # outside the audience
    answer = _consent(carol, incident_id, "maybe")
    assert answer.status_code == 422 and answer.json()["field"] == "consent"
    assert not Record.objects.filter(kind="consent").exists()


def test_level_bad_input_and_who_may_change_it(people: People) -> None:
    carol, incident_id = _open(people)
    for level in (4, -1, "2", 1.5):
        answer = _level(carol, incident_id, level)
        assert answer.status_code == 422 and answer.json()["field"] == "level", (level, answer.content)
    assert _level(carol, incident_id, 1, reason="").json()["field"] == "reason"
    assert _level(carol, incident_id, 0).json()["field"] == "level"  # at level 0 already
    assert _level(Api(people.kira), incident_id, 1).status_code == 403  # not the organisation that opened it
    assert Version.objects.filter(record_uuid=incident_id).count() == 1
    assert _level(carol, incident_id, 1).json()["level"] == 1


def test_close_needs_a_reason_and_reopening_is_a_new_version(people: People) -> None:
    carol, incident_id = _open(people)
    path = f"/api/v1/incidents/{incident_id}"
    assert carol.post(f"{path}/close", {}).json()["field"] == "reason"
    assert carol.post(f"{path}/close", {"reason": " "}).status_code == 400
    closed = carol.post(f"{path}/close", {"reason": "no new cases for 42 days"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert carol.post(f"{path}/close", {"reason": "again"}).status_code == 409
    assert _level(carol, incident_id, 1).status_code == 409
    assert _consent(Api(people.kira), incident_id, "given").status_code == 409
    assert [i["id"] for i in carol.get("/api/v1/incidents", status="closed").json()["items"]] == [incident_id]
    reopened = carol.post(f"{path}/reopen", {"reason": "new cases in Osh"})
    assert reopened.status_code == 200 and reopened.json()["status"] == "open" and reopened.json()["seq"] == 3
    assert reopened.json()["change"] == {"action": "reopen", "reason": "new cases in Osh"}
    assert carol.post(f"{path}/reopen", {"reason": "again"}).status_code == 409
