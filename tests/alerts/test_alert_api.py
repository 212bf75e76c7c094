"""/api/v1/alerts and /api/v1/assessments, and the CAP index feeds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from lxml import etree

from accord.alerts import actions
from accord.lib import cap as caplib
from accord.members import actions as member_actions
from accord.records.envelope import Audience
from accord.records.models import AuditEntry, Version
from tests.alerts.support import CHOLERA, cap, cap_xml, info
from tests.conftest import World


def _token(account: Any, scope: str = "write") -> str:
    return member_actions.create_token(account, name="t", scope=scope, acting_user=None)[1]


def _post(
    path: str, token: str, payload: Any = None, *, raw: bytes | None = None, content_type: str = "application/json"
) -> Any:
    data = raw if raw is not None else json.dumps(payload)
    return Client().post(path, data=data, content_type=content_type, headers={"Authorization": f"Bearer {token}"})


def _get(path: str, token: str, **params: Any) -> Any:
    return Client().get(path, params, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def carol(world: World) -> str:
    return _token(world.carol)


def _json_alert(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "cap": cap(info(), info("zh-CN", event="霍乱疫情")),
        "audience": {"members": ["KZ", "RU", "CN"]},
        "tlp": "AMBER",
        "epidemic": CHOLERA,
    }
    payload.update(changes)
    return payload


def test_publish_from_json_read_it_back_as_cap_and_geojson(world: World, carol: str) -> None:
    created = _post("/api/v1/alerts", carol, _json_alert())
    assert created.status_code == 201, created.content
    alert = created.json()["alert"]
    assert alert["disease"]["code"] == "A00" and alert["severity"] == "Severe" and alert["tlp"] == "AMBER"
    xml = _get(f"/api/v1/alerts/{alert['uuid']}.cap", carol)
    assert xml["Content-Type"] == "application/cap+xml"
    report = caplib.validate(xml.content)
    assert report.valid and report.valid_xsd
    geo = _get(f"/api/v1/alerts/{alert['uuid']}.geojson", carol).json()
    assert geo["type"] == "FeatureCollection" and geo["features"][0]["geometry"]["type"] == "Polygon"


def test_publish_from_cap_xml_keeps_the_bytes(world: World, carol: str) -> None:
    data = cap_xml()
    created = _post("/api/v1/alerts", carol, raw=data, content_type="application/cap+xml")
    assert created.status_code == 201, created.content
    uuid = created.json()["alert"]["uuid"]
    assert Client().get(f"/api/v1/alerts/{uuid}.cap", headers={"Authorization": f"Bearer {carol}"}).content == data


@pytest.mark.parametrize(
    ("raw", "content_type", "rule"),
    [
        (cap_xml(sent="2026-11-27T10:00:00Z"), "application/cap+xml", "CAP-"),
        (b"<alert", "application/cap+xml", "CAP-XML"),
        (
            b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><alert>&x;</alert>',
            "application/xml",
            "CAP-XML-DTD",
        ),
    ],
)
def test_bad_cap_gets_a_400_with_the_rules_and_nothing_is_stored(
    world: World, carol: str, raw: bytes, content_type: str, rule: str
) -> None:
    before = (Version.objects.count(), AuditEntry.objects.count())
    response = _post("/api/v1/alerts", carol, raw=raw, content_type=content_type)
    assert response.status_code == 400, response.content
    body = response.json()
    assert rule in body["detail"]
    assert all({"rule", "severity", "path", "message"} <= set(e) for e in body["errors"])
    assert (Version.objects.count(), AuditEntry.objects.count()) == before


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"tlp": "RED"}, 400, "TLP:RED"),
        ({"cap": {"info": "not a list"}}, 400, "info"),
        ({"epidemic": {"disease": {"system": "ICD-9", "code": "1", "name": "x"}}}, 400, "epidemic"),
        ({"status": "rumour"}, 422, "status: Input should be 'actual'"),
    ],
)
def test_bad_json_alerts_get_a_4xx_naming_the_problem(
    world: World, carol: str, changes: dict[str, Any], status: int, message: str
) -> None:
    before = Version.objects.count()
    response = _post("/api/v1/alerts", carol, _json_alert(**changes))
    assert response.status_code == status, response.content
    assert message in response.content.decode()
    assert Version.objects.count() == before


def test_unsupported_content_type_is_a_400(world: World, carol: str) -> None:
    response = _post("/api/v1/alerts", carol, raw=b"x", content_type="text/plain")
    assert response.status_code == 400 and "application/cap+xml" in response.json()["detail"]


def test_list_filters(world: World, carol: str) -> None:
    _post("/api/v1/alerts", carol, _json_alert())
    other = cap(
        info(
            category=["Met"],
            event="Flood",
            severity="Moderate",
            urgency="Expected",
            certainty="Likely",
            area=[{"areaDesc": "Minsk", "circle": ["53.9,27.56 30"]}],
        )
    )
    _post("/api/v1/alerts", carol, _json_alert(cap=other, epidemic=None))
    _post("/api/v1/alerts", carol, raw=cap_xml(status="Exercise"), content_type="application/cap+xml")

    def titles(**params: Any) -> list[str]:
        response = _get("/api/v1/alerts", carol, **params)
        assert response.status_code == 200, response.content
        return sorted(item["event"] for item in response.json()["items"])

    assert titles() == ["Cholera outbreak", "Flood", "Measles"]
    assert titles(category="Met") == ["Flood"]
    assert titles(severity="Severe") == ["Cholera outbreak"]
    assert titles(status="exercise") == ["Measles"]
    assert titles(bbox="27,53,28,54") == ["Flood"]
    assert titles(bbox="60,40,75,45") == ["Cholera outbreak", "Measles"]
    assert titles(q="Minsk") == ["Flood"]
    assert titles(disease="A00") == ["Cholera outbreak"]
    assert titles(member="KZ", urgency="Expected", certainty="Likely") == ["Flood", "Measles"]
    assert _get("/api/v1/alerts", carol, bbox="a,b").status_code == 422  # the schema's pattern


def test_outsiders_see_no_alert_anywhere(world: World, carol: str) -> None:
    created = _post("/api/v1/alerts", carol, _json_alert(audience={"members": ["KZ"]})).json()["alert"]
    sam = _token(world.sam)
    assert _get("/api/v1/alerts", sam).json()["count"] == 0
    for suffix in ("", ".cap", ".geojson", "/acknowledgements"):
        response = _get(f"/api/v1/alerts/{created['uuid']}{suffix}", sam)
        assert response.status_code == 404 and "Cholera" not in response.content.decode()
    assert _post(f"/api/v1/alerts/{created['uuid']}/acknowledge", sam, {}).status_code == 404


def test_update_cancel_acknowledge_and_board_over_the_api(world: World, carol: str) -> None:
    uuid = _post("/api/v1/alerts", carol, _json_alert()).json()["alert"]["uuid"]
    updated = _post(f"/api/v1/alerts/{uuid}/update", carol, {"cap": cap(info(description="more cases"))})
    assert updated.status_code == 201 and updated.json()["alert"]["msg_type"] == "Update"
    board = _post(f"/api/v1/alerts/{uuid}/acknowledge", _token(world.alice), {"note": "seen"})
    assert board.status_code == 201
    assert {row["member"]: bool(row["acknowledged_at"]) for row in board.json()} == {"CN": True, "RU": False}
    again = _post(f"/api/v1/alerts/{uuid}/acknowledge", _token(world.bob), {})
    assert again.status_code == 409
    cancelled = _post(f"/api/v1/alerts/{uuid}/cancel", carol, {"reason": "resolved"})
    assert cancelled.json()["alert"]["state"] == "withdrawn" and cancelled.json()["alert"]["msg_type"] == "Cancel"


def test_the_secretariat_acknowledges_over_the_api_through_a_coordinator(world: World, carol: str) -> None:
    uuid = _post("/api/v1/alerts", carol, _json_alert(audience={"members": ["KZ", "SCO", "CN"]})).json()["alert"][
        "uuid"
    ]
    before = _get(f"/api/v1/alerts/{uuid}/acknowledgements", _token(world.sam)).json()
    assert {row["member"]: row["acknowledged_at"] for row in before} == {"CN": None, "SCO": None}
    board = _post(f"/api/v1/alerts/{uuid}/acknowledge", _token(world.sam), {"note": "Secretariat informed"})
    assert board.status_code == 201, board.content
    assert {row["member"]: bool(row["acknowledged_at"]) for row in board.json()} == {"CN": False, "SCO": True}
    assert _post(f"/api/v1/alerts/{uuid}/acknowledge", _token(world.sam), {}).status_code == 409
    # A Secretariat viewer does not acknowledge for it; nothing is stored.
    viewer = member_actions.create_account(
        username="scoview", organisation=world.secretariat, roles=["viewer"], acting_user=None
    )
    refused = _post(f"/api/v1/alerts/{uuid}/acknowledge", _token(viewer), {})
    assert refused.status_code == 403 and "coordinator, focal_point" in refused.json()["detail"]
    after = _get(f"/api/v1/alerts/{uuid}/acknowledgements", _token(world.sam)).json()
    assert {row["member"]: bool(row["acknowledged_at"]) for row in after} == {"CN": False, "SCO": True}


def test_assessments_over_the_api(world: World, carol: str) -> None:
    uuid = _post("/api/v1/alerts", carol, _json_alert()).json()["alert"]["uuid"]
    answers = {
        k: {"answer": k in ("serious_impact", "international_spread")}
        for k in ("serious_impact", "unusual", "international_spread", "travel_trade")
    }
    created = _post(
        "/api/v1/assessments",
        carol,
        {
            "event": "cholera",
            "alert": uuid,
            "answers": answers,
            "disease": {"system": "ICD-10", "code": "A00", "name": "Cholera"},
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    # The alert came before the assessment: its first message does not notify it; the next one does.
    assert body["outcome"] == "notify" and body["clock"] == "pending" and body["alert"] == uuid
    assert body["notified_at"] is None
    assert (
        _post(f"/api/v1/alerts/{uuid}/update", carol, {"cap": cap(info(description="notifiable"))}).status_code == 201
    )
    clock = _get(f"/api/v1/assessments/{body['uuid']}", carol).json()
    assert clock["clock"] == "notified_in_time"
    assert datetime.fromisoformat(clock["notified_at"]) >= datetime.fromisoformat(clock["assessed_at"])
    assert _get(f"/api/v1/assessments/{body['uuid']}", carol).json()["reason"].startswith("2 of the 4")
    missing = {k: v for k, v in answers.items() if k != "unusual"}
    assert _post("/api/v1/assessments", carol, {"event": "x", "answers": missing}).status_code == 422


def test_a_notification_before_its_assessment_is_refused_naming_the_field(world: World, carol: str) -> None:
    """An assessment made (as signed) at 12:00 is not notified by an alert sent at 10:00: a 400, nothing stored."""
    from accord.records import actions as record_actions

    later = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0).isoformat()
    assessment = record_actions.publish(
        "ihr_assessment",
        {
            "event": "cholera",
            "answers": {
                k: {"answer": True} for k in ("serious_impact", "unusual", "international_spread", "travel_trade")
            },
            "always_notifiable": False,
            "outcome": "notify",
            "reason": "4 of the 4 Annex 2 questions answered yes",
            "assessed_at": later,
        },
        audience=Audience(members=["KZ", "RU", "CN"]),
        tlp="AMBER",
        acting_user=world.carol,
    )
    before = Version.objects.count()
    refused = _post(
        "/api/v1/alerts", carol, _json_alert(epidemic={**CHOLERA, "assessment": str(assessment.record_uuid)})
    )
    assert refused.status_code == 400, refused.content
    detail = refused.json()["detail"]
    assert "cap.sent" in detail and "is before the assessment it notifies" in detail and later in detail
    assert Version.objects.count() == before


def _atom_entries(content: bytes) -> list[str]:
    root = etree.fromstring(content)
    return [
        e.findtext("{http://www.w3.org/2005/Atom}title") or "" for e in root.iter("{http://www.w3.org/2005/Atom}entry")
    ]


def test_the_public_feed_lists_only_clear_public_actual_alerts(world: World) -> None:
    public = cap(info(headline="Public flood warning"))
    actions.publish_alert(public, audience=Audience(everyone=True), tlp="CLEAR", acting_user=world.carol)
    actions.publish_alert(
        cap(info(headline="Members only")), audience=Audience(everyone=True), tlp="GREEN", acting_user=world.carol
    )
    actions.publish_alert(
        cap(info(headline="Exercise only")),
        audience=Audience(everyone=True),
        tlp="CLEAR",
        status="exercise",
        acting_user=world.carol,
    )
    feed = Client().get("/feeds/alerts.atom")
    assert feed.status_code == 200 and feed["Content-Type"].startswith("application/atom+xml")
    assert _atom_entries(feed.content) == ["Public flood warning"]
    report = caplib.validate(feed.content)
    assert report.kind == "atom-feed" and report.valid, report.errors
    link = etree.fromstring(feed.content).find(
        ".//{http://www.w3.org/2005/Atom}entry/{http://www.w3.org/2005/Atom}link"
    )
    assert link is not None and link.get("type") == "application/cap+xml"
    cap_doc = Client().get(link.get("href", "").replace("http://testserver", ""))
    assert cap_doc.status_code == 200 and caplib.validate(cap_doc.content).valid
    rss = Client().get("/feeds/alerts.rss")
    assert b"Public flood warning" in rss.content and b"Members only" not in rss.content
    assert caplib.validate(rss.content).kind == "rss-feed"
    assert Client().get("/feeds/alerts.json").status_code == 404


def test_token_feeds_show_what_the_account_may_see_and_stop_when_revoked(world: World) -> None:
    actions.publish_alert(
        cap(info(headline="For KZ and CN")),
        audience=Audience(members=["KZ", "CN"]),
        tlp="AMBER",
        acting_user=world.carol,
    )
    actions.publish_alert(
        cap(info(headline="For KZ only")), audience=Audience(members=["KZ"]), tlp="AMBER", acting_user=world.carol
    )
    token, text = member_actions.create_token(world.alice, name="feed", scope="feed", acting_user=None)
    feed = Client().get(f"/feeds/t/{text}/alerts.atom")
    assert _atom_entries(feed.content) == ["For KZ and CN"]
    # A feed token opens nothing else, and an API token is no feed token.
    assert Client().get("/api/v1/alerts", headers={"Authorization": f"Bearer {text}"}).status_code == 401
    assert Client().get(f"/feeds/t/{_token(world.alice)}/alerts.atom").status_code == 404
    member_actions.revoke_token(token, acting_user=world.alice)
    assert Client().get(f"/feeds/t/{text}/alerts.atom").status_code == 404
