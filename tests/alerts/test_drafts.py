"""Draft alerts through their actions and the API: saved for the author alone, published, discarded."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from accord.alerts import drafts, queries
from accord.alerts.models import AlertView
from accord.members import actions as member_actions
from accord.notify.models import OutboxEntry
from accord.records import actions as record_actions
from accord.records.envelope import Audience
from accord.records.errors import ActionError, Conflict, NotFound
from accord.records.models import AuditEntry, Record, Version
from accord.records.principal import Principal
from tests.alerts.support import CHOLERA, cap, info
from tests.conftest import World

KZ_RU = Audience(members=["KZ", "RU", "SCO"])


def _save(world: World, **kwargs: Any) -> Version:
    fields: dict[str, Any] = {
        "audience": KZ_RU,
        "tlp": "AMBER",
        "acting_user": world.carol,
        "epidemic": CHOLERA,
        "note": "lab confirmed, 3 of 5 samples",
        "signal": "7d1c0c8e-3f5e-4d4a-9a55-0b7f2f7b8a11",
        "regions": ["KZ-19"],
    }
    fields.update(kwargs)
    return drafts.save_draft(cap(info()), **fields).version


def _sees(account: Any, record_uuid: Any) -> bool:
    return Record.objects.visible_to(Principal.of(account)).filter(uuid=record_uuid).exists()


def test_a_draft_is_seen_by_its_author_alone_and_sent_to_nobody(world: World) -> None:
    draft = _save(world)
    envelope = draft.envelope()
    assert draft.status == "draft" and draft.tlp == "RED"
    assert envelope["audience"]["persons"] == [str(world.carol.uuid)] and not envelope["audience"]["members"]
    assert draft.body["cap"]["status"] == "Draft"
    assert draft.body["draft"] == {
        "audience": KZ_RU.canonical(),
        "tlp": "AMBER",
        "status": "actual",
        "note": "lab confirmed, 3 of 5 samples",
        "signal": "7d1c0c8e-3f5e-4d4a-9a55-0b7f2f7b8a11",
        "regions": ["KZ-19"],
    }
    assert _sees(world.carol, draft.record_uuid)
    kz_viewer = world.dave  # the same organisation as carol
    for other in (kz_viewer, world.alice, world.sam):
        assert not _sees(other, draft.record_uuid)
    assert list(queries.drafts_of(Principal.of(world.carol))) == [draft.record]
    assert not queries.drafts_of(Principal.of(world.dave)).exists()
    assert not OutboxEntry.objects.filter(version=draft).exists()
    assert queries.draft_for_signal(Principal.of(world.carol), "7d1c0c8e-3f5e-4d4a-9a55-0b7f2f7b8a11") == draft.record


def test_a_saved_draft_is_revised_and_then_published_as_a_new_alert(world: World) -> None:
    first = _save(world)
    second = drafts.save_draft(
        cap(info(headline="Cholera in Turkistan region: 41 cases")),
        audience=KZ_RU,
        tlp="AMBER",
        acting_user=world.carol,
        epidemic=CHOLERA,
        record=first.record,
    ).version
    assert second.record_id == first.record_id and second.seq == 2
    assert second.body["draft"]["note"] == "lab confirmed, 3 of 5 samples"  # kept from the first save
    published = drafts.publish_draft(first.record, acting_user=world.carol).version
    assert published.record_uuid != first.record_uuid and published.status == "actual" and published.seq == 1
    assert published.tlp == "AMBER" and published.envelope()["audience"] == KZ_RU.canonical()
    message = published.body["cap"]
    assert message["status"] == "Actual" and message["msgType"] == "Alert" and "draft" not in published.body
    assert "TLP:RED" not in str(message.get("note", "")) and "person:" not in json.dumps(message)
    assert message["info"][0]["headline"] == "Cholera in Turkistan region: 41 cases"
    assert _sees(world.alice, published.record_uuid) is False and _sees(world.sam, published.record_uuid)
    draft = Record.objects.select_related("current_version").get(pk=first.record_id)
    assert draft.current_version is not None and draft.current_version.state == "withdrawn"
    assert draft.current_version.envelope()["reason"] == f"published as alert {published.record_uuid}"
    assert not queries.drafts_of(Principal.of(world.carol)).exists()
    assert OutboxEntry.objects.filter(version=published).exists()
    with pytest.raises(Conflict, match="published or discarded already"):
        drafts.publish_draft(first.record, acting_user=world.carol)


def test_a_draft_is_discarded_and_only_its_author_acts_on_it(world: World) -> None:
    draft = _save(world)
    other = member_actions.create_account(
        username="kz2", organisation=world.kz_health, roles=["focal_point"], acting_user=None
    )
    for stranger in (other, world.sam):
        with pytest.raises(NotFound):
            drafts.publish_draft(draft.record, acting_user=stranger)
        with pytest.raises(NotFound):
            drafts.discard_draft(draft.record, acting_user=stranger)
    drafts.discard_draft(draft.record, acting_user=world.carol)
    assert not queries.drafts_of(Principal.of(world.carol)).exists()
    assert AuditEntry.objects.filter(action="record.withdraw", object_id=f"{draft.record_uuid}#2").exists()
    assert Version.objects.filter(record_uuid=draft.record_uuid).count() == 2  # nothing deleted


def test_a_draft_section_on_an_actual_alert_is_refused(world: World) -> None:
    draft = _save(world)
    body = dict(draft.body, cap=dict(draft.body["cap"], status="Actual"))
    with pytest.raises(ActionError, match="draft: only a draft alert"):
        record_actions.publish("alert", body, audience=KZ_RU, tlp="AMBER", acting_user=world.carol)


def test_the_intended_audience_is_checked_when_saving(world: World) -> None:
    with pytest.raises(ActionError, match="status 'draft' is not one of"):
        _save(world, status="draft")
    with pytest.raises(ActionError):
        _save(world, audience=Audience(everyone=True, members=["KZ"]))
    assert not AlertView.objects.exists()


def _api(method: str, path: str, token: str, payload: Any = None) -> Any:
    client = Client()
    headers = {"Authorization": f"Bearer {token}"}
    if method == "GET":
        return client.get(path, headers=headers)
    return client.post(path, data=json.dumps(payload or {}), content_type="application/json", headers=headers)


def test_the_api_publishes_and_discards_drafts_of_their_author_only(world: World, token_for: Any) -> None:
    draft = _save(world)
    carol, sam = token_for(world.carol), token_for(world.sam)
    assert _api("GET", f"/api/v1/alerts/{draft.record_uuid}", sam).status_code == 404
    assert _api("POST", f"/api/v1/alerts/{draft.record_uuid}/publish", sam).status_code == 404
    assert _api("GET", f"/api/v1/alerts/{draft.record_uuid}", carol).status_code == 200
    published = _api("POST", f"/api/v1/alerts/{draft.record_uuid}/publish", carol)
    assert published.status_code == 201, published.content
    alert = published.json()["alert"]
    assert alert["uuid"] != str(draft.record_uuid) and alert["tlp"] == "AMBER"
    assert _api("GET", f"/api/v1/alerts/{alert['uuid']}", sam).status_code == 200
    again = _api("POST", f"/api/v1/alerts/{draft.record_uuid}/publish", carol)
    assert again.status_code == 409 and "published or discarded already" in again.json()["detail"]
    # An alert that is no draft is neither published again nor discarded.
    assert _api("POST", f"/api/v1/alerts/{alert['uuid']}/publish", carol).status_code == 404
    second = _save(world)
    assert _api("POST", f"/api/v1/alerts/{second.record_uuid}/discard", sam).status_code == 404
    assert _api("POST", f"/api/v1/alerts/{second.record_uuid}/discard", carol).status_code == 204
    assert not queries.drafts_of(Principal.of(world.carol)).exists()


def test_a_draft_written_through_the_api_is_published_to_the_audience_it_was_written_with(
    world: World, token_for: Any
) -> None:
    carol = token_for(world.carol)
    payload = {"cap": cap(info()), "audience": {"members": ["KZ", "CN"]}, "tlp": "AMBER", "status": "draft"}
    written = _api("POST", "/api/v1/alerts", carol, payload)
    assert written.status_code == 201, written.content
    uuid = written.json()["alert"]["uuid"]
    assert [str(r.uuid) for r in queries.drafts_of(Principal.of(world.carol))] == [uuid]
    assert not _sees(world.alice, uuid)  # a draft: its author's alone, whatever its audience says
    published = _api("POST", f"/api/v1/alerts/{uuid}/publish", carol)
    assert published.status_code == 201, published.content
    alert = Record.objects.get(uuid=published.json()["alert"]["uuid"])
    assert alert.current_version is not None and alert.current_version.status == "actual"
    assert (
        alert.current_version.envelope()["audience"]["members"] == ["CN", "KZ"] and alert.current_version.tlp == "AMBER"
    )
    assert _sees(world.alice, alert.uuid)
