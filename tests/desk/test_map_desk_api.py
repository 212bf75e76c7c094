"""GET /api/v1/map.geojson and GET /api/v1/desk: what each reader may see, with the demo's real items."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accord.alerts import actions as alert_actions
from accord.members.demo import load_demo
from accord.members.models import Account
from accord.records.envelope import Audience
from accord.records.models import Record
from tests.alerts.support import cap, info
from tests.conftest import World, client_for


def _get(token: str, path: str, **params: Any) -> Any:
    return Client().get(path, params, headers={"Authorization": f"Bearer {token}"})


def _alert(world: World, members: list[str] | None, **extra: Any) -> str:
    published = alert_actions.publish_alert(
        cap(info(**extra)),
        audience=Audience(members=members) if members else Audience(everyone=True),
        tlp="AMBER" if members else "GREEN",
        acting_user=world.alice,
    )
    return str(published.version.record_uuid)


def test_the_map_shows_current_alerts_the_reader_may_see(world: World, token_for: Any) -> None:
    public = _alert(world, None)
    to_kz = _alert(world, ["KZ"], severity="Extreme", headline="Extreme for Kazakhstan")
    to_ru = _alert(world, ["RU"], headline="For Russia only")
    expired = _alert(world, None, expires="2001-01-01T00:00:00+00:00", headline="long over")
    carol = token_for(world.carol)
    body = _get(carol, "/api/v1/map.geojson").json()
    assert body["type"] == "FeatureCollection"
    alerts = {f["properties"]["record"]: f for f in body["features"] if f["properties"]["kind"] == "alert"}
    assert set(alerts) == {public, to_kz}
    assert to_ru not in alerts and expired not in alerts
    shape = alerts[public]["geometry"]
    assert shape["type"] == "Polygon" and shape["coordinates"][0][0] == [68.0, 43.0]  # GeoJSON: lon, lat
    assert alerts[to_kz]["properties"]["severity"] == "Extreme"
    assert alerts[to_kz]["properties"]["url"] == f"/alerts/{to_kz}/"
    severe = _get(carol, "/api/v1/map.geojson", severity="Extreme").json()
    assert [f["properties"]["record"] for f in severe["features"]] == [to_kz]
    assert _get(carol, "/api/v1/map.geojson", kind="incident,signal").json()["counts"] == {"incident": 0, "signal": 0}
    assert _get(carol, "/api/v1/map.geojson", member="RU").json()["features"] == []
    bad = _get(carol, "/api/v1/map.geojson", kind="alerts")
    assert bad.status_code == 400 and bad.json()["field"] == "kind" and "alert, incident" in bad.json()["detail"]
    assert Client().get("/api/v1/map.geojson").status_code == 401


def test_an_acknowledgement_waits_on_the_desk_of_the_addressed_member_until_given(world: World, token_for: Any) -> None:
    record_uuid = _alert(world, ["KZ"])
    items = _get(token_for(world.carol), "/api/v1/desk").json()["items"]
    waiting = [i for i in items if i["kind"] == "acknowledgement"]
    assert [i["record"] for i in waiting] == [record_uuid]
    assert waiting[0]["due"] is not None and waiting[0]["overdue"] is False
    assert waiting[0]["title"] == "Cholera in Turkistan region"
    assert _get(token_for(world.alice), "/api/v1/desk").json()["total"] == 0  # the sender's member does not ack
    assert _get(token_for(world.sam), "/api/v1/desk").json()["total"] == 0  # not addressed
    alert_actions.acknowledge(Record.objects.get(uuid=record_uuid), acting_user=world.carol)
    assert _get(token_for(world.dave), "/api/v1/desk").json()["total"] == 0
    assert Client().get("/api/v1/desk").status_code == 401


@pytest.mark.usefixtures("db")
def test_the_demo_focal_points_find_their_real_items_and_the_map_every_layer() -> None:
    load_demo()
    kz = client_for(Account.objects.get(username="kz.health"))
    desk = kz.get("/api/v1/desk").json()
    kinds = {item["kind"] for item in desk["items"]}
    assert {"acknowledgement", "signal", "assistance_request"} <= kinds
    flood = next(i for i in desk["items"] if i["kind"] == "acknowledgement")
    assert (
        flood["overdue"] is True and flood["title"] == "Flooding in the Kashgar prefecture"
    )  # sent 30 hours before, Moderate: 24 h
    assert desk["overdue"] >= 1 and desk["counts"]["acknowledgements"] == 1
    kg = client_for(Account.objects.get(username="kg.health")).get("/api/v1/desk").json()
    assert {"acknowledgement", "task", "assistance_offer"} <= {item["kind"] for item in kg["items"]}
    assert kg["counts"]["acknowledgements"] == 2
    overdue_first = [i["overdue"] for i in kg["items"] if i["group"] == "acknowledgements"]
    assert overdue_first == [True, False]
    # the demo's roster call named kz.agri's profile, and kz.agri replied: nothing waits for it
    agri = client_for(Account.objects.get(username="kz.agri")).get("/api/v1/desk").json()
    assert "roster_call" not in {item["kind"] for item in agri["items"]}
    layers = kz.get("/api/v1/map.geojson").json()
    assert layers["counts"] == {"alert": 2, "incident": 1, "signal": 1, "deployment": 1}
    for feature in layers["features"]:
        assert feature["properties"]["record"] and feature["geometry"]["coordinates"]
    found = kz.get("/api/v1/search", {"q": "холера"}).json()
    assert [r["kind"] for r in found["results"]] == ["alert"]
