"""Activities across three real nodes (tests/federation/nodes.py: each `accord serve` with its own database, peered
over HTTP): an account of CN's node, its organisation on the medicine alliance's council, records an activity for
everyone and one for CN and RU only (TLP:AMBER). RU's node lists both and has both in its calendar; KZ's node lists
the first only and holds no version of the second. CN then cancels the first: RU and KZ show it cancelled, and their
calendars say STATUS CANCELLED with SEQUENCE 2, under the same UID."""

from __future__ import annotations

import http.client
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar

from tests.federation.nodes import Client, RealNode, each, real_nodes, wait

pytestmark = [pytest.mark.postgresql_pass, pytest.mark.xdist_group("work-nodes")]

TIMEOUT = 120.0
BASE = "/api/v1/alliances/medicine/activities"


def _calendar(client: Client) -> dict[str, Any]:
    connection = http.client.HTTPConnection("127.0.0.1", client.port, timeout=30)
    try:
        connection.request(
            "GET", "/api/v1/alliances/medicine/calendar.ics", headers={"Authorization": f"Bearer {client.token}"}
        )
        answer = connection.getresponse()
        assert answer.status == 200
        calendar = Calendar.from_ical(answer.read())
    finally:
        connection.close()
    return {str(e["UID"]).split("@")[0]: e for e in calendar.walk("VEVENT")}


def _listed(client: Client) -> dict[str, str]:
    answer = client.get(BASE)
    assert answer.status == 200, answer.body
    return {item["id"]: item["state"] for item in answer.body["items"]}


def _held(node: RealNode, record: str) -> int:
    rows = node.node.sql("SELECT count(*) FROM records_version WHERE record_uuid = ?", [record])
    return int(str(rows[0][0]))


def _activity(title: str, **changes: Any) -> dict[str, Any]:
    return {"type": "training", "title": {"en": title}, "starts": "2026-09-14", "ends": "2026-09-25", **changes}


def test_activities_reach_their_audience_on_other_nodes(tmp_path: Path) -> None:
    with real_nodes(tmp_path, ("CN", "RU", "KZ"), web_workers=1) as nodes:
        clients = each(lambda node: node.account(f"u-{node.member.lower()}", "expert"), nodes.values())
        cn, ru, kz = clients
        nodes["CN"].node.sql(
            "INSERT INTO alliances_alliance_council (alliance_id, organisation_id) "
            "SELECT a.id, o.id FROM alliances_alliance a, members_organisation o "
            "JOIN members_member m ON m.id = o.member_id WHERE a.slug = 'medicine' AND m.code = 'CN'"
        )
        shared = cn.post(BASE, _activity("Field epidemiology course"))
        assert shared.status == 201, shared.body
        closed = cn.post(BASE, _activity("Closed meeting", audience={"members": ["CN", "RU"]}, tlp="AMBER"))
        assert closed.status == 201, closed.body
        open_id, closed_id = shared.body["id"], closed.body["id"]

        wait("RU to list both", lambda: set(_listed(ru)) == {open_id, closed_id}, timeout=TIMEOUT)
        wait("KZ to list the shared one", lambda: open_id in _listed(kz), timeout=TIMEOUT)
        assert set(_calendar(ru)) == {open_id, closed_id}
        assert set(_calendar(kz)) == {open_id}
        assert kz.get(f"/api/v1/activities/{closed_id}").status == 404
        assert _held(nodes["KZ"], closed_id) == 0

        cancelled = cn.post(f"/api/v1/activities/{open_id}/cancel", {})
        assert cancelled.status == 200 and cancelled.body["state"] == "cancelled"
        for client in (ru, kz):

            def arrived(reader: Client = client) -> bool:
                return _listed(reader).get(open_id) == "cancelled"

            wait("the cancellation to arrive", arrived, timeout=TIMEOUT)
            event = _calendar(client)[open_id]
            assert (str(event["STATUS"]), str(event["SEQUENCE"])) == ("CANCELLED", "2")
        assert kz.post(f"/api/v1/activities/{open_id}/withdraw", {"reason": "not ours"}).status == 403
        assert _held(nodes["KZ"], closed_id) == 0
